import ChirpCore
import ChirpService
import Foundation

/// A failure of a `chirp` command, with its exit status.
enum CLIError: Error, CustomStringConvertible {
    /// Bad options or time expressions: status 64.
    case usage(String)
    /// The database could not be reached or refused the statement: status 1.
    case database(String)
    /// The question has no answer in the data: status 3.
    case empty(String)

    var description: String {
        switch self {
        case .usage(let m), .database(let m), .empty(let m): return m
        }
    }

    var status: Int32 {
        switch self {
        case .usage: return 64
        case .database: return 1
        case .empty: return 3
        }
    }
}

/// One `chirp` subcommand: its options and what it does with them.
struct Command: Sendable {
    var name: String
    var summary: String
    var specs: [OptionSpec]
    var run: @Sendable (ParsedOptions) throws -> Void
}

/// chirp: the analytics store's command line. Questions (`trends`, `categories`, `languages`,
/// `totals`, `tail`) use the read-only role; `recompute`, `verify` and `migrate` the writer role.
@main
struct ChirpMain {
    static let commands: [Command] = [
        Commands.trends, Commands.categories, Commands.languages, Commands.totals, Commands.tail,
        Commands.recompute, Commands.verify, Commands.migrate,
    ]

    static let overview = """
        chirp — questions to the Chirpstream analytics store (PostgreSQL).

        USAGE: chirp <command> [options]      chirp <command> --help

        COMMANDS:
        \(commands.map { "  \($0.name.padding(toLength: 12, withPad: " ", startingAt: 0))\($0.summary)" }.joined(separator: "\n"))

        Times (--from, --to, --since, --now): now, now-2h, 2h ago, 2026-11-16T07:00:00Z, a local time in
        --tz (2026-11-16 07:00, 07:00), today, yesterday, [last] monday, each with an optional HH:MM.
        Durations (--last): 90s, 15m, 1h, 1h30m, 24h, 7d.
        Exit status: 0 answered, 1 database error, 3 nothing in the window, 64 usage error.
        """

    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, !name.hasPrefix("-") else {
            if arguments.contains("--help-markdown") {
                print(commands.map { command in
                    "#### `chirp \(command.name)`\n\n\(command.summary)\n\n\(OptionsHelp.markdown(specs: command.specs).trimmingCharacters(in: .whitespacesAndNewlines))"
                }.joined(separator: "\n\n"))
                exit(0)
            }
            print(overview)
            exit(arguments.contains("--help") || arguments.contains("-h") ? 0 : 64)
        }
        guard let command = commands.first(where: { $0.name == name }) else {
            FileHandle.standardError.write(Data("chirp: unknown command '\(name)'\n\n\(overview)\n".utf8))
            exit(64)
        }
        arguments.removeFirst()
        if arguments.contains("--help") || arguments.contains("-h") {
            print(OptionsHelp.text(usage: "chirp \(command.name) [options]", summary: command.summary, specs: command.specs))
            exit(0)
        }
        do {
            let options = try ParsedOptions.parse(arguments, specs: command.specs, environment: ProcessInfo.processInfo.environment)
            try command.run(options)
            exit(0)
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("chirp \(command.name): \(error)\n".utf8))
            exit(error.status)
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("chirp \(command.name): \(error)\nRun 'chirp \(command.name) --help' for the options.\n".utf8))
            exit(64)
        } catch let error as TimeExpressionError {
            FileHandle.standardError.write(Data("chirp \(command.name): \(error)\n".utf8))
            exit(64)
        } catch {
            FileHandle.standardError.write(Data("chirp \(command.name): \(error)\n".utf8))
            exit(1)
        }
    }
}
