import CLibPQ
import Glibc

/// A PostgreSQL error: the SQLSTATE (when the server sent one) and the message.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public var sqlState: String?
    public var message: String

    public init(sqlState: String?, message: String) {
        self.sqlState = sqlState
        self.message = message
    }

    /// Deadlocks and serialization failures: the transaction can simply be run again.
    public var isRetryable: Bool { sqlState == "40P01" || sqlState == "40001" }
    /// The data itself was refused (class 22 data exception, class 23 integrity violation, class
    /// 54 program limit exceeded: a value too large for an index entry, say).
    public var isDataError: Bool {
        sqlState?.hasPrefix("22") == true || sqlState?.hasPrefix("23") == true || sqlState?.hasPrefix("54") == true
    }
    /// The connection is gone (class 08) or the server is shutting down (57P01…).
    public var isConnectionFailure: Bool {
        sqlState == nil || sqlState?.hasPrefix("08") == true || sqlState?.hasPrefix("57P") == true
    }

    public var description: String { sqlState.map { "\($0): \(message)" } ?? message }
}

/// Rows of a result in text format.
public struct PostgresRows: Sendable {
    public var columns: [String]
    public var rows: [[String?]]
    /// `PQcmdTuples`: rows affected by INSERT/UPDATE/DELETE/COPY.
    public var affected: Int

    public subscript(row: Int, column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }
}

/// One libpq connection; the only owner of its `PGconn`. Not thread-safe: it lives on the
/// thread that uses it (libpq calls block).
///
/// Queries either block (`execute`, `copyIn`) or are sent and answered later (`send`, then
/// `awaitResults`), so the caller can work while the server does. In between the connection is
/// `.awaitingResults` and takes nothing else.
/// Not `Sendable`: created on the thread that uses it and never handed to another, as libpq
/// requires of a `PGconn`.
public final class PostgresConnection {
    private let connection: OpaquePointer
    public let connectionString: String

    public enum State: Sendable, Equatable {
        /// Ready for the next query.
        case idle
        /// `send` went out; `awaitResults` must come next.
        case awaitingResults
    }

    public private(set) var state = State.idle

    /// Connects with a libpq connection string (`postgresql://user@host:port/db` or `key=value …`).
    public init(_ connectionString: String) throws(PostgresError) {
        self.connectionString = connectionString
        guard let connection = PQconnectdb(connectionString) else {
            throw PostgresError(sqlState: nil, message: "PQconnectdb returned no connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(sqlState: nil, message: "cannot connect: \(message)")
        }
        self.connection = connection
        _ = try? execute("SET client_min_messages = warning")
    }

    deinit {
        PQfinish(connection)
    }

    private static func trimmed(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        var string = String(cString: text)
        while string.last?.isNewline == true { string.removeLast() }
        return string
    }

    public var isConnected: Bool { PQstatus(connection) == CONNECTION_OK }

    /// Inside a transaction block (failed or not), when idle.
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(connection)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Re-establishes a broken connection (whatever was in flight is gone).
    public func reset() throws(PostgresError) {
        state = .idle
        PQreset(connection)
        guard isConnected else {
            throw PostgresError(sqlState: nil, message: "reconnect failed: \(Self.trimmed(PQerrorMessage(connection)))")
        }
    }

    // MARK: Queries

    /// Runs one statement with text parameters (`$1`, `$2`, …); nil is SQL NULL. Without
    /// parameters the text may hold several statements (migrations); the last result is returned.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> PostgresRows {
        precondition(state == .idle, "query while results are awaited")
        if parameters.isEmpty { return try consume(PQexec(connection, sql)) }
        let result = withCStrings(parameters) { values in
            PQexecParams(connection, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Sends statements (no parameters; several may be separated by semicolons) without waiting
    /// for them: collect their results with `awaitResults` before anything else. If one fails,
    /// the server skips the rest of the text.
    public func send(_ sql: String) throws(PostgresError) {
        precondition(state == .idle, "send while results are awaited")
        guard PQsendQuery(connection, sql) == 1 else {
            throw PostgresError(sqlState: nil, message: Self.trimmed(PQerrorMessage(connection)))
        }
        state = .awaitingResults
    }

    /// Waits for the results of what `send` sent, one per statement; throws the first error
    /// (after reading everything, so the connection is idle again either way).
    public func awaitResults() throws(PostgresError) -> [PostgresRows] {
        precondition(state == .awaitingResults, "no results awaited")
        defer { state = .idle }
        var results: [PostgresRows] = []
        var failure: PostgresError?
        while let result = PQgetResult(connection) {
            do {
                results.append(try consume(result))
            } catch {
                if failure == nil { failure = error }
            }
        }
        if let failure { throw failure }
        if !isConnected { throw PostgresError(sqlState: nil, message: Self.trimmed(PQerrorMessage(connection))) }
        return results
    }

    /// Whether the server has answered what `send` sent, so that `awaitResults` would not wait
    /// for it to work (the last result may still be on its way). Reads what has arrived without
    /// blocking; true also when the connection broke, which `awaitResults` then reports.
    public func hasResults() -> Bool {
        precondition(state == .awaitingResults, "no results awaited")
        guard PQconsumeInput(connection) == 1 else { return true }
        return PQisBusy(connection) == 0
    }

    /// Prepares a named statement for `executePrepared`.
    public func prepare(name: String, sql: String) throws(PostgresError) {
        precondition(state == .idle, "prepare while results are awaited")
        try consume(PQprepare(connection, name, sql, 0, nil))
    }

    @discardableResult
    public func executePrepared(_ name: String, _ parameters: [String?] = []) throws(PostgresError) -> PostgresRows {
        precondition(state == .idle, "query while results are awaited")
        let result = withCStrings(parameters) { values in
            PQexecPrepared(connection, name, Int32(parameters.count), values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs `body` inside BEGIN/COMMIT; rolls back when it throws.
    public func transaction<T>(_ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// `COPY … FROM STDIN` with the given data, in the format the statement names.
    @discardableResult
    public func copyIn(_ sql: String, data: [UInt8]) throws(PostgresError) -> Int {
        precondition(state == .idle, "COPY while results are awaited")
        try consume(PQexec(connection, sql), expecting: PGRES_COPY_IN)
        let sent = data.withUnsafeBufferPointer { buffer -> Int32 in
            var offset = 0
            let chunk = 1 << 20
            while offset < buffer.count {
                let size = min(chunk, buffer.count - offset)
                let rc = buffer.baseAddress!.advanced(by: offset).withMemoryRebound(to: CChar.self, capacity: size) {
                    PQputCopyData(connection, $0, Int32(size))
                }
                if rc != 1 { return rc }
                offset += size
            }
            return 1
        }
        let ended = PQputCopyEnd(connection, sent == 1 ? nil : "client failed to send data")
        guard ended == 1 else {
            throw PostgresError(sqlState: nil, message: "COPY end failed: \(Self.trimmed(PQerrorMessage(connection)))")
        }
        // Drain, whether the COPY succeeded or not: it returns one final result, then NULL, and
        // until NULL is read the connection is busy (a failed COPY would then look like no
        // transaction at all, and the caller would not roll it back).
        defer { while let extra = PQgetResult(connection) { PQclear(extra) } }
        return try consume(PQgetResult(connection)).affected
    }

    // MARK: Results

    private func withCStrings<R>(_ values: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let pointers: [UnsafeMutablePointer<CChar>?] = values.map { $0.flatMap { strdup($0) } }
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers.map { $0.map { UnsafePointer($0) } })
    }

    @discardableResult
    private func consume(_ result: OpaquePointer?, expecting expected: ExecStatusType? = nil) throws(PostgresError) -> PostgresRows {
        guard let result else {
            throw PostgresError(sqlState: nil, message: Self.trimmed(PQerrorMessage(connection)))
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        if let expected {
            guard status == expected else { throw error(from: result) }
            return PostgresRows(columns: [], rows: [], affected: 0)
        }
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            break
        default:
            throw error(from: result)
        }
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for r in 0..<rowCount {
            rows.append((0..<columnCount).map { c in
                PQgetisnull(result, Int32(r), Int32(c)) == 1 ? nil : String(cString: PQgetvalue(result, Int32(r), Int32(c)))
            })
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, rows: rows, affected: affected)
    }

    private func error(from result: OpaquePointer) -> PostgresError {
        let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        var message = Self.trimmed(PQresultErrorMessage(result))
        if message.hasPrefix("ERROR:  ") { message.removeFirst(8) }
        if message.isEmpty { message = Self.trimmed(PQerrorMessage(connection)) }
        return PostgresError(sqlState: sqlState, message: message)
    }
}
