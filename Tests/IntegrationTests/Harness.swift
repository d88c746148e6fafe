import ChirpCore
import ChirpPostgres
import ChirpService
import Foundation
import Testing

/// Paths of the repository, the built executables and the shared test data.
enum Paths {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let sharedData: URL = {
        if let override = ProcessInfo.processInfo.environment["CHIRP_SHARED_DATA"] { return URL(fileURLWithPath: override) }
        return repository.deletingLastPathComponent().appendingPathComponent("shared/data")
    }()
    static let binaries: URL = {
        if let dir = ProcessInfo.processInfo.environment["CHIRP_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        return repository.appendingPathComponent(".build/debug")
    }()

    static func binary(_ name: String) throws -> String {
        let path = binaries.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("\(path) is not built: run the tests with `make test` (it builds the executables first)")
        }
        return path
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A child process started with `posix_spawn`: output (stdout and stderr) to a file, stdin from a
/// file or /dev/null, and a clean signal state (the test runner blocks signals such as SIGTERM;
/// children must not inherit that, or they could not be stopped).
final class ChildProcess {
    let pid: pid_t
    private var exitStatus: Int32?

    init(_ executable: String, _ arguments: [String], environment: [String: String], output: String, input: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw HarnessError("cannot start \(executable): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    var isRunning: Bool {
        guard exitStatus == nil else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            exitStatus = Self.decode(status)
            return false
        }
        return true
    }

    /// Waits for the exit; the exit code, or 128 + signal number.
    @discardableResult
    func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        exitStatus = Self.decode(status)
        return exitStatus!
    }

    func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }
}

/// Runs a command to completion; returns its exit status and combined output.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: Data? = nil) throws -> (status: Int32, output: String) {
    let directory = FileManager.default.temporaryDirectory
    let outputPath = directory.appendingPathComponent("chirp-run-\(UUID().uuidString)").path
    var inputPath: String?
    if let input {
        inputPath = directory.appendingPathComponent("chirp-in-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: inputPath!, contents: input)
    }
    defer {
        try? FileManager.default.removeItem(atPath: outputPath)
        if let inputPath { try? FileManager.default.removeItem(atPath: inputPath) }
    }
    let child = try ChildProcess(executable, arguments,
                                 environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
                                 output: outputPath, input: inputPath)
    let status = child.wait()
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    return (status, output)
}

/// mosquitto, Kafka (Tansu) and PostgreSQL on free loopback ports, in a private folder, started and
/// stopped through `scripts/stack.sh` (the same recipe `make demo` uses). The schema is migrated
/// as its owner, as `chirp migrate` does before loaders start, unless `migrated` is false.
final class LocalStack {
    let state: URL
    let environment: [String: String]

    init(migrated: Bool = true) throws {
        state = FileManager.default.temporaryDirectory.appendingPathComponent("chirp-it-\(UUID().uuidString.prefix(8))")
        let base = try Self.freePortBlock(count: 5)
        let script = Paths.repository.appendingPathComponent("scripts/stack.sh").path
        let (status, output) = try run("/bin/bash", [script, "start", state.path, String(base)])
        guard status == 0 else { throw HarnessError("stack did not start:\n\(output)") }
        var environment: [String: String] = [:]
        for line in try String(contentsOf: state.appendingPathComponent("env"), encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { environment[parts[0]] = parts[1] }
        }
        self.environment = environment
        if migrated {
            do {
                try AnalyticsStore(url: environment["POSTGRES_OWNER_URL"]!).migrate()
            } catch {
                stop()
                throw HarnessError("the schema did not migrate: \(error)")
            }
        }
    }

    func stop() {
        let script = Paths.repository.appendingPathComponent("scripts/stack.sh").path
        _ = try? run("/bin/bash", [script, "stop", state.path])
        try? FileManager.default.removeItem(at: state)
    }

    /// The loader's role (chirp_writer): adds rows, reads few tables.
    var postgresURL: String { environment["POSTGRES_URL"]! }
    /// The schema's owner (chirp): migrations, recompute, and tests that look at everything.
    var ownerURL: String { environment["POSTGRES_OWNER_URL"]! }

    /// A service's MQTT user and password (`service`: SENDER or BRIDGE), as the stack wrote them.
    func mqttCredentials(_ service: String) throws -> (username: String, password: String) {
        let password = try String(contentsOfFile: environment["\(service)_MQTT_PASSWORD_FILE"]!, encoding: .utf8)
        return (environment["\(service)_MQTT_USERNAME"]!, password.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The stack's secret `name` (a file in its secrets folder: mqtt-sender, chirp_writer, …).
    func secret(_ name: String) throws -> String {
        try String(contentsOf: secretFile(name), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func secretFile(_ name: String) -> URL { state.appendingPathComponent("secrets/\(name)") }

    /// PostgreSQL's port.
    var postgresPort: String {
        get throws { try String(contentsOf: state.appendingPathComponent("pg.port"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// The sender's MQTT user and password: the one user the broker lets publish tweets.
    var senderMQTTCredentials: (username: String, password: String) {
        get throws { try mqttCredentials("SENDER") }
    }

    /// `mosquitto_pub` to the stack's broker as the sender's user, QoS 1 to `tweets`, plus `arguments`.
    func mosquittoPublish(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let (username, password) = try senderMQTTCredentials
        return try run("/usr/bin/mosquitto_pub", ["-h", "127.0.0.1", "-p", environment["MQTT_PORT"]!, "-u", username, "-P", password,
                                                  "-q", "1", "-t", "tweets"] + arguments)
    }

    /// Stops mosquitto (SIGTERM: it saves its sessions) and starts it again on the same port.
    func restartMQTT() throws {
        let script = Paths.repository.appendingPathComponent("scripts/stack.sh").path
        let (status, output) = try run("/bin/bash", [script, "restart-mqtt", state.path])
        guard status == 0 else { throw HarnessError("mosquitto did not restart:\n\(output)") }
    }

    /// Sends a signal to the Kafka broker (SIGSTOP freezes it: producers wait, unconfirmed).
    func signalKafka(_ signal: Int32) throws {
        let text = try String(contentsOf: state.appendingPathComponent("kafka.pid"), encoding: .utf8)
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, signal) == 0 else {
            throw HarnessError("cannot signal the Kafka broker (\(text))")
        }
    }

    /// A run of `count` consecutive ports that nothing listens on.
    static func freePortBlock(count: Int) throws -> Int {
        for _ in 0..<200 {
            let base = Int.random(in: 20_000...50_000)
            if (base..<(base + count)).allSatisfy(isFree) { return base }
        }
        throw HarnessError("no free port block found")
    }

    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

/// One of the services running as a child process, logging JSON lines to a file.
final class ServiceProcess {
    let name: String
    let process: ChildProcess
    let log: URL
    private(set) var httpPort = 0

    init(_ name: String, stack: LocalStack, arguments: [String] = [], environment extra: [String: String] = [:]) throws {
        self.name = name
        let instance = extra["INSTANCE_ID"].map { "-\($0)" } ?? ""
        var logName = "\(name)\(instance).log"
        var counter = 1
        while FileManager.default.fileExists(atPath: stack.state.appendingPathComponent(logName).path) {
            counter += 1
            logName = "\(name)\(instance)-\(counter).log"
        }
        log = stack.state.appendingPathComponent(logName)
        let environment = ProcessInfo.processInfo.environment
            .merging(stack.environment) { _, new in new }
            .merging(["HTTP_PORT": "0", "LOG_FORMAT": "json", "INSTANCE_ID": "it"]) { _, new in new }
            .merging(extra) { _, new in new }
        process = try ChildProcess(try Paths.binary(name), arguments, environment: environment, output: log.path)
    }

    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Waits for the "http endpoint listening" line and remembers the port.
    func waitForHTTP(timeout: Duration = .seconds(20)) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for line in logText.split(separator: "\n") where line.contains("http endpoint listening") {
                if let value = try? JSONParser.parse(String(line)), let address = value["address"]?.stringValue,
                   let port = address.split(separator: ":").last.flatMap({ Int($0) }) {
                    httpPort = port
                    return
                }
            }
            guard process.isRunning else { throw HarnessError("\(name) exited early:\n\(logText)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw HarnessError("\(name) did not start its HTTP endpoint:\n\(logText)")
    }

    /// A GET on the service's HTTP port; failing, the error tells whether the process still runs
    /// and ends with its log.
    func get(_ path: String) throws -> (status: Int, body: String) {
        do {
            return try httpGet(port: httpPort, path: path)
        } catch {
            let state = process.isRunning ? "running" : "exited with \(process.wait())"
            throw HarnessError("\(error) (\(name) \(state)); its log ends:\n\(logText.split(separator: "\n").suffix(20).joined(separator: "\n"))")
        }
    }

    func waitUntilReady(timeout: Duration = .seconds(30)) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let response = try? get("/readyz"), response.status == 200 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw HarnessError("\(name) not ready: \((try? get("/readyz").body) ?? "no answer")\n\(logText)")
    }

    /// A metric's value from /metrics (`name` may include labels).
    func metric(_ name: String) throws -> Double? {
        for line in try get("/metrics").body.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    /// The sum of a metric over all its labels.
    func metricTotal(_ name: String) throws -> Double {
        try get("/metrics").body.split(separator: "\n")
            .filter { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }

    /// SIGTERM, then waits; returns the exit status.
    @discardableResult
    func stop(timeout: Duration = .seconds(30)) -> Int32 {
        process.signal(SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        process.signal(SIGKILL)
        return process.wait()
    }
}

/// A plain HTTP GET on loopback, with the probe the services' `healthcheck` subcommand uses.
func httpGet(port: Int, path: String) throws -> (status: Int, body: String) {
    do {
        return try HealthProbe.get(host: "127.0.0.1", port: port, path: path)
    } catch {
        throw HarnessError("GET :\(port)\(path) failed: \(error)")
    }
}

/// Polls until `condition` holds or the timeout passes.
func eventually(timeout: Duration, _ what: String, _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.2)
    }
    throw HarnessError("timed out waiting for \(what)")
}

extension LocalStack {
    /// Starts services and waits until each answers /readyz with 200.
    func start(_ services: [ServiceProcess], readyWithin timeout: Duration = .seconds(40)) throws {
        for service in services {
            try service.waitForHTTP()
            try service.waitUntilReady(timeout: timeout)
        }
    }

    /// Bridge, categorizer and loader on this stack, each with its own extra environment, started
    /// and ready (stopped again if one is not); the caller stops them.
    func startPipeline(bridge bridgeEnvironment: [String: String] = [:], categorizer categorizerEnvironment: [String: String] = [:],
                       loader loaderEnvironment: [String: String] = [:]) throws -> (bridge: ServiceProcess, categorizer: ServiceProcess, loader: ServiceProcess) {
        let services = [try ServiceProcess("chirp-bridge", stack: self, environment: bridgeEnvironment),
                        try ServiceProcess("chirp-categorizer", stack: self, environment: categorizerEnvironment),
                        try ServiceProcess("chirp-loader", stack: self, environment: loaderEnvironment)]
        do {
            try start(services)
        } catch {
            for service in services { service.stop() }
            throw error
        }
        return (services[0], services[1], services[2])
    }

    /// The sender replaying `file` in the background (output in the state folder).
    func replayInBackground(_ file: String, arguments: [String]) throws -> ChildProcess {
        try ChildProcess(try Paths.binary("chirp-sender"), ["--file", file, "--http-port", "0", "--log-format", "text"] + arguments,
                         environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
                         output: state.appendingPathComponent("replay-\(UUID().uuidString.prefix(6)).log").path)
    }
}

extension PostgresConnection {
    func tweetCount() throws -> Int {
        Int(try execute("SELECT count(*) AS n FROM tweets")[0, "n"] ?? "0") ?? 0
    }
}
