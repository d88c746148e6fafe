import ChirpPostgres

/// The loader's and CLI's view of PostgreSQL: migrations and batch loading.
/// Owns one connection; use it from one thread.
public final class AnalyticsStore: @unchecked Sendable {
    public let connection: PostgresConnection
    private var stagingReady = false

    public init(url: String) throws(PostgresError) {
        connection = try PostgresConnection(url)
    }

    /// Applies pending migrations, each in its own transaction, under an advisory lock so that
    /// several loaders starting together migrate once. Returns the versions applied.
    @discardableResult
    public func migrate() throws(PostgresError) -> [Int] {
        try connection.execute(Migrations.createLedger)
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
        return applied
    }

    public func schemaVersion() throws(PostgresError) -> Int {
        let rows = try connection.execute("SELECT coalesce(max(version), 0) AS v FROM chirp_migrations")
        return Int(rows[0, "v"] ?? "0") ?? 0
    }

    /// Loads one batch in one transaction: facts, hashtags, rollups for new rows only, and the
    /// consumed offsets. Returns how many tweets were new.
    public func load(_ batch: TweetBatch, consumerGroup: String) throws(PostgresError) -> Int {
        if !stagingReady {
            try connection.execute(TweetBatch.createStaging)
            stagingReady = true
        }
        return try connection.transaction { () throws(PostgresError) -> Int in
            if batch.count > 0 {
                try connection.copyIn(TweetBatch.copyStaging, data: batch.copy.bytes)
            }
            let inserted = batch.count > 0 ? Int(try connection.execute(TweetBatch.insertFromStaging)[0, "inserted"] ?? "0") ?? 0 : 0
            for (topic, partitions) in batch.nextOffsets {
                for (partition, next) in partitions.sorted(by: { $0.key < $1.key }) {
                    try connection.execute(TweetBatch.storeOffset, [consumerGroup, topic, String(partition), String(next)])
                }
            }
            return inserted
        }
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
        for row in batch.rows {
            var single = TweetBatch()
            single.append(row.tweet, provenance: row.provenance)
            do {
                inserted += try load(single, consumerGroup: consumerGroup)
            } catch {
                guard error.isDataError else { throw error }
                refused.append((row.tweet.id, error))
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
        try connection.reset()
    }
}
