import ChirpCore
import ChirpService
import ChirpStore
import Logging

/// What the loader is told once, at start.
public struct LoaderSettings: Sendable {
    public var topic: String
    public var groupId: String
    /// Tweets per transaction at most.
    public var batchSize: Int
    /// Longest wait to fill a batch; a batch goes sooner when the database is free.
    public var batchWait: Duration
    /// Days of raw payloads to keep; 0 keeps them forever.
    public var rawRetentionDays: Int
    public var retentionInterval: Duration = .seconds(3600)
    public var lagInterval: Duration = .seconds(1)
    /// How often an idle loader checks that the database still holds the offsets it committed
    /// (a server that acknowledged commits before they were durable may have lost them).
    public var verifyInterval: Duration = .seconds(5)

    public init(topic: String, groupId: String, batchSize: Int, batchWait: Duration, rawRetentionDays: Int) {
        self.topic = topic
        self.groupId = groupId
        self.batchSize = max(1, batchSize)
        self.batchWait = max(.milliseconds(1), batchWait)
        self.rawRetentionDays = rawRetentionDays
    }
}

/// The loader's metrics.
public struct LoaderMetrics: Sendable {
    public let consumed: Counter
    public let inserted: Counter
    public let duplicates: Counter
    public let rejected: Counter
    public let databaseErrors: Counter
    public let ignoredHeaders: Counter
    public let batchRows: Histogram
    public let batchSeconds: Histogram
    public let lag: Gauge
    /// Cleared while the database connection is lost (`/readyz`).
    public let databaseReady = AtomicFlag()

    public init(_ metrics: MetricsRegistry) {
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
    }
}

/// The consume → batch → transaction loop. Exactly-once effect: a tweet id is inserted once and
/// rollups grow only by the rows a transaction actually inserted, so a redelivered batch (after a
/// crash between COMMIT and the offset commit) changes nothing. The database holds the truth
/// about what is loaded (offsets are written in the same transaction as the rows); the consumer
/// group's committed offsets are only a hint, corrected by a seek when partitions are assigned.
///
/// One thread owns the loop and its ports; `step` does one round and never blocks for longer
/// than a batch's wait or the database's answer.
public final class LoaderLoop<Consumer: RecordConsumer, Sink: TweetSink> {
    public let settings: LoaderSettings
    let consumer: Consumer
    let sink: Sink
    let clock: any PipelineClock
    let metrics: LoaderMetrics
    let logger: Logger
    let stop: StopSignal
    public private(set) var machine = LoaderStateMachine()
    /// The batch the machine is about: in the database, or being loaded again.
    private var current: (batch: TweetBatch, started: Duration)?
    private var lastLag: Duration
    private var lastRetention: Duration
    private var lastVerify: Duration
    /// Per owned partition, the highest next offset the database acknowledged to this instance
    /// (a batch's commit, or the stored offset it started from).
    private var committed: [TopicPartition: Int64] = [:]
    /// Assigned partitions still to be moved to the offsets stored with the rows; until then
    /// their records are dropped (they come again from the stored offset).
    private var pendingSeeks: [TopicPartition: Int64] = [:]
    /// Set when the connection was made anew. The database may have lost commits it had
    /// acknowledged (asynchronous commit and a crash, a failover to a replica that lacked them):
    /// before anything more loads, every owned partition goes back to the offset stored with the
    /// rows, or what came after the lost commits would move the offsets past them.
    private var resync = false
    /// The partitions assigned, as the consumer's events tell.
    private var owned: Set<TopicPartition> = []

    public init(settings: LoaderSettings, consumer: Consumer, sink: Sink, clock: any PipelineClock, metrics: LoaderMetrics,
                logger: Logger, stop: StopSignal) {
        self.settings = settings
        self.stop = stop
        self.consumer = consumer
        self.sink = sink
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
        lastLag = clock.now
        lastRetention = clock.now
        lastVerify = clock.now
    }

    /// Applies the raw retention once; call before the first step.
    public func start() {
        applyRetention()
        lastRetention = clock.now
    }

    /// One round: fill a batch while the database works on the previous one, settle that one,
    /// send the new one.
    public func step() throws {
        var records: [ConsumedRecord] = []
        let deadline = clock.now + settings.batchWait
        while records.count < settings.batchSize, !stop.isStopping {
            let left = deadline - clock.now
            guard left > .zero else { break }
            // A poll returns when it has all it asks for or its time is up: wait for the first
            // record alone, then look at the database every few milliseconds.
            let first = records.isEmpty
            records += consumer.poll(maxMessages: first ? 1 : settings.batchSize - records.count,
                                     timeout: min(left, first ? .milliseconds(100) : .milliseconds(5)))
            try handleAssignmentEvents(&records)
            if !records.isEmpty, sink.isFree { break }
        }
        let next = records.isEmpty ? nil : prepare(records)
        records = []  // the batch holds what is needed, encoded
        try settle()
        if resync {
            // `next` was read on the positions that may be past the database's: it comes again.
            try resyncPositions()
        } else if let next {
            try begin(next)
        }
        if clock.now - lastLag > settings.lagInterval {
            lastLag = clock.now
            metrics.lag.set(Double(consumer.lag()))
        }
        if next == nil, clock.now - lastVerify > settings.verifyInterval {
            lastVerify = clock.now
            try settle()
            try verifyCommitted()
        }
        if clock.now - lastRetention > settings.retentionInterval {
            lastRetention = clock.now
            try settle()
            applyRetention()
        }
    }

    /// Settles the batch in flight; call when stopping.
    public func finish() throws {
        machine.stop()
        try settle()
    }

    /// Assignment changes, after the fact. The batch in flight is settled first (its rows and
    /// offsets are in the database either way; Kafka may no longer take the offsets, and needs
    /// not). Records in hand of partitions no longer owned are dropped: their new owner reads them
    /// again. Partitions assigned start where the database says, not where the group committed:
    /// the consumer seeks there, and their records in hand, fetched before the seek, are dropped
    /// (they come again from the stored offset). A partition the database has no offset for
    /// starts at its beginning.
    private func handleAssignmentEvents(_ records: inout [ConsumedRecord]) throws {
        let events = consumer.takeAssignmentEvents()
        if !events.isEmpty {
            try settle()
            var assigned: Set<TopicPartition> = []
            for event in events {
                switch event {
                case .revoked(let partitions):
                    owned.subtract(partitions)
                    assigned.subtract(partitions)
                    for partition in partitions {
                        pendingSeeks[partition] = nil
                        committed[partition] = nil
                    }
                case .assigned(let partitions):
                    owned.formUnion(partitions)
                    assigned.formUnion(partitions)
                }
            }
            records.removeAll { !owned.contains(TopicPartition(topic: $0.topic, partition: $0.partition)) }
            if !assigned.isEmpty {
                let starts = try seekToStoredOffsets(assigned)
                logger.info("starting from the offsets stored with the rows", metadata: ["offsets": "\(starts)"])
            }
        }
        guard !pendingSeeks.isEmpty else { return }
        let wanted = pendingSeeks.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) }
        let later = Set(try consumer.seek(wanted).map { TopicPartition(topic: $0.topic, partition: $0.partition) })
        drop(Set(pendingSeeks.keys), from: &records)
        pendingSeeks = pendingSeeks.filter { later.contains($0.key) }
    }

    /// While idle: if the database holds an offset below one this instance committed, it lost
    /// commits it had acknowledged (and kept its connection, or the loader would know): read again
    /// from there.
    private func verifyCommitted() throws {
        let mine = committed.filter { owned.contains($0.key) }
        guard !mine.isEmpty, !resync else { return }
        var stored: [TopicPartition: Int64] = [:]
        for offset in try storedOffsets() { stored[TopicPartition(topic: offset.topic, partition: offset.partition)] = offset.offset }
        let behind = mine.filter { (stored[$0.key] ?? 0) < $0.value }
        guard !behind.isEmpty else { return }
        logger.error("the database lost commits it had acknowledged; reading again from its offsets", metadata: [
            "partitions": "\(behind.keys.map(\.description).sorted().joined(separator: ","))"])
        resync = true
        try resyncPositions()
    }

    /// After a reconnect: every owned partition goes back to the database's offset.
    private func resyncPositions() throws {
        resync = false
        guard !owned.isEmpty else { return }
        let starts = try seekToStoredOffsets(owned)
        logger.info("reconnected: reading again from the offsets stored with the rows", metadata: ["offsets": "\(starts)"])
    }

    /// Moves `partitions` (at the next poll) to the offsets stored with the rows. A partition the
    /// database has no offset for has nothing loaded (every batch stores its offsets, records that
    /// are no tweet included), so it starts at its beginning, whatever the group committed: the
    /// database may have lost commits that Kafka heard of. Returns the starts, for the log.
    private func seekToStoredOffsets(_ partitions: Set<TopicPartition>) throws -> String {
        var targets = Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(0)) })
        for stored in try storedOffsets() {
            let partition = TopicPartition(topic: stored.topic, partition: stored.partition)
            if targets[partition] != nil { targets[partition] = stored.offset }
        }
        for (partition, offset) in targets {
            pendingSeeks[partition] = offset
            // What the database holds now; should it lose that too, `verifyCommitted` sees it.
            committed[partition] = offset > 0 ? offset : nil
        }
        return targets.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value).description }
            .sorted().joined(separator: ",")
    }

    private func drop(_ partitions: Set<TopicPartition>, from records: inout [ConsumedRecord]) {
        guard !partitions.isEmpty else { return }
        records.removeAll { partitions.contains(TopicPartition(topic: $0.topic, partition: $0.partition)) }
    }

    /// The database's offsets for this group, waiting out a lost connection like a batch does.
    private func storedOffsets() throws -> [TopicPartitionOffset] {
        var attempt = 0
        while true {
            do throws(SinkError) {
                return try sink.storedOffsets(consumerGroup: settings.groupId)
            } catch {
                attempt += 1
                guard error.kind == .connectionLost, !stop.isStopping || attempt <= LoaderStateMachine.attemptsWhenStopping else { throw error }
                metrics.databaseReady.set(false)
                logger.error("cannot read the stored offsets; reconnecting", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                clock.sleep(for: LoaderStateMachine.backoff(attempt: attempt))
                resync = true
                try? sink.reconnect()
            }
        }
    }

    private func begin(_ batch: TweetBatch) throws {
        precondition(machine.batchReady() == .begin, "settle before beginning a batch")
        current = (batch, clock.now)
        do throws(SinkError) {
            try sink.beginLoad(batch, consumerGroup: settings.groupId)
        } catch {
            try perform(failed(error))
        }
    }

    /// Counts and logs a failed load, and asks the machine what next.
    private func failed(_ error: SinkError) -> LoaderStateMachine.Action {
        if stop.isStopping { machine.stop() }
        metrics.databaseErrors.increment(label: error.code ?? "connection")
        switch error.kind {
        case .connectionLost:
            metrics.databaseReady.set(false)
            logger.error("database connection lost; reconnecting", metadata: ["error": "\(error)", "state": "\(machine.state)"])
        case .conflict:
            logger.warning("transaction conflict; retrying", metadata: ["error": "\(error)"])
        case .refusedData:
            logger.warning("batch refused; loading it row by row", metadata: ["error": "\(error)"])
        case .other:
            logger.error("database error", metadata: ["error": "\(error)"])
        }
        return machine.failed(error)
    }

    /// Runs the machine until no batch is in the database.
    private func settle() throws {
        if let action = machine.settle() { try perform(action) }
    }

    private func perform(_ first: LoaderStateMachine.Action) throws {
        var action = first
        while true {
            guard let (batch, started) = current else { preconditionFailure("an action without a batch") }
            switch action {
            case .begin:
                preconditionFailure("begin is performed by `begin`")
            case .awaitResult:
                do throws(SinkError) {
                    let new = try sink.finishLoad()
                    observe(batch, new: new, since: started)
                    action = machine.loaded()
                } catch {
                    action = failed(error)
                }
            case .reconnect(let delay):
                clock.sleep(for: delay)
                do throws(SinkError) {
                    try sink.reconnect()
                    metrics.databaseReady.set(true)
                    action = machine.reconnected()
                } catch {
                    action = failed(error)
                }
            case .readAgain:
                current = nil
                resync = true
                return
            case .retry(let delay):
                clock.sleep(for: delay)
                let restarted = clock.now
                do throws(SinkError) {
                    let new = try sink.load(batch, consumerGroup: settings.groupId)
                    observe(batch, new: new, since: restarted)
                    action = machine.loaded()
                } catch {
                    action = failed(error)
                }
            case .loadRowByRow:
                do throws(SinkError) {
                    let result = try sink.loadRowByRow(batch, consumerGroup: settings.groupId)
                    for (id, rowError) in result.refused {
                        metrics.rejected.increment(label: "database")
                        logger.error("tweet refused by the database; skipped", metadata: ["id": "\(id)", "error": "\(rowError)"])
                    }
                    metrics.inserted.increment(by: Int64(result.inserted))
                    metrics.duplicates.increment(by: Int64(batch.count - result.inserted - result.refused.count))
                    action = machine.loaded()
                } catch {
                    action = failed(error)
                }
            case .storeOffsets:
                current = nil
                let offsets = Self.offsets(of: batch)
                for offset in offsets { committed[TopicPartition(topic: offset.topic, partition: offset.partition)] = offset.offset }
                try consumer.storeOffsets(offsets)
                return
            case .fail(let error):
                throw error
            }
        }
    }

    /// What to store in the consumer once a batch is committed: its next offset per partition.
    public static func offsets(of batch: TweetBatch) -> [TopicPartitionOffset] {
        batch.nextOffsets.flatMap { topic, partitions in
            partitions.map { TopicPartitionOffset(topic: topic, partition: $0.key, offset: $0.value) }
        }
    }

    private func observe(_ batch: TweetBatch, new: Int, since started: Duration) {
        metrics.batchSeconds.observe((clock.now - started).seconds)
        metrics.batchRows.observe(Double(batch.count))
        metrics.inserted.increment(by: Int64(new))
        metrics.duplicates.increment(by: Int64(batch.count - new))
        metrics.databaseReady.set(true)
    }

    /// Drops raw partitions past the retention; failures are logged only.
    private func applyRetention() {
        guard settings.rawRetentionDays > 0 else { return }
        do throws(SinkError) {
            let dropped = try sink.dropRawPartitions(olderThanDays: settings.rawRetentionDays)
            if dropped > 0 {
                logger.info("dropped raw partitions past the retention", metadata: ["partitions": "\(dropped)", "retention_days": "\(settings.rawRetentionDays)"])
            }
        } catch {
            logger.warning("could not apply the raw retention", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Decoding

    /// A time header, used only when it is a storable time; the problem is counted otherwise.
    private func time(_ record: ConsumedRecord, _ name: String) -> Timestamp? {
        switch record.headers.time(name) {
        case .success(let time): return time
        case .failure(let problem):
            metrics.ignoredHeaders.increment(label: "\(name):\(problem.rawValue)")
            return nil
        case nil: return nil
        }
    }

    /// The payload as received, from the headers the categorizer adds (nil for records without
    /// them; with one of its headers missing or unusable, the tweet is loaded, its raw copy is not,
    /// and the header is counted).
    func rawPayload(of record: ConsumedRecord) -> RawPayload? {
        func unusable(_ name: String, _ problem: String) -> RawPayload? {
            metrics.ignoredHeaders.increment(label: "\(name):\(problem)")
            return nil
        }
        // Stored as text: bytes that are not UTF-8 would make PostgreSQL refuse the tweet's row.
        func isText(_ bytes: [UInt8]) -> Bool { String(validating: bytes, as: UTF8.self) != nil }
        let storage: RawPayload.Storage
        if let bytes = record.header(Wire.rawPayload) {
            guard isText(bytes) else { return unusable(Wire.rawPayload, "not_utf8") }
            storage = .own(bytes)
        } else if record.header(Wire.rawPart) != nil {
            guard let part = record.headerInt64(Wire.rawPart) else { return unusable(Wire.rawPart, "not_a_number") }
            guard part >= 0 else { return unusable(Wire.rawPart, "out_of_range") }
            if part == 0 {
                guard let bytes = record.header(Wire.rawDocument) else { return unusable(Wire.rawDocument, "missing") }
                guard isText(bytes) else { return unusable(Wire.rawDocument, "not_utf8") }
                storage = .document(bytes)
            } else {
                storage = .inDocument
            }
        } else {
            return nil
        }
        guard let topic = record.headerString(Wire.rawTopicName) else { return unusable(Wire.rawTopicName, "missing") }
        guard record.header(Wire.rawTimestamp) != nil else { return unusable(Wire.rawTimestamp, "missing") }
        guard let receivedAt = time(record, Wire.rawTimestamp) else { return nil }
        guard let partitionNumber = record.headerInt64(Wire.rawPartition) else { return unusable(Wire.rawPartition, "not_a_number") }
        guard let partition = Int32(exactly: partitionNumber), partition >= 0 else { return unusable(Wire.rawPartition, "out_of_range") }
        guard let offset = record.headerInt64(Wire.rawOffset) else { return unusable(Wire.rawOffset, "not_a_number") }
        guard offset >= 0 else { return unusable(Wire.rawOffset, "out_of_range") }
        return RawPayload(storage: storage, receivedAt: receivedAt, topic: topic, partition: partition, offset: offset)
    }

    /// Decodes the records into a batch; records that are no enriched tweet are counted, logged
    /// and skipped (their offsets still advance).
    func prepare(_ records: [ConsumedRecord]) -> TweetBatch {
        // A row takes about what its record does: the enriched JSON's values without its keys,
        // plus the raw payload from the headers, plus field lengths.
        var batch = TweetBatch(reservingBytes: records.reduce(1024) { $0 + $1.value.count + $1.headers.storage.count })
        for record in records {
            metrics.consumed.increment()
            do throws(TweetRejection) {
                let tweet = try EnrichedTweet.decode(record.value)
                batch.append(tweet, provenance: LoadProvenance(topic: record.topic, partition: record.partition,
                                                               offset: record.offset, publishedAt: time(record, Wire.publishedAt),
                                                               raw: rawPayload(of: record)))
            } catch {
                metrics.rejected.increment(label: error.reason.rawValue)
                logger.warning("skipping record that is no enriched tweet", metadata: [
                    "partition": "\(record.partition)", "offset": "\(record.offset)", "error": "\(error)",
                ])
                batch.noteOffset(topic: record.topic, partition: record.partition, offset: record.offset)
            }
        }
        return batch
    }
}
