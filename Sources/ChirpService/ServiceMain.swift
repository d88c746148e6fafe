import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// What every service gets: its options, logger, metrics and readiness registry.
public final class ServiceContext: Sendable {
    public let name: String
    public let options: ParsedOptions
    public let logger: Logger
    public let metrics: MetricsRegistry
    public let readiness: ReadinessRegistry

    init(name: String, options: ParsedOptions, logger: Logger) {
        self.name = name
        self.options = options
        self.logger = logger
        self.metrics = MetricsRegistry()
        self.readiness = ReadinessRegistry()
    }
}

/// Named readiness checks; `/readyz` is ready when all pass.
public final class ReadinessRegistry: Sendable {
    private let checks = Mutex<[(String, @Sendable () -> String?)]>([])

    /// `check` returns nil when fine, or the problem.
    public func add(_ name: String, _ check: @escaping @Sendable () -> String?) {
        checks.withLock { $0.append((name, check)) }
    }

    public func evaluate() -> Readiness {
        Readiness(problems: checks.withLock { $0 }.compactMap { name, check in check().map { "\(name): \($0)" } })
    }
}



/// The options every service has.
public enum CommonOptions {
    public static func specs(service: String, httpPort: Int) -> [OptionSpec] {
        [
            OptionSpec("log-level", env: "LOG_LEVEL", default: "info", help: "trace, debug, info, notice, warning, error or critical."),
            OptionSpec("log-format", env: "LOG_FORMAT", default: "json", help: "json (one object per line) or text."),
            OptionSpec("http-host", env: "HTTP_HOST", default: "127.0.0.1", help: "Address of the /healthz, /readyz and /metrics endpoint (0.0.0.0 in containers)."),
            OptionSpec("http-port", env: "HTTP_PORT", default: String(httpPort), help: "Port of that endpoint; 0 picks a free one."),
            OptionSpec("instance-id", env: "INSTANCE_ID", default: "", help: "Stable name of this instance (Kafka client id, MQTT client id); default: the host name."),
            .secret("kafka-config", env: "KAFKA_CONFIG", default: "", whole: false, help: "Extra librdkafka properties, key=value,… (TLS/SASL settings, tuning); applied after the built-in defaults. In a file, one key=value per line (values may hold commas; # starts a comment). Ignored by services without Kafka."),
        ]
    }
}

/// A subcommand: runs to completion and returns an exit code.
public struct Subcommand: Sendable {
    public var name: String
    public var summary: String
    public var run: @Sendable (_ arguments: [String]) async -> Int32

    public init(name: String, summary: String, run: @escaping @Sendable (_ arguments: [String]) async -> Int32) {
        self.name = name
        self.summary = summary
        self.run = run
    }

    /// A subcommand with its own options: `--help` prints them; a usage or run error is printed as
    /// `<command>: <error>` on stderr with exit status 64; otherwise `body`'s status is returned.
    public init(
        name: String, summary: String, command: String, operands: String = "", help: String, specs: [OptionSpec],
        body: @escaping @Sendable (ParsedOptions) async throws -> Int32
    ) {
        self.init(name: name, summary: summary) { arguments in
            if arguments.contains("--help") {
                print(OptionsHelp.text(usage: "\(command) [options]\(operands.isEmpty ? "" : " " + operands)", summary: help, specs: specs))
                return 0
            }
            do {
                return try await body(try ParsedOptions.parse(arguments, specs: specs, environment: ProcessInfo.processInfo.environment))
            } catch {
                FileHandle.standardError.write(Data("\(command): \(error)\n".utf8))
                return 64
            }
        }
    }
}

/// The shared `main` of every service executable: parses options (flags, then environment, then
/// defaults), sets up logging, serves health and metrics, runs the services in a `ServiceGroup`
/// that shuts down gracefully on SIGTERM/SIGINT, and maps the outcome to an exit code.
public enum ServiceMain {
    public static func run(
        name: String, summary: String, specs: [OptionSpec], httpPort: Int,
        subcommands: [Subcommand] = [],
        makeServices: @Sendable (ServiceContext) async throws -> [any Service]
    ) async -> Never {
        tuneMalloc(arenas: 2, mmapThreshold: 256 * 1024)
        let allSpecs = CommonOptions.specs(service: name, httpPort: httpPort) + specs
        var arguments = Array(CommandLine.arguments.dropFirst())
        let environment = ProcessInfo.processInfo.environment

        // Subcommands: `healthcheck` for every service, plus the service's own.
        let healthcheck = Subcommand(name: "healthcheck", summary: "Exit 0 if this service's /readyz answers 200 (for container healthchecks).") { args in
            do {
                let parsed = try ParsedOptions.parse(args, specs: allSpecs, environment: environment)
                let (status, body) = try HealthProbe.get(host: parsed.string("http-host") ?? "127.0.0.1", port: try parsed.int("http-port"), path: "/readyz")
                print(body.trimmingCharacters(in: .whitespacesAndNewlines))
                return status == 200 ? 0 : 1
            } catch {
                FileHandle.standardError.write(Data("healthcheck: \(error)\n".utf8))
                return 1
            }
        }
        let commands = [healthcheck] + subcommands
        if let first = arguments.first, let command = commands.first(where: { $0.name == first }) {
            arguments.removeFirst()
            exit(await command.run(arguments))
        }
        if arguments.contains("--help") || arguments.contains("-h") {
            let footer = "SUBCOMMANDS:\n" + commands.map { "  \($0.name)\n      \($0.summary)" }.joined(separator: "\n")
            print(OptionsHelp.text(usage: "\(name) [options] | \(name) <subcommand> [options]", summary: summary, specs: allSpecs, footer: footer))
            exit(0)
        }
        if arguments.contains("--help-markdown") {
            print(OptionsHelp.markdown(specs: specs))  // this service's own options (the docs' tables)
            exit(0)
        }
        if arguments.contains("--help-markdown-common") {
            print(OptionsHelp.markdown(specs: CommonOptions.specs(service: name, httpPort: httpPort)))
            exit(0)
        }

        let options: ParsedOptions
        let logger: Logger
        do {
            options = try ParsedOptions.parse(arguments, specs: allSpecs, environment: environment)
            guard let format = StdoutLogHandler.Format(rawValue: options.string("log-format") ?? "json") else {
                throw UsageError("--log-format must be json or text")
            }
            guard let level = Logger.Level(rawValue: options.string("log-level") ?? "info") else {
                throw UsageError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
            LoggingSystem.bootstrap { _ in StdoutLogHandler(service: name, format: format, level: level) }
            logger = Logger(label: name)
        } catch {
            FileHandle.standardError.write(Data("\(name): \(error)\nRun '\(name) --help' for the options.\n".utf8))
            exit(64)
        }

        let context = ServiceContext(name: name, options: options, logger: logger)
        // Health answers from the start, but the service's own readiness checks exist only once
        // its services are made: until then /readyz says so rather than "ready" with no checks.
        let made = AtomicFlag()
        context.readiness.add("startup") { made.value ? nil : "starting" }
        let health = HealthServer(
            host: options.string("http-host") ?? "127.0.0.1", port: (try? options.int("http-port")) ?? httpPort,
            metrics: context.metrics, logger: logger, readiness: { context.readiness.evaluate() }
        )
        do {
            try health.start()
            logger.info("starting", metadata: ["options": "\(options.redactedSummary)"])
            let services = try await makeServices(context)
            made.set(true)
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(
                services: services.map {
                    .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                          failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
            try await group.run()
            health.stop()
            logger.info("stopped")
            exit(0)
        } catch let error as UsageError {
            logger.critical("\(error.message)")
            exit(64)
        } catch {
            logger.critical("failed", metadata: ["error": "\(error)"])
            health.stop()
            exit(1)
        }
    }

    /// Two glibc malloc settings that keep a service's resident memory near what it uses.
    /// `mallopt` is not in Swift's Glibc module, so it is looked up by name; each setting's
    /// environment variable, when set, wins.
    /// - Arenas (M_ARENA_MAX, -8): librdkafka and libmosquitto run many threads, and glibc gives
    ///   each its own arena, which inflates RSS for nothing.
    /// - The mmap threshold (M_MMAP_THRESHOLD, -3): glibc raises it to the size of every large
    ///   block freed, so after the first batches the 1–2 MB buffers (Kafka fetches, batches
    ///   encoded for COPY) come from the heap and leave it fragmented; fixed at 256 KB they are
    ///   mapped and unmapped whole (measured: the loader draining a backlog peaked at 52–55 MB
    ///   instead of 59–62, the categorizer at 51 instead of 55).
    static func tuneMalloc(arenas: Int32, mmapThreshold: Int32) {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let environment = ProcessInfo.processInfo.environment
        if environment["MALLOC_ARENA_MAX"] == nil { _ = mallopt(-8, arenas) }
        if environment["MALLOC_MMAP_THRESHOLD_"] == nil { _ = mallopt(-3, mmapThreshold) }
    }

    /// The instance id: the flag/env value, or the host name.
    public static func instanceId(_ options: ParsedOptions) -> String {
        let value = options.string("instance-id") ?? ""
        return value.isEmpty ? ProcessInfo.processInfo.hostName : value
    }
}
