import ChirpCore
import ChirpStore
import Foundation

/// The loader's and CLI's view of PostgreSQL: migrations and batch loading.
/// Owns one connection; lives on the thread that uses it (not `Sendable`).
public final class AnalyticsStore {
    public let connection: PostgresConnection
    private var stagingReady = false
    private var rawDaysReady: Set<Int64> = []

    public init(url: String) throws(PostgresError) {
        connection = try PostgresConnection(url)
        try connection.execute(Self.sessionSetup)
    }

    /// Hours and minutes of the rollups are UTC buckets, whatever the server's default zone.
    static let sessionSetup = "SET TIME ZONE 'UTC'"

    /// Applies pending migrations, each in its own transaction, under an advisory lock so that
    /// several loaders starting together migrate once. Returns the versions applied.
    @discardableResult
    public func migrate() throws(PostgresError) -> [Int] {
        // Every step holds the migrations' advisory lock: loaders starting together on a new
        // database would otherwise race on CREATE TABLE IF NOT EXISTS and GRANT, and all but one
        // fail ("duplicate key value violates unique constraint pg_type_typname_nsp_index").
        try lockedTransaction { () throws(PostgresError) in try connection.execute(Migrations.createLedger) }
        var applied: [Int] = []
        for migration in Migrations.all {
            let ran: Bool = try connection.transaction { () throws(PostgresError) -> Bool in
                try connection.execute("SELECT pg_advisory_xact_lock($1::bigint)", [String(Migrations.advisoryLockKey)])
                let existing = try connection.execute("SELECT 1 FROM chirp_migrations WHERE version = $1::integer", [String(migration.version)])
                guard existing.rows.isEmpty else { return false }
                try connection.execute(migration.sql)
                try connection.execute("INSERT INTO chirp_migrations (version, name) VALUES ($1::integer, $2)", [String(migration.version), migration.name])
                return true
            }
            if ran { applied.append(migration.version) }
        }
        try lockedTransaction { () throws(PostgresError) in try connection.execute(Migrations.grants) }
        return applied
    }

    private func lockedTransaction(_ body: () throws(PostgresError) -> Void) throws(PostgresError) {
        try connection.transaction { () throws(PostgresError) in
            try connection.execute("SELECT pg_advisory_xact_lock($1::bigint)", [String(Migrations.advisoryLockKey)])
            try body()
        }
    }

    public func schemaVersion() throws(PostgresError) -> Int {
        let rows = try connection.execute("SELECT coalesce(max(version), 0) AS v FROM chirp_migrations")
        return Int(rows[0, "v"] ?? "0") ?? 0
    }

    /// The schema version as a role that did not make the schema sees it: 0 while there is no
    /// ledger yet, or no privilege on it yet (the grants come last in a migration run).
    public func visibleSchemaVersion() throws(PostgresError) -> Int {
        do {
            return try schemaVersion()
        } catch where error.sqlState == "42P01" || error.sqlState == "42501" {
            return 0
        }
    }

    /// Loads one batch in one transaction: facts, hashtags, rollups for new rows only, and the
    /// consumed offsets. Returns how many tweets were new.
    public func load(_ batch: TweetBatch, consumerGroup: String) throws(PostgresError) -> Int {
        try beginLoad(batch, consumerGroup: consumerGroup)
        return try finishLoad()
    }

    /// Whether a load was begun and not yet finished.
    public var isLoading: Bool { connection.state == .awaitingResults }

    /// Whether the database is free for the next batch: no load begun, or the one begun is done
    /// (`finishLoad` will not wait for the server). Does not block.
    public var isFree: Bool { !isLoading || connection.hasResults() }

    /// The first half of `load`: opens the transaction, copies the batch in, stores the offsets,
    /// and sends the statement that moves the rows into the tables, with COMMIT, without waiting
    /// for them. Until `finishLoad`, the caller may do anything but use this store.
    public func beginLoad(_ batch: TweetBatch, consumerGroup: String) throws(PostgresError) {
        if !stagingReady {
            try connection.execute(TweetBatch.createStaging)
            stagingReady = true
        }
        for day in batch.rawDays.subtracting(rawDaysReady).sorted() {
            try connection.execute("SELECT chirp_raw_partition(date '1970-01-01' + $1::integer)", [String(day)])
            rawDaysReady.insert(day)
        }
        try connection.execute("BEGIN")
        do {
            if batch.count > 0 {
                try connection.copyIn(TweetBatch.copyStaging, data: batch.copy.bytes)
            }
            for (topic, partitions) in batch.nextOffsets {
                for (partition, next) in partitions.sorted(by: { $0.key < $1.key }) {
                    try connection.execute(TweetBatch.storeOffset, [consumerGroup, topic, String(partition), String(next)])
                }
            }
            try connection.send(batch.count > 0 ? TweetBatch.insertFromStaging + ";\nCOMMIT" : "COMMIT")
        } catch {
            if connection.isInTransaction { _ = try? connection.execute("ROLLBACK") }
            throw error
        }
    }

    /// The second half of `load`: waits for the statement and COMMIT `beginLoad` sent and returns
    /// how many tweets were new. On an error the transaction is rolled back (nothing of the batch
    /// is kept) and the error thrown.
    public func finishLoad() throws(PostgresError) -> Int {
        do {
            let results = try connection.awaitResults()
            return results.count > 1 ? Int(results[0][0, "inserted"] ?? "0") ?? 0 : 0
        } catch {
            if connection.isInTransaction { _ = try? connection.execute("ROLLBACK") }
            // Another loader's retention may have dropped a day's partition this one believed was
            // there (no partition for a row is a refused row): ask again before the next load.
            rawDaysReady.removeAll()
            throw error
        }
    }

    /// Drops the raw partitions whose whole day is older than `days` days; returns how many.
    public func dropRawPartitions(olderThanDays days: Int) throws(PostgresError) -> Int {
        rawDaysReady.removeAll()
        let rows = try connection.execute("SELECT chirp_drop_raw_partitions(make_interval(days => $1::integer)) AS dropped", [String(days)])
        return Int(rows[0, "dropped"] ?? "0") ?? 0
    }

    /// The next offsets this consumer group has committed to the database, per topic and partition.
    public func storedOffsets(consumerGroup: String) throws(PostgresError) -> [(topic: String, partition: Int32, offset: Int64)] {
        try connection.execute(TweetBatch.loadOffsets, [consumerGroup]).rows.compactMap { row in
            guard let topic = row[0], let partition = row[1].flatMap({ Int32($0) }), let offset = row[2].flatMap({ Int64($0) }) else { return nil }
            return (topic, partition, offset)
        }
    }

    /// Loads a batch PostgreSQL refused (a data error) row by row, each in its own transaction, and
    /// returns the rows inserted and the refused ones with the reason; the batch's offsets are
    /// stored with the last transaction.
    public func loadRowByRow(_ batch: TweetBatch, consumerGroup: String) throws(PostgresError)
        -> (inserted: Int, refused: [(id: String, error: PostgresError)]) {
        var inserted = 0
        var refused: [(String, PostgresError)] = []
        rawDaysReady.removeAll()
        for index in 0..<batch.count {
            do {
                inserted += try load(batch.row(index), consumerGroup: consumerGroup)
            } catch {
                guard error.isDataError else { throw error }
                refused.append((batch.ids[index], error))
                if let document = batch.documents[index], case .document(let bytes) = document.storage {
                    // The other tweets of its payload point here, and may well be loaded.
                    do {
                        try connection.execute(TweetBatch.insertDocument, [
                            document.receivedAt.iso8601, document.topic, String(document.partition), String(document.offset),
                            String(decoding: bytes.filter { $0 != 0 }, as: UTF8.self),
                        ])
                    } catch {
                        guard error.isDataError else { throw error }
                        refused.append(("the document of \(batch.ids[index])", error))
                    }
                }
            }
        }
        var offsetsOnly = TweetBatch()
        for (topic, partitions) in batch.nextOffsets {
            for (partition, next) in partitions { offsetsOnly.noteOffset(topic: topic, partition: partition, offset: next - 1) }
        }
        _ = try load(offsetsOnly, consumerGroup: consumerGroup)
        return (inserted, refused)
    }

    /// Re-establishes the connection after a failure (the temp staging table is gone with it).
    public func reconnect() throws(PostgresError) {
        stagingReady = false
        rawDaysReady.removeAll()
        try connection.reset()
        try connection.execute(Self.sessionSetup)
    }
}

/// Where a recompute stands.
public struct RecomputeProgress: Sendable, Equatable {
    /// Raw payloads at or after the start time when the recompute began.
    public var total = 0
    /// Raw payloads read so far.
    public var read = 0
    /// Tweets rewritten with the current rules.
    public var updated = 0
    /// Raw payloads the current decoder no longer accepts (their tweets are left as they are).
    public var undecodable: [(id: String, reason: String)] = []
    /// Tweets at or after the start time that have no raw payload (loaded before raw data was kept,
    /// or past its retention): left as they are.
    public var withoutRaw = 0
    /// Where the time went: reading raw payloads, deriving tweets, writing (seconds).
    public var readSeconds = 0.0, deriveSeconds = 0.0, writeSeconds = 0.0

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.total == rhs.total && lhs.read == rhs.read && lhs.updated == rhs.updated
            && lhs.undecodable.map(\.id) == rhs.undecodable.map(\.id) && lhs.withoutRaw == rhs.withoutRaw
    }
}

extension AnalyticsStore {
    /// Re-derives the facts and rollups of every tweet whose event time is at or after `since` from
    /// its raw payload with `enricher`'s rules, in batches of `batchSize` tweets, each batch one
    /// transaction (see `RecomputeBatch`); safe beside running loaders. Calls `progress` after
    /// each batch.
    public func recompute(
        since: Timestamp, enricher: Enricher, batchSize: Int, maximumPayloadBytes: Int? = nil,
        progress: (RecomputeProgress) -> Void = { _ in }
    ) throws(PostgresError) -> RecomputeProgress {
        for statement in RecomputeBatch.createStaging { try connection.execute(statement) }
        var state = RecomputeProgress()
        let scope = try connection.execute(RecomputeBatch.scope, [since.iso8601])
        state.total = Int(scope[0, "raw"] ?? "0") ?? 0
        state.withoutRaw = Int(scope[0, "without_raw"] ?? "0") ?? 0
        // Reading and deriving the next batch overlaps writing this one: the reader opens its own
        // connection on its own thread, which is its only user.
        let pipe = RecomputePipe()
        let reader = RecomputeReader(url: connection.connectionString, since: since, enricher: enricher,
                                     batchSize: batchSize, maximumPayloadBytes: maximumPayloadBytes)
        let thread = Thread { reader.run(into: pipe) }
        thread.start()
        defer { pipe.cancel() }
        let clock = ContinuousClock()
        while let next = pipe.take() {
            let derived: DerivedBatch
            switch next {
            case .failure(let error): throw error
            case .success(let value): derived = value
            }
            state.read += derived.read
            state.undecodable += derived.undecodable
            state.readSeconds += derived.readSeconds
            state.deriveSeconds += derived.deriveSeconds
            let started = clock.now
            if derived.batch.count > 0 { state.updated += try applyRecompute(derived.batch) }
            let elapsed = clock.now - started
            state.writeSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            progress(state)
        }
        return state
    }

    /// Applies one batch in one transaction, retrying a deadlock or serialization failure; returns
    /// how many tweets it rewrote.
    func applyRecompute(_ batch: RecomputeBatch) throws(PostgresError) -> Int {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try connection.transaction { () throws(PostgresError) -> Int in
                    try connection.copyIn(RecomputeBatch.copyStaging, data: batch.copy.bytes)
                    var updated = 0
                    for (index, statement) in RecomputeBatch.apply.enumerated() {
                        let result = try connection.execute(statement)
                        if index == RecomputeBatch.rewriteStatement { updated = result.affected }
                    }
                    return updated
                }
            } catch {
                guard error.isRetryable, attempt < 10 else { throw error }
            }
        }
    }

    /// Rollup rows that differ from a from-scratch aggregation of the facts, per rollup table.
    public func checkRollups() throws(PostgresError) -> [(rollup: String, mismatches: Int)] {
        var result: [(String, Int)] = []
        for (rollup, sql) in RollupCheck.statements {
            result.append((rollup, Int(try connection.execute(sql)[0, "mismatches"] ?? "0") ?? 0))
        }
        return result
    }
}

/// One batch read from `raw_tweets` and re-derived, ready to write.
struct DerivedBatch: Sendable {
    var batch = RecomputeBatch()
    var read = 0
    var undecodable: [(id: String, reason: String)] = []
    var readSeconds = 0.0
    var deriveSeconds = 0.0
}

/// Hands derived batches from the reader thread to the writer, one at a time; `nil` ends.
/// `@unchecked`: every field is behind `lock`.
final class RecomputePipe: @unchecked Sendable {
    private let lock = NSCondition()
    private var slot: Result<DerivedBatch, PostgresError>?? = nil
    private var cancelled = false

    /// Blocks until the slot is free; false when the writer gave up.
    func put(_ item: Result<DerivedBatch, PostgresError>?) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        while slot != nil && !cancelled { lock.wait() }
        guard !cancelled else { return false }
        slot = .some(item)
        lock.broadcast()
        return true
    }

    func take() -> Result<DerivedBatch, PostgresError>? {
        lock.lock()
        defer { lock.unlock() }
        while slot == nil { lock.wait() }
        let item = slot!
        slot = nil
        lock.broadcast()
        if item == nil { cancelled = true }
        return item
    }

    func cancel() {
        lock.lock()
        cancelled = true
        lock.broadcast()
        lock.unlock()
    }
}

/// Reads raw payloads in event-time order and re-derives their tweets with the current rules.
struct RecomputeReader: Sendable {
    let url: String
    let since: Timestamp
    let enricher: Enricher
    let batchSize: Int
    let maximumPayloadBytes: Int?

    func run(into pipe: RecomputePipe) {
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection(url)
            try connection.execute(AnalyticsStore.sessionSetup)
        } catch {
            _ = pipe.put(.failure(error))
            return
        }
        var afterMs = since.millisecondsSinceEpoch - 1
        var afterId = ""
        let clock = ContinuousClock()
        func seconds(since start: ContinuousClock.Instant) -> Double {
            let elapsed = clock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        while true {
            var derived = DerivedBatch()
            var phase = clock.now
            let rows: [[String?]]
            do {
                rows = try connection.execute(RecomputeBatch.selectRaw, [since.iso8601, String(afterMs), afterId, String(batchSize)]).rows
            } catch {
                _ = pipe.put(.failure(error))
                return
            }
            guard let last = rows.last else { _ = pipe.put(nil); return }
            derived.readSeconds = seconds(since: phase)
            phase = clock.now
            afterMs = Int64(last[1] ?? "") ?? afterMs
            afterId = last[0] ?? afterId
            // A document's tweets, decoded once per page (its payload comes with its first row).
            var documents: [String: Result<[Tweet], TweetRejection>] = [:]
            for row in rows {
                guard let id = row[0], let fallback = row[3].flatMap({ Int64($0) }) else { continue }
                let decoded: Result<[Tweet], TweetRejection>
                if let payload = row[2] {
                    decoded = Result { () throws(TweetRejection) in try TweetDecoder.decode(bytes: Array(payload.utf8), maximumBytes: maximumPayloadBytes) }
                    if let document = row[4] { documents[document] = decoded }
                } else if let document = row[4], let known = documents[document] {
                    decoded = known
                } else {
                    derived.undecodable.append((id, "no payload is stored for this tweet"))
                    continue
                }
                switch decoded {
                case .success(let tweets):
                    guard let tweet = tweets.first(where: { $0.id == id }) else {
                        derived.undecodable.append((id, "the payload no longer yields a tweet with this id"))
                        continue
                    }
                    derived.batch.append(enricher.enrich(tweet, fallbackTime: Timestamp(millisecondsSinceEpoch: fallback)))
                case .failure(let error):
                    derived.undecodable.append((id, error.description))
                }
            }
            derived.read = rows.count
            derived.deriveSeconds = seconds(since: phase)
            guard pipe.put(.success(derived)) else { return }
        }
    }
}
