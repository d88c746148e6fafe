import Foundation

/// One command-line option with its environment-variable fallback.
///
/// Resolution order: `--flag value` (or `--flag=value`), then the environment variable, then the
/// default. The same spec renders `--help` and the configuration tables in docs/, so the three
/// can't drift apart.
public struct OptionSpec: Sendable {
    public var flag: String
    public var env: String
    public var defaultValue: String?
    public var help: String
    /// A switch takes no value: present means "true".
    public var isSwitch: Bool
    /// The value is or contains a secret (a password, a URL with one, client credentials): it may
    /// come from the file named by `<env>_FILE` (Docker secrets), and a placeholder from an
    /// example file (`change-me…`) is refused.
    public var carriesSecret = false
    /// The whole value is the secret (a password): never shown. Otherwise (a URL, settings) only
    /// the secrets in it are masked.
    public var isWholeSecret = false

    public init(_ flag: String, env: String, default defaultValue: String? = nil, help: String) {
        self.flag = flag
        self.env = env
        self.defaultValue = defaultValue
        self.help = help
        self.isSwitch = false
    }

    /// An option whose value is a secret (`whole`) or contains secrets (see `carriesSecret`).
    public static func secret(_ flag: String, env: String, default defaultValue: String? = nil, whole: Bool, help: String) -> OptionSpec {
        var spec = OptionSpec(flag, env: env, default: defaultValue, help: help + " Also read from the file named by \(env)_FILE.")
        spec.carriesSecret = true
        spec.isWholeSecret = whole
        return spec
    }

    public static func `switch`(_ flag: String, env: String, help: String) -> OptionSpec {
        var spec = OptionSpec(flag, env: env, default: "false", help: help)
        spec.isSwitch = true
        return spec
    }
}

/// A usage error: unknown flag, missing value, bad number. Printed with the help hint, exit 64.
public struct UsageError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Parsed option values.
public struct ParsedOptions: Sendable {
    public private(set) var values: [String: String]
    /// Where each value came from, for the start-up log line ("flag", "env", "default").
    public private(set) var sources: [String: String]
    /// Arguments that are not options (file names, subcommands' operands).
    public private(set) var positional: [String]
    public let specs: [OptionSpec]

    /// `readFile` reads the files `<env>_FILE` variables name (nil when it cannot).
    public static func parse(_ arguments: [String], specs: [OptionSpec], environment: [String: String],
                             readFile: (String) -> String? = ParsedOptions.readSecretFile) throws(UsageError) -> ParsedOptions {
        var values: [String: String] = [:]
        var sources: [String: String] = [:]
        var positional: [String] = []
        let byFlag = Dictionary(specs.map { ($0.flag, $0) }, uniquingKeysWith: { first, _ in first })
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                if argument == "--" {
                    positional.append(contentsOf: arguments[index...])
                    break
                }
                positional.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let spec = byFlag[name] else { throw UsageError("unknown option --\(name)") }
            if spec.isSwitch {
                values[name] = inlineValue ?? "true"
            } else if let inlineValue {
                values[name] = inlineValue
            } else {
                guard index < arguments.count else { throw UsageError("--\(name) needs a value") }
                values[name] = arguments[index]
                index += 1
            }
            sources[name] = "flag"
        }
        for spec in specs where values[spec.flag] == nil {
            if let fromEnvironment = environment[spec.env], !fromEnvironment.isEmpty {
                values[spec.flag] = fromEnvironment
                sources[spec.flag] = "env"
            } else if spec.carriesSecret, let path = environment[spec.env + "_FILE"], !path.isEmpty {
                guard let text = readFile(path) else { throw UsageError("\(spec.env)_FILE: cannot read '\(path)'") }
                // A file's last line ends with a newline that is no part of the secret.
                values[spec.flag] = text.hasSuffix("\n") ? String(text.dropLast(text.hasSuffix("\r\n") ? 2 : 1)) : text
                sources[spec.flag] = "file"
            } else if let fallback = spec.defaultValue {
                values[spec.flag] = fallback
                sources[spec.flag] = "default"
            }
        }
        for spec in specs where spec.carriesSecret {
            guard let value = values[spec.flag], !value.isEmpty else { continue }
            let problem = Secrets.placeholderProblem(value) ?? Secrets.urlShapeProblem(value)
                ?? Secrets.urlPassword(value).flatMap(Secrets.placeholderProblem) ?? Secrets.settingsPlaceholderProblem(value)
            if let problem { throw UsageError("--\(spec.flag) (\(spec.env)) \(problem)") }
        }
        return ParsedOptions(values: values, sources: sources, positional: positional, specs: specs)
    }

    /// The contents of a secret file, nil when it cannot be read.
    public static func readSecretFile(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Every value as `key=value(source)`, with secrets masked: for the start-up log line.
    public var redactedSummary: String {
        values.sorted { $0.key < $1.key }.map { key, value in
            let spec = specs.first { $0.flag == key }
            let shown = spec?.isWholeSecret == true && !value.isEmpty ? Secrets.mask : Secrets.redact(value)
            return "\(key)=\(shown)(\(sources[key] ?? "?"))"
        }.joined(separator: " ")
    }

    /// The environment variable of option `flag`.
    public func environmentName(_ flag: String) -> String? { specs.first { $0.flag == flag }?.env }

    public func string(_ flag: String) -> String? { values[flag] }

    public func required(_ flag: String) throws(UsageError) -> String {
        guard let value = values[flag], !value.isEmpty else {
            let env = specs.first { $0.flag == flag }?.env ?? ""
            throw UsageError("--\(flag) (or \(env)) is required")
        }
        return value
    }

    public func int(_ flag: String) throws(UsageError) -> Int {
        let text = try required(flag)
        guard let value = Int(text) else { throw UsageError("--\(flag) must be a whole number, got '\(text)'") }
        return value
    }

    public func double(_ flag: String) throws(UsageError) -> Double {
        let text = try required(flag)
        guard let value = Double(text), value.isFinite else { throw UsageError("--\(flag) must be a number, got '\(text)'") }
        return value
    }

    public func bool(_ flag: String) throws(UsageError) -> Bool {
        switch (values[flag] ?? "false").lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off", "": return false
        case let other: throw UsageError("--\(flag) must be true or false, got '\(other)'")
        }
    }
}

/// Renders help text and documentation tables from specs.
public enum OptionsHelp {
    public static func text(usage: String, summary: String, specs: [OptionSpec], footer: String = "") -> String {
        var lines = ["USAGE: \(usage)", "", summary, "", "OPTIONS (flag, environment variable, default):"]
        for spec in specs {
            let head = spec.isSwitch ? "--\(spec.flag)" : "--\(spec.flag) <value>"
            let defaultText = spec.defaultValue.map { $0.isEmpty ? "" : " (default: \($0))" } ?? ""
            lines.append("  \(head)")
            lines.append("      $\(spec.env)\(spec.isSwitch ? "" : defaultText)")
            lines.append("      \(spec.help)")
        }
        lines.append("  --help")
        lines.append("      Show this help.")
        if !footer.isEmpty {
            lines.append("")
            lines.append(footer)
        }
        return lines.joined(separator: "\n")
    }

    /// A Markdown table for the docs (scripts/update-option-tables.py).
    public static func markdown(specs: [OptionSpec]) -> String {
        var lines = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
        for spec in specs {
            let defaultText = spec.defaultValue.map { $0.isEmpty ? "" : "`\($0)`" } ?? ""
            lines.append("| `--\(spec.flag)` | `\(spec.env)` | \(defaultText) | \(spec.help) |")
        }
        return lines.joined(separator: "\n")
    }
}
