import ChirpCore
import ChirpService
import Logging

/// What the categorizer is told once, at start.
public struct CategorizerSettings: Sendable {
    public var rawTopic: String
    public var dlqTopic: String
    public var router: RecordRouter
    /// Records taken from the consumer per poll.
    public var batchSize: Int
    /// Tries of a raw record's output before it becomes a dead letter (reason `undeliverable`).
    public var maxDeliveryAttempts = 3
    public var lagInterval: Duration = .seconds(1)

    public init(rawTopic: String, dlqTopic: String, router: RecordRouter, batchSize: Int) {
        self.rawTopic = rawTopic
        self.dlqTopic = dlqTopic
        self.router = router
        self.batchSize = max(1, batchSize)
    }
}

/// The categorizer's metrics.
public struct CategorizerMetrics: Sendable {
    public let consumed: Counter
    public let enriched: Counter
    public let deadLetters: Counter
    public let deliveryFailures: Counter
    public let ignoredHeaders: Counter
    public let dropped: Counter
    public let lag: Gauge
    /// Why output cannot be written now (`/readyz`), nil when it can.
    public let problem = Locked<String?>(nil)

    public init(_ metrics: MetricsRegistry) {
        consumed = metrics.counter("categorizer_consumed_total", help: "Raw records consumed.")
        enriched = metrics.counter("categorizer_enriched_total", help: "Enriched tweets confirmed by Kafka.")
        deadLetters = metrics.counter("dlq_total", help: "Raw records sent to the dead-letter topic, by reason.", label: "reason")
        deliveryFailures = metrics.counter("categorizer_delivery_failed_total", help: "Output records Kafka refused (each is tried again or dead-lettered).", label: "error")
        ignoredHeaders = metrics.counter(
            "categorizer_ignored_headers_total", help: "Header values (and record timestamps) not used because they are unusable, by header and problem.",
            label: "reason")
        dropped = metrics.counter(
            "categorizer_dropped_total", help: "Raw records too large even for the dead-letter topic (logged, then skipped), by reason.",
            label: "reason")
        lag = metrics.gauge("categorizer_consumer_lag", help: "Records on assigned partitions not yet consumed (from cached watermarks).")
    }
}

/// One output attempt of a raw record: its records (or dead letter) awaiting confirmation.
/// A class: it is looked up for every delivery, and a struct would be copied out each time. At
/// file scope, not nested in the generic loop, so that making one needs no generic metadata.
final class CategorizerAttempt {
    let record: ConsumedRecord
    var remaining = 0
    var number = 1
    /// Set when this attempt is the record's dead letter.
    let deadLetter: (TweetRejection, forwarded: RecordHeaders)?
    var failure: ProducerFailure?
    /// The enriched records until they are sent (a retry routes the record again).
    var outputs: [RecordRouter.Output]?

    init(record: ConsumedRecord, deadLetter: (TweetRejection, forwarded: RecordHeaders)?, outputs: [RecordRouter.Output]?) {
        self.record = record
        self.deadLetter = deadLetter
        self.outputs = outputs
    }
}

/// The consume → enrich → produce loop. A raw record's offset is stored only after all it
/// produced (its enriched tweets, or one dead letter) is confirmed, and only over contiguous
/// offsets, so a crash re-processes, never skips (at least once; the loader deduplicates by id).
///
/// Nothing a record holds can stop a partition: what cannot become a tweet, or an enriched record
/// Kafka would refuse for its size, is a dead letter with the bytes as received; output Kafka
/// refuses anyway is sent again, and after `maxDeliveryAttempts` the raw record becomes a dead
/// letter (`undeliverable`). Only the dead-letter topic itself refusing holds a partition: that
/// is no record's fault, so it is tried again with growing pauses, logged, and `/readyz` says so.
///
/// One thread owns the loop and its ports.
public final class CategorizerLoop<Consumer: RecordConsumer, Producer: RecordProducer> {
    public let settings: CategorizerSettings
    let consumer: Consumer
    let producer: Producer
    let clock: any PipelineClock
    let metrics: CategorizerMetrics
    let logger: Logger
    /// Epoch milliseconds now: the time of a record that carries none.
    let wallClock: () -> Int64

    private var tracker = OffsetTracker()
    /// In-flight attempts by delivery token. A retry gets a new token, so a late report of an
    /// earlier attempt can never count for a later one.
    private var attempts: [UInt64: CategorizerAttempt] = [:]
    private var nextToken: UInt64 = 1
    /// Attempts to make again, when due.
    private var retries: [(due: Duration, attempt: CategorizerAttempt)] = []
    private var lastLag: Duration
    /// The partitions assigned, as the consumer's events tell.
    private var owned: Set<TopicPartition> = []
    /// Partitions paused while a dead letter of theirs waits to be taken: nothing after it could be
    /// committed anyway, and fetching on would only pile records up in memory.
    private var held: Set<TopicPartition> = []

    public init(settings: CategorizerSettings, consumer: Consumer, producer: Producer, clock: any PipelineClock, metrics: CategorizerMetrics,
                logger: Logger, wallClock: @escaping () -> Int64) {
        self.settings = settings
        self.consumer = consumer
        self.producer = producer
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
        self.wallClock = wallClock
        lastLag = clock.now
    }

    /// Raw records waiting for their output to be confirmed or tried again.
    public var pending: Int { attempts.count + retries.count }

    /// One round: poll, route and send, collect confirmations, store what is done.
    public func step() throws {
        if let fatal = producer.fatalError { throw fatal }
        var records = consumer.poll(maxMessages: settings.batchSize, timeout: .milliseconds(100))
        handleAssignmentEvents(&records)
        for record in records {
            metrics.consumed.increment()
            tracker.begin(partition: record.partition, offset: record.offset, parts: 1)
            try send(route(record), number: 1)
        }
        try collectDeliveries()
        try retryDue()
        try storeCommittable()
        if clock.now - lastLag > settings.lagInterval {
            lastLag = clock.now
            metrics.lag.set(Double(consumer.lag()))
        }
    }

    /// Waits for output in flight (up to `timeout`) and stores what is done; call when stopping.
    public func finish(timeout: Duration = .seconds(30)) throws {
        _ = producer.flush(timeout: timeout)
        try collectDeliveries()
        try storeCommittable()
    }

    /// Revoked partitions: their new owner reads again whatever was not stored (librdkafka
    /// committed what was), so their attempts and tracking are dropped. Records in hand are
    /// dropped only for partitions not owned once all events are taken: a partition revoked and
    /// assigned again in the same poll keeps the records fetched under its new assignment.
    private func handleAssignmentEvents(_ records: inout [ConsumedRecord]) {
        let events = consumer.takeAssignmentEvents()
        guard !events.isEmpty else { return }
        for event in events {
            switch event {
            case .assigned(let partitions):
                owned.formUnion(partitions)
            case .revoked(let lost):
                owned.subtract(lost)
                held.subtract(lost)
                let gone = Set(lost)
                func isGone(_ record: ConsumedRecord) -> Bool { gone.contains(TopicPartition(topic: record.topic, partition: record.partition)) }
                for partition in lost { tracker.reset(partition: partition.partition) }
                attempts = attempts.filter { !isGone($0.value.record) }
                retries.removeAll { isGone($0.attempt.record) }
            }
        }
        records.removeAll { !owned.contains(TopicPartition(topic: $0.topic, partition: $0.partition)) }
    }

    private func route(_ record: ConsumedRecord) -> CategorizerAttempt {
        let producer = self.producer
        let decision = settings.router.route(record, now: wallClock(), maxRecordBytes: producer.maximumRecordBytes) {
            producer.recordSize(keyBytes: $0, valueBytes: $1, headers: $2)
        }
        for reason in decision.ignored { metrics.ignoredHeaders.increment(label: reason) }
        switch decision.route {
        case .enriched(let outputs):
            return CategorizerAttempt(record: record, deadLetter: nil, outputs: outputs)
        case .deadLetter(let rejection, let forwarded):
            return CategorizerAttempt(record: record, deadLetter: (rejection, forwarded), outputs: nil)
        }
    }

    /// Sends an attempt's records under a fresh token.
    private func send(_ attempt: CategorizerAttempt, number: Int) throws {
        attempt.number = number
        attempt.failure = nil
        let token = nextToken
        nextToken += 1
        if let (rejection, forwarded) = attempt.deadLetter {
            let record = attempt.record
            guard let headers = RecordRouter.deadLetterHeaders(
                for: record, forwarded: forwarded, rejection: rejection, maxRecordBytes: producer.maximumRecordBytes, recordSize: producer.recordSize)
            else {
                return drop(record, rejection, "larger than Kafka takes even as a dead letter")
            }
            attempt.remaining = 1
            attempts[token] = attempt
            do throws(ProducerFailure) {
                try producer.send(topic: settings.dlqTopic, key: record.key, value: record.value, headers: headers, token: token)
            } catch {
                attempt.remaining = 0
                attempt.failure = error
                try finish(token)
            }
            return
        }
        guard let outputs = attempt.outputs else { preconditionFailure("an attempt with no output") }
        // librdkafka copies what it is sent: the encoded records need not outlive the sending.
        attempt.outputs = nil
        attempt.remaining = outputs.count
        attempts[token] = attempt
        for (index, output) in outputs.enumerated() {
            do throws(ProducerFailure) {
                try producer.send(topic: settings.router.enrichedTopic, key: output.key, value: output.value, headers: output.headers, token: token)
            } catch {
                // The records not sent will not be reported: the attempt fails with this error
                // once the sent ones are.
                attempt.remaining -= outputs.count - index
                attempt.failure = error
                if attempt.remaining == 0 { try finish(token) }
                return
            }
        }
    }

    private func collectDeliveries() throws {
        let enrichedTopic = settings.router.enrichedTopic
        for delivery in producer.takeDeliveries() {
            guard let attempt = attempts[delivery.token] else { continue }  // a partition since revoked
            if let failure = delivery.failure {
                metrics.deliveryFailures.increment(label: failure.name)
                attempt.failure = failure
            } else if delivery.topic == enrichedTopic {
                metrics.enriched.increment()
            }
            attempt.remaining -= 1
            if attempt.remaining == 0 { try finish(delivery.token) }
        }
    }

    /// An attempt whose records are all reported: done, tried again, or dead-lettered.
    private func finish(_ token: UInt64) throws {
        guard let attempt = attempts.removeValue(forKey: token) else { return }
        let record = attempt.record
        guard let failure = attempt.failure else {
            if let (rejection, _) = attempt.deadLetter {
                metrics.deadLetters.increment(label: rejection.reason.rawValue)
                try release(Self.partition(of: record))
            }
            tracker.complete(partition: record.partition, offset: record.offset)
            return
        }
        if let (rejection, _) = attempt.deadLetter {
            if failure.recordTooLarge { return drop(record, rejection, "\(failure)") }
            // The dead-letter topic refuses: no record's fault. Hold the partition, say so, retry.
            let problem = "Kafka refuses dead letters on \(settings.dlqTopic): \(failure)"
            metrics.problem.withLock { $0 = problem }
            logger.error("dead letter refused; trying again", metadata: ["error": "\(failure)", "attempt": "\(attempt.number)",
                                                                        "partition": "\(record.partition)", "offset": "\(record.offset)"])
            retries.append((clock.now + RetryPause.after(attempt: attempt.number), attempt))
            let partition = Self.partition(of: record)
            if owned.contains(partition), held.insert(partition).inserted { try consumer.pause([partition]) }
            return
        }
        if failure.recordTooLarge || attempt.number >= settings.maxDeliveryAttempts {
            let reason: RejectReason = failure.recordTooLarge ? .tooLarge : .undeliverable
            let rejection = TweetRejection(reason, "Kafka refused the enriched records \(attempt.number) times: \(failure)")
            logger.warning("raw record dead-lettered: its output was refused", metadata: [
                "error": "\(failure)", "partition": "\(record.partition)", "offset": "\(record.offset)"])
            return try send(CategorizerAttempt(record: record, deadLetter: (rejection, RecordRouter.forwardedHeaders(of: record)), outputs: nil), number: 1)
        }
        retries.append((clock.now + RetryPause.after(attempt: attempt.number), attempt))
    }

    static func partition(of record: ConsumedRecord) -> TopicPartition { TopicPartition(topic: record.topic, partition: record.partition) }

    /// A dead letter of `partition` was taken: fetch it again once none of its dead letters waits,
    /// and clear the readiness problem once no dead letter waits at all.
    private func release(_ partition: TopicPartition) throws {
        let waiting = retries.filter { $0.attempt.deadLetter != nil }.map { Self.partition(of: $0.attempt.record) }
        if waiting.isEmpty { metrics.problem.withLock { $0 = nil } }
        if held.contains(partition), !waiting.contains(partition) {
            held.remove(partition)
            try consumer.resume([partition])
        }
    }

    private func retryDue() throws {
        guard !retries.isEmpty else { return }
        let now = clock.now
        let due = retries.filter { $0.due <= now }
        retries.removeAll { $0.due <= now }
        for (_, attempt) in due {
            // Enriched records are not kept once sent: the record is routed again.
            let again = attempt.deadLetter == nil ? route(attempt.record) : attempt
            try send(again, number: attempt.number + 1)
        }
    }

    /// A record that cannot go anywhere, not even to the dead letters: logged, counted, done.
    private func drop(_ record: ConsumedRecord, _ rejection: TweetRejection, _ why: String) {
        metrics.dropped.increment(label: rejection.reason.rawValue)
        logger.error("raw record too large for the dead-letter topic; skipped", metadata: [
            "partition": "\(record.partition)", "offset": "\(record.offset)", "bytes": "\(record.value.count)", "reason": "\(rejection)", "error": "\(why)",
        ])
        tracker.complete(partition: record.partition, offset: record.offset)
    }

    private func storeCommittable() throws {
        let ready = tracker.takeCommittable()
        guard !ready.isEmpty else { return }
        try consumer.storeOffsets(ready.map { TopicPartitionOffset(topic: settings.rawTopic, partition: $0.partition, offset: $0.offset) })
    }
}
