import ChirpCore
import ChirpKafka
import ChirpRules
import ChirpService
import Foundation
import Logging
import Synchronization

/// The consume → enrich → produce loop. A raw record's offset is stored for commit only after
/// every record it produced (enriched tweets or one dead letter) is confirmed by Kafka, so a
/// crash re-processes, never skips (at least once; the loader deduplicates by tweet id).
final class Categorizer: Sendable {
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let tracker: Locked<OffsetTracker>
    let enricher: Enricher
    let rawTopic: String
    let enrichedTopic: String
    let dlqTopic: String
    let partitions: Int32
    let maxPayload: Int
    let maxTweets: Int
    /// The largest record the producer sends (key, value and headers).
    let maxRecordBytes: Int
    let batchSize: Int
    let logger: Logger
    let consumed: Counter
    let enriched: Counter
    let deadLetters: Counter
    let deliveryFailures: Counter
    let ignoredHeaders: Counter
    let dropped: Counter
    let lag: Gauge

    init(context: ServiceContext) throws {
        let options = context.options
        logger = context.logger
        rawTopic = try options.required("raw-topic")
        enrichedTopic = try options.required("enriched-topic")
        dlqTopic = try options.required("dlq-topic")
        partitions = Int32(try options.int("topic-partitions"))
        maxPayload = try options.int("max-payload-bytes")
        maxTweets = try options.int("max-tweets-per-payload")
        guard maxTweets > 0 else { throw UsageError("--max-tweets-per-payload must be positive") }
        batchSize = max(1, try options.int("batch-size"))
        let table = try CategoryFile.load(path: options.string("categories-file") ?? "")
        enricher = Enricher(table: table)
        logger.info("category table", metadata: ["version": "\(enricher.matcher.version)", "categories": "\(table.categories.count)"])

        let metrics = context.metrics
        consumed = metrics.counter("categorizer_consumed_total", help: "Raw records consumed.")
        enriched = metrics.counter("categorizer_enriched_total", help: "Enriched tweets confirmed by Kafka.")
        deadLetters = metrics.counter("dlq_total", help: "Raw records sent to the dead-letter topic, by reason.", label: "reason")
        deliveryFailures = metrics.counter("categorizer_delivery_failed_total", help: "Output records Kafka refused.", label: "error")
        ignoredHeaders = metrics.counter(
            "categorizer_ignored_headers_total", help: "Header values (and record timestamps) not used because they are unusable, by header and problem.",
            label: "reason")
        dropped = metrics.counter(
            "categorizer_dropped_total", help: "Raw records too large even for the dead-letter topic (logged, then skipped), by reason.",
            label: "reason")
        lag = metrics.gauge("categorizer_consumer_lag", help: "Records on assigned partitions not yet consumed (from cached watermarks).")
        let tracker = Locked(OffsetTracker())
        self.tracker = tracker
        let brokers = try options.required("kafka-brokers")
        let instance = ServiceMain.instanceId(options)
        let enrichedCounter = enriched
        let failures = deliveryFailures
        let logger = self.logger
        let enrichedTopic = self.enrichedTopic
        let overrides = options.string("kafka-config") ?? ""
        var producerConfiguration = KafkaConfiguration.producer(
            brokers: brokers, clientId: "chirp-categorizer-\(instance)", lingerMilliseconds: try options.int("kafka-linger-ms"))
        try producerConfiguration.apply(overrides: overrides)
        maxRecordBytes = producerConfiguration.maximumMessageBytes
        // Every payload within the limit must fit a dead letter, or a rejected one would be lost.
        guard maxPayload + Wire.deadLetterOverheadBytes <= maxRecordBytes else {
            throw UsageError("--max-payload-bytes (\(maxPayload)) plus \(Wire.deadLetterOverheadBytes) bytes of dead-letter headers must fit message.max.bytes (\(maxRecordBytes)): lower it, or raise message.max.bytes with --kafka-config (and the broker's limit with it)")
        }
        producer = try KafkaProducer(
            configuration: producerConfiguration,
            logger: context.logger,
            onDelivery: { report in
                if let error = report.error {
                    // With message.timeout.ms=0 only permanent errors end here; the offset stays
                    // uncommitted, so a restart retries the record.
                    failures.increment(label: error.name)
                    logger.error("output record refused", metadata: ["topic": "\(report.topic)", "error": "\(error)"])
                    return
                }
                if report.topic == enrichedTopic { enrichedCounter.increment() }
                let (partition, offset) = Categorizer.decodeToken(report.token)
                tracker.withLock { $0.complete(partition: partition, offset: offset) }
            }
        )
        var consumerConfiguration = KafkaConfiguration.consumer(
            brokers: brokers, groupId: try options.required("group-id"), instanceId: "chirp-categorizer-\(instance)",
            clientId: "chirp-categorizer-\(instance)")
        try consumerConfiguration.apply(overrides: overrides)
        consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: context.logger)
        let producer = self.producer
        let consumer = self.consumer
        let group = try options.required("group-id")
        context.readiness.add("kafka") { producer.isConnected(timeout: .seconds(2)) ? nil : "no Kafka broker reachable" }
        context.readiness.add("group") { consumer.hasJoinedGroup ? nil : "not yet a member of consumer group \(group)" }
        _ = metrics.gauge("categorizer_pending_deliveries", help: "Output records awaiting Kafka's confirmation.") {
            Double(tracker.withLock { $0.pendingDeliveries })
        }
    }

    /// The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends on a character.
    static func prefix(of text: String, maxBytes: Int) -> String {
        var used = 0
        var end = text.startIndex
        for character in text {
            used += character.utf8.count
            guard used <= maxBytes else { break }
            end = text.index(after: end)
        }
        return String(text[..<end])
    }

    /// Delivery tokens carry the source partition (high 16 bits) and offset (low 48 bits).
    static func token(partition: Int32, offset: Int64) -> UInt64 {
        UInt64(UInt16(truncatingIfNeeded: partition)) << 48 | (UInt64(bitPattern: offset) & 0xFFFF_FFFF_FFFF)
    }

    static func decodeToken(_ token: UInt64) -> (Int32, Int64) {
        (Int32(UInt16(truncatingIfNeeded: token >> 48)), Int64(token & 0xFFFF_FFFF_FFFF))
    }

    func run(stop: StopSignal) throws {
        try producer.createTopics([(rawTopic, partitions), (enrichedTopic, partitions), (dlqTopic, partitions)])
        try consumer.subscribe([rawTopic])
        logger.info("consuming", metadata: ["from": "\(rawTopic)", "to": "\(enrichedTopic)", "dead_letters": "\(dlqTopic)"])
        var lastLagUpdate = ContinuousClock.now
        while !stop.isStopping {
            var messages = consumer.poll(maxMessages: batchSize, timeout: .milliseconds(100))
            for case .revoked(let lost) in consumer.takeAssignmentEvents() {
                // The partitions are gone (librdkafka committed what was stored): their new owner
                // reads again whatever was not (at least once), so their records in hand and the
                // tracker's state of them are dropped.
                let gone = Set(lost)
                tracker.withLock { tracker in for entry in lost { tracker.reset(partition: entry.partition) } }
                messages.removeAll { gone.contains(TopicPartition(topic: $0.topic, partition: $0.partition)) }
            }
            for message in messages {
                try process(message)
            }
            try storeCommittable()
            if ContinuousClock.now - lastLagUpdate > .seconds(1) {
                lastLagUpdate = ContinuousClock.now
                lag.set(Double(consumer.lag()))
            }
        }
        logger.info("stopping: waiting for output confirmations")
        producer.flush(timeout: .seconds(30))
        try storeCommittable()
        consumer.close()
        producer.close(timeout: .seconds(1))
    }

    private func storeCommittable() throws {
        let ready = tracker.withLock { $0.takeCommittable() }
        guard !ready.isEmpty else { return }
        try consumer.storeOffsets(ready.map { TopicPartitionOffset(topic: rawTopic, partition: $0.partition, offset: $0.offset) })
    }

    private func process(_ message: ConsumedRecord) throws {
        consumed.increment()
        let token = Self.token(partition: message.partition, offset: message.offset)
        // Headers are anyone's to write: a publish time travels on (as sent) only when it is a
        // storable time, and so does the record's own timestamp.
        var forwarded = RecordHeaders(minimumCapacity: message.value.count + 256)
        var published: Timestamp?
        message.headers.withValue(Wire.publishedAt) { bytes in
            switch RecordHeaders.time(decimal: bytes) {
            case .success(let time):
                published = time
                forwarded.append(Wire.publishedAt, bytes: bytes)
            case .failure(let problem):
                ignoredHeaders.increment(label: "\(Wire.publishedAt):\(problem.rawValue)")
            }
        }
        let recordTime = message.timestampMilliseconds.flatMap { milliseconds in
            let time = Timestamp(storableMilliseconds: milliseconds)
            if time == nil { ignoredHeaders.increment(label: "kafka-timestamp:\(HeaderTimeProblem.outOfRange.rawValue)") }
            return time
        }
        let fallback = published ?? recordTime ?? Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))

        let tweets: [Tweet]
        do throws(TweetRejection) {
            tweets = try TweetDecoder.decode(bytes: message.value, maximumBytes: maxPayload, maximumTweets: maxTweets)
        } catch {
            return try deadLetter(message, headers: forwarded, rejection: error, token: token)
        }
        // The payload as received travels with each record: the loader keeps it as raw master data.
        var headers = forwarded
        headers.append(Wire.rawPayload, message.value)
        headers.append(Wire.rawTopicName, message.topic)
        headers.append(Wire.rawTimestamp, (recordTime ?? fallback).millisecondsSinceEpoch)
        headers.append(Wire.rawPartition, Int64(message.partition))
        headers.append(Wire.rawOffset, message.offset)
        let records = tweets.map { enricher.enrich($0, fallbackTime: fallback) }.map { (key: Array($0.id.utf8), value: $0.encoded()) }
        // Kafka refuses a record over message.max.bytes; the escaped text and the raw payload can
        // make an enriched record twice the payload's size or more. Checked before anything is sent,
        // so a document goes out whole or as one dead letter.
        if let largest = records.map({ KafkaProducer.recordSize(keyBytes: $0.key.count, valueBytes: $0.value.count, headers: headers) }).max(),
           largest > maxRecordBytes {
            let rejection = TweetRejection(.tooLarge, "an enriched record would take \(largest) bytes with its headers; Kafka takes at most \(maxRecordBytes) (message.max.bytes)")
            return try deadLetter(message, headers: forwarded, rejection: rejection, token: token)
        }
        tracker.withLock { $0.begin(partition: message.partition, offset: message.offset, parts: records.count) }
        for (index, record) in records.enumerated() {
            if let refused = try send(topic: enrichedTopic, key: record.key, value: record.value, headers: headers, token: token) {
                // The check above should have caught it; should librdkafka count otherwise, the
                // rest of the document goes to the dead letters instead of stopping the partition.
                // The records not sent are done now, the dead letter's delivery completes the last.
                tracker.withLock { for _ in index..<(records.count - 1) { $0.complete(partition: message.partition, offset: message.offset) } }
                let rejection = TweetRejection(.tooLarge, "Kafka refused enriched record \(index + 1) of \(records.count): \(refused)")
                return try deadLetter(message, headers: forwarded, rejection: rejection, token: token, begun: true)
            }
        }
    }

    /// Sends a record; one refused for its size is returned (another try would fail the same
    /// way), any other error thrown.
    private func send(topic: String, key: [UInt8]?, value: [UInt8], headers: RecordHeaders, token: UInt64) throws(KafkaError) -> KafkaError? {
        do {
            try producer.send(topic: topic, key: key, value: value, headers: headers, token: token)
            return nil
        } catch {
            guard error.isRecordTooLarge else { throw error }
            return error
        }
    }

    /// Sends the raw record, as received, to the dead-letter topic with the reason. One that
    /// cannot fit even there (written to the raw topic by another client, larger than the bridge
    /// forwards) is logged and counted, and its offset moves on: it must not stop the partition.
    /// `begun`: the offset is registered already, with one part left for the dead letter.
    private func deadLetter(_ message: ConsumedRecord, headers forwarded: RecordHeaders, rejection: TweetRejection, token: UInt64,
                            begun: Bool = false) throws {
        var headers = forwarded
        headers.append(Wire.dlqReason, rejection.reason.rawValue)
        headers.append(Wire.dlqSourceTopic, message.topic)
        headers.append(Wire.dlqSourcePartition, Int64(message.partition))
        headers.append(Wire.dlqSourceOffset, message.offset)
        // The message is the one part that gives way: up to 1 000 bytes, fewer when the payload
        // leaves less room (the bridge keeps `Wire.deadLetterReserveBytes` free for this).
        let size = KafkaProducer.recordSize(keyBytes: message.key?.count ?? 0, valueBytes: message.value.count, headers: headers)
            + RecordHeaders.storedSize(nameBytes: Wire.dlqMessage.utf8.count, valueBytes: 0)
        headers.append(Wire.dlqMessage, Self.prefix(of: rejection.message, maxBytes: min(1000, maxRecordBytes - size)))
        // The delivery report may come at once, from another thread: the offset is registered first.
        if !begun { tracker.withLock { $0.begin(partition: message.partition, offset: message.offset, parts: 1) } }
        let refused = size > maxRecordBytes ? KafkaError.recordTooLarge(bytes: size, limit: maxRecordBytes)
            : try send(topic: dlqTopic, key: message.key, value: message.value, headers: headers, token: token)
        if let refused {
            dropped.increment(label: rejection.reason.rawValue)
            logger.error("raw record too large for the dead-letter topic; skipped", metadata: [
                "partition": "\(message.partition)", "offset": "\(message.offset)", "error": "\(refused)", "reason": "\(rejection)",
            ])
            tracker.withLock { $0.complete(partition: message.partition, offset: message.offset) }
        } else {
            deadLetters.increment(label: rejection.reason.rawValue)
        }
    }
}
