import ChirpCore
import ChirpKafka
import ChirpPostgres
import ChirpService
import ChirpStore
import Foundation
import Logging

/// The consume → batch → transaction loop. Exactly-once effect: a tweet id is inserted once and
/// rollups grow only by the rows a transaction actually inserted, so a redelivered batch (after a
/// crash between COMMIT and the offset commit) changes nothing.
final class Loader: Sendable {
    let consumer: KafkaConsumer
    let topic: String
    let groupId: String
    let partitions: Int32
    let postgresURL: String
    let batchSize: Int
    let batchWait: Duration
    let connectTimeout: Duration
    let rawRetentionDays: Int
    let logger: Logger
    let databaseReady = AtomicFlag()
    let consumed: Counter
    let inserted: Counter
    let duplicates: Counter
    let rejected: Counter
    let databaseErrors: Counter
    let ignoredHeaders: Counter
    let batchRows: Histogram
    let batchSeconds: Histogram
    let lag: Gauge

    init(context: ServiceContext) throws {
        let options = context.options
        logger = context.logger
        topic = try options.required("enriched-topic")
        groupId = try options.required("group-id")
        partitions = Int32(try options.int("topic-partitions"))
        postgresURL = try options.required("postgres-url")
        batchSize = max(1, try options.int("batch-size"))
        batchWait = .milliseconds(max(1, try options.int("batch-wait-ms")))
        connectTimeout = .seconds(max(0, try options.int("connect-timeout-seconds")))
        rawRetentionDays = try options.int("raw-retention-days")
        guard rawRetentionDays >= 0 else { throw UsageError("--raw-retention-days must not be negative") }
        let metrics = context.metrics
        consumed = metrics.counter("loader_consumed_total", help: "Enriched records consumed.")
        inserted = metrics.counter("loader_inserted_total", help: "Tweets inserted (new ids).")
        duplicates = metrics.counter("loader_duplicates_total", help: "Records whose tweet id was already loaded.")
        rejected = metrics.counter("loader_rejected_total", help: "Records that are no valid enriched tweet (skipped).", label: "reason")
        databaseErrors = metrics.counter("loader_database_errors_total", help: "Failed transactions, by SQLSTATE.", label: "sqlstate")
        ignoredHeaders = metrics.counter(
            "loader_ignored_headers_total", help: "Header values not used because they are unusable (the row is loaded without them), by header and problem.",
            label: "reason")
        batchRows = metrics.histogram("loader_batch_rows", help: "Records per database transaction.", bounds: [1, 10, 100, 500, 1000, 2000, 5000, 10000])
        batchSeconds = metrics.histogram("loader_batch_seconds", help: "Seconds per database transaction.", bounds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5])
        lag = metrics.gauge("loader_consumer_lag", help: "Records on assigned partitions not yet consumed (from cached watermarks).")
        let instance = ServiceMain.instanceId(options)
        var consumerConfiguration = KafkaConfiguration.consumer(
            brokers: try options.required("kafka-brokers"), groupId: groupId,
            instanceId: "chirp-loader-\(instance)", clientId: "chirp-loader-\(instance)",
            // Enriched records carry the raw payload in a header, outside what the queue limit
            // counts: a smaller queue keeps the loader's memory near the categorizer's.
            queuedKilobytes: 2048)
        try consumerConfiguration.apply(overrides: options.string("kafka-config") ?? "")
        consumer = try KafkaConsumer(
            configuration: consumerConfiguration,
            logger: context.logger)
        let databaseReady = self.databaseReady
        let consumer = self.consumer
        let group = groupId
        context.readiness.add("postgres") { databaseReady.value ? nil : "not connected to PostgreSQL" }
        context.readiness.add("group") { consumer.hasJoinedGroup ? nil : "not yet a member of consumer group \(group)" }
    }

    private func connect(stop: StopSignal) throws -> AnalyticsStore {
        let deadline = ContinuousClock.now + connectTimeout
        while true {
            do {
                let store = try AnalyticsStore(url: postgresURL)
                let applied = try store.migrate()
                let version = try store.schemaVersion()
                logger.info("database ready", metadata: ["schema_version": "\(version)", "applied_now": "\(applied)"])
                databaseReady.set(true)
                return store
            } catch {
                if !error.isConnectionFailure || ContinuousClock.now >= deadline || stop.isStopping { throw error }
                logger.warning("database not available yet; retrying", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    /// A batch whose statement PostgreSQL is running while the loader reads the next one.
    struct InFlight {
        var batch: TweetBatch
        var started: ContinuousClock.Instant
    }

    /// What to store in Kafka once a batch is committed: its next offset per partition.
    static func offsets(of batch: TweetBatch) -> [TopicPartitionOffset] {
        batch.nextOffsets.flatMap { topic, partitions in
            partitions.map { TopicPartitionOffset(topic: topic, partition: $0.key, offset: $0.value) }
        }
    }

    /// The in-flight batch and a failure met while settling it inside a rebalance callback.
    /// Touched only on the polling thread (the callbacks run inside `poll`).
    final class Pipeline: @unchecked Sendable {
        var inFlight: InFlight?
        var failure: (any Error)?
    }

    func run(stop: StopSignal) throws {
        let store = try connect(stop: stop)
        applyRetention(store)
        var lastRetention = ContinuousClock.now
        try consumer.createTopics([(topic, partitions)])
        try consumer.subscribe([topic])
        logger.info("consuming", metadata: ["from": "\(topic)", "group": "\(groupId)"])
        var lastLagUpdate = ContinuousClock.now
        let pipeline = Pipeline()
        // Before partitions are given up or new ones start, the batch in flight is settled, so
        // its offsets reach Kafka and the database's offsets are current.
        consumer.onRebalance = { [self] assigned, _ in
            guard !assigned else { return }
            do { try settle(pipeline, store: store, stop: stop) } catch { pipeline.failure = error }
        }
        // PostgreSQL holds the truth about what is loaded (offsets are written in the same
        // transaction as the rows); Kafka's committed offsets are only a hint.
        consumer.startOffsets = { [self] assigned in
            do { try settle(pipeline, store: store, stop: stop) } catch {
                pipeline.failure = error
                return []
            }
            do {
                let stored = try store.storedOffsets(consumerGroup: groupId)
                return assigned.compactMap { partition in
                    stored.first { $0.topic == partition.topic && $0.partition == partition.partition }
                        .map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: $0.offset) }
                }
            } catch {
                logger.error("cannot read stored offsets; starting from Kafka's committed offsets", metadata: ["error": "\(error)"])
                return []
            }
        }
        while !stop.isStopping {
            // Fill a batch while PostgreSQL works on the previous one: up to batchSize records or
            // batchWait, and no longer than the database is busy. A batch is what arrived during
            // the previous load: large in a flood, small and prompt when the stream is slower.
            var messages: [KafkaMessage] = []
            let deadline = ContinuousClock.now + batchWait
            while messages.count < batchSize, !stop.isStopping {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { break }
                // A poll returns when it has all it asks for or its time is up: wait for the first
                // record alone, then look at the database every few milliseconds.
                let first = messages.isEmpty
                messages += consumer.poll(maxMessages: first ? 1 : batchSize - messages.count,
                                          timeout: min(left, first ? .milliseconds(100) : .milliseconds(5)))
                if let failure = pipeline.failure { throw failure }
                if !messages.isEmpty, store.isFree { break }
            }
            let next = messages.isEmpty ? nil : prepare(messages)
            messages = []  // the batch holds what is needed, encoded
            try settle(pipeline, store: store, stop: stop)
            if let next {
                do throws(PostgresError) {
                    let started = ContinuousClock.now
                    try store.beginLoad(next, consumerGroup: groupId)
                    pipeline.inFlight = InFlight(batch: next, started: started)
                } catch {
                    try load(next, into: store, stop: stop, failed: error)
                    try consumer.storeOffsets(Self.offsets(of: next))
                }
            }
            if ContinuousClock.now - lastLagUpdate > .seconds(1) {
                lastLagUpdate = ContinuousClock.now
                lag.set(Double(consumer.lag()))
            }
            if ContinuousClock.now - lastRetention > .seconds(3600) {
                lastRetention = ContinuousClock.now
                try settle(pipeline, store: store, stop: stop)
                applyRetention(store)
            }
        }
        try settle(pipeline, store: store, stop: stop)
        consumer.close()
    }

    /// Waits for the batch in flight, if any (loading it again on a failure), and stores its
    /// offsets in Kafka.
    private func settle(_ pipeline: Pipeline, store: AnalyticsStore, stop: StopSignal) throws {
        guard let inFlight = pipeline.inFlight else { return }
        pipeline.inFlight = nil
        do throws(PostgresError) {
            let new = try store.finishLoad()
            observe(inFlight.batch, new: new, since: inFlight.started)
        } catch {
            try load(inFlight.batch, into: store, stop: stop, failed: error)
        }
        try consumer.storeOffsets(Self.offsets(of: inFlight.batch))
    }

    /// A time header, used only when it is a storable time; the problem is counted otherwise.
    private func time(_ message: KafkaMessage, _ name: String) -> Timestamp? {
        switch message.headers.time(name) {
        case .success(let time): return time
        case .failure(let problem):
            ignoredHeaders.increment(label: "\(name):\(problem.rawValue)")
            return nil
        case nil: return nil
        }
    }

    /// The payload as received, from the headers the categorizer adds (nil for records without
    /// them, or with an unusable time: the tweet is loaded, its raw copy is not).
    func rawPayload(of message: KafkaMessage) -> RawPayload? {
        guard let bytes = message.header(Wire.rawPayload), let topic = message.headerString(Wire.rawTopicName),
              let receivedAt = time(message, Wire.rawTimestamp),
              let partition = message.headerInt64(Wire.rawPartition).flatMap(Int32.init(exactly:)),
              let offset = message.headerInt64(Wire.rawOffset) else { return nil }
        return RawPayload(bytes: bytes, receivedAt: receivedAt, topic: topic, partition: partition, offset: offset)
    }

    /// Drops raw partitions past the retention, at start and then hourly; failures are logged only.
    private func applyRetention(_ store: AnalyticsStore) {
        guard rawRetentionDays > 0 else { return }
        do {
            let dropped = try store.dropRawPartitions(olderThanDays: rawRetentionDays)
            if dropped > 0 { logger.info("dropped raw partitions past the retention", metadata: ["partitions": "\(dropped)", "retention_days": "\(rawRetentionDays)"]) }
        } catch {
            logger.warning("could not apply the raw retention", metadata: ["error": "\(error)"])
        }
    }

    /// Decodes the records into a batch.
    private func prepare(_ messages: [KafkaMessage]) -> TweetBatch {
        // A row takes about what its record does: the enriched JSON's values without its keys,
        // plus the raw payload from the headers, plus field lengths.
        var batch = TweetBatch(reservingBytes: messages.reduce(1024) { $0 + $1.value.count + $1.headers.storage.count })
        for message in messages {
            consumed.increment()
            do throws(TweetRejection) {
                let tweet = try EnrichedTweet.decode(message.value)
                batch.append(tweet, provenance: LoadProvenance(topic: message.topic, partition: message.partition,
                                                               offset: message.offset, publishedAt: time(message, Wire.publishedAt),
                                                               raw: rawPayload(of: message)))
            } catch {
                rejected.increment(label: error.reason.rawValue)
                logger.warning("skipping record that is no enriched tweet", metadata: [
                    "partition": "\(message.partition)", "offset": "\(message.offset)", "error": "\(error)",
                ])
                batch.noteOffset(topic: message.topic, partition: message.partition, offset: message.offset)
            }
        }
        return batch
    }

    private func observe(_ batch: TweetBatch, new: Int, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        batchSeconds.observe(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
        batchRows.observe(Double(batch.count))
        inserted.increment(by: Int64(new))
        duplicates.increment(by: Int64(batch.count - new))
        databaseReady.set(true)
    }

    /// Loads a batch whose first attempt failed with `failed`, synchronously: reconnecting,
    /// retrying conflicts, or row by row when PostgreSQL refuses some row.
    private func load(_ batch: TweetBatch, into store: AnalyticsStore, stop: StopSignal, failed: PostgresError) throws {
        var error = failed
        var attempt = 0
        while true {
            attempt += 1
            databaseErrors.increment(label: error.sqlState ?? "connection")
            if error.isConnectionFailure {
                databaseReady.set(false)
                logger.error("database connection lost; reconnecting", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                Thread.sleep(forTimeInterval: min(5, 0.2 * Double(attempt)))
                try? store.reconnect()
            } else if error.isRetryable {
                logger.warning("transaction conflict; retrying", metadata: ["error": "\(error)"])
            } else if error.isDataError {
                // Some row is refused: load row by row, skip (and count) only the refused ones.
                logger.warning("batch refused; loading it row by row", metadata: ["error": "\(error)"])
                let result = try store.loadRowByRow(batch, consumerGroup: groupId)
                for (id, rowError) in result.refused {
                    rejected.increment(label: "database")
                    logger.error("tweet refused by the database; skipped", metadata: ["id": "\(id)", "error": "\(rowError)"])
                }
                inserted.increment(by: Int64(result.inserted))
                duplicates.increment(by: Int64(batch.count - result.inserted - result.refused.count))
                return
            } else {
                throw error
            }
            if stop.isStopping && attempt > 3 { throw error }
            let started = ContinuousClock.now
            do throws(PostgresError) {
                let new = try store.load(batch, consumerGroup: groupId)
                observe(batch, new: new, since: started)
                return
            } catch let next {
                error = next
            }
        }
    }
}
