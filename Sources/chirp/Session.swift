import ChirpCore
import ChirpPostgres
import ChirpService
import ChirpStore
import Foundation

/// Options every question shares.
enum SharedOptions {
    static let readerURL = OptionSpec.secret(
        "postgres-url", env: "CHIRP_POSTGRES_URL", default: "postgresql://chirp_reader@127.0.0.1:5432/chirp", whole: false,
        help: "libpq connection string of the analytics database (the read-only role is enough).")
    static let ownerURL = OptionSpec.secret(
        "postgres-url", env: "POSTGRES_OWNER_URL", default: "postgresql://chirp@127.0.0.1:5432/chirp", whole: false,
        help: "libpq connection string of the analytics database as the schema's owner (role chirp).")
    static let tz = OptionSpec("tz", env: "CHIRP_TZ", default: "UTC", help: "Time zone for times read and shown: an IANA name (Europe/Berlin), UTC or an offset (+05:30).")
    static let json = OptionSpec.switch("json", env: "CHIRP_JSON", help: "Print JSON instead of a table.")
    static let now = OptionSpec("now", env: "CHIRP_NOW", default: "now", help: "The time windows end at (default the clock; set it to look at replayed old data).")
    static let last = OptionSpec("last", env: "CHIRP_LAST", default: "", help: "Window length ending now: 90s, 15m, 1h, 24h, 7d.")
    static let from = OptionSpec("from", env: "CHIRP_FROM", default: "", help: "Window start (a time; see chirp --help).")
    static let to = OptionSpec("to", env: "CHIRP_TO", default: "", help: "Window end, exclusive (default now).")

    static let question = [readerURL, tz, json, now]
    static let window = [last, from, to]
}

/// What every question needs: the zone, "now", the window and a read-only session.
struct Question {
    let options: ParsedOptions
    let zone: any ZoneRules
    let now: Timestamp
    let json: Bool

    init(_ options: ParsedOptions) throws {
        self.options = options
        zone = try SystemZone.named(options.string("tz") ?? "UTC")
        now = try TimeExpression.instant(options.string("now") ?? "now", now: .now, zone: zone)
        json = try options.bool("json")
    }

    func window(defaultLast: String) throws -> TimeWindow {
        func value(_ flag: String) -> String? { options.string(flag).flatMap { $0.isEmpty ? nil : $0 } }
        return try TimeWindow.resolve(last: value("last"), from: value("from"), to: value("to"), defaultLast: defaultLast, now: now, zone: zone)
    }

    func local(_ ms: Int64) -> String { LocalDateTime(Timestamp(millisecondsSinceEpoch: ms), in: zone).description }

    func connect(readOnly: Bool = true) throws -> PostgresConnection {
        try Session.connect(options.string("postgres-url") ?? "", readOnly: readOnly)
    }

    /// The message for an empty answer, with where the data is.
    func emptyMessage(_ what: String, _ window: TimeWindow, _ connection: PostgresConnection) -> String {
        var message = "no \(what) between \(window.describe(in: zone))"
        if let extent = try? connection.execute(TrendQueries.extent), let first = extent[0, "first_ms"].flatMap({ Int64($0) }),
           let last = extent[0, "last_ms"].flatMap({ Int64($0) }) {
            message += "; the store holds tweets from \(local(first)) to \(local(last)) \(zone.identifier) (use --from/--to or --now)"
        } else {
            message += "; the store holds no tweets yet"
        }
        return message
    }

    /// The members every JSON answer starts with.
    func header(_ window: TimeWindow) -> [(String, JSONValue)] {
        [("from", .string(window.from.iso8601)), ("to", .string(window.to.iso8601)), ("tz", .string(zone.identifier))]
    }

    func print(json value: JSONValue) {
        Swift.print(String(decoding: value.serialized, as: UTF8.self))
    }
}

enum Session {
    /// Opens a session with UTC buckets; questions run read-only.
    static func connect(_ url: String, readOnly: Bool) throws -> PostgresConnection {
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection(url)
            try connection.execute("SET TIME ZONE 'UTC'")
            if readOnly { try connection.execute("SET default_transaction_read_only = on") }
        } catch {
            throw connectionFailed(url, error)
        }
        return connection
    }

    /// The writer's store (migrations, recompute).
    static func store(_ url: String) throws -> AnalyticsStore {
        do {
            return try AnalyticsStore(url: url)
        } catch {
            throw connectionFailed(url, error)
        }
    }

    /// Runs a statement; turns PostgreSQL's refusals into messages with a hint.
    static func run(_ connection: PostgresConnection, _ query: Query) throws -> PostgresRows {
        do {
            return try connection.execute(query.sql, query.parameters)
        } catch {
            throw explain(error)
        }
    }

    static func explain(_ error: PostgresError) -> CLIError {
        let message = error.message.trimmingCharacters(in: .whitespacesAndNewlines)
        switch error.sqlState {
        case "42P01": return .database("\(message) (is the schema there? run chirp migrate as the schema's owner)")
        case "42501", "25006": return .database("\(message) (this needs the schema's owner: --postgres-url / POSTGRES_OWNER_URL)")
        default: return .database(message)
        }
    }

    /// The URL without its password.
    /// The error for a database that cannot be reached, its URL's secrets masked.
    static func connectionFailed(_ url: String, _ error: PostgresError) -> CLIError {
        .database("cannot connect to PostgreSQL at \(Secrets.redact(url)): \(error.message.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
}

extension PostgresRows {
    func int(_ row: Int, _ column: String) -> Int64 { self[row, column].flatMap { Int64($0) } ?? 0 }
    func string(_ row: Int, _ column: String) -> String { self[row, column] ?? "" }
}

func number(_ value: Int64) -> JSONValue { .number(String(value)) }
func object(_ members: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(members.map { (key: $0.0, value: $0.1) })) }
