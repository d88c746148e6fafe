import ChirpCore
import CRdKafka
#if canImport(Glibc)
import Glibc
#endif
import ChirpPipeline
import Logging
import Synchronization

/// Whether a consumer has joined its group, readable from any thread (for `/readyz`) while the
/// consumer itself stays with the thread that owns it.
public final class GroupMembership: Sendable {
    private let joined = Atomic<Bool>(false)

    public init() {}

    /// Set once the first assignment arrived (possibly empty, when a group has more members than
    /// partitions): from then on the consumer is a member of its group.
    public var hasJoined: Bool { joined.load(ordering: .relaxed) }

    func join() { joined.store(true, ordering: .relaxed) }
}

/// A consumer-group member. Not thread-safe, and not `Sendable`: the thread that creates it
/// polls, stores offsets and closes it (the service's worker thread), as librdkafka's consumer API
/// expects; others learn of it through `membership`.
public final class KafkaConsumer {
    private let client: KafkaClient
    private let queue: OpaquePointer
    private let logger: Logger
    private var closed = false
    /// Reused across polls (allocating and zeroing it per poll showed up in profiles).
    private var pollBuffer: [UnsafeMutablePointer<rd_kafka_message_t>?] = []
    /// Next offset to consume per topic and assigned partition, as seen by `poll` (for `lag()`).
    private var consumedNext: [String: [Int32: Int64]] = [:]

    public let membership: GroupMembership
    public var hasJoinedGroup: Bool { membership.hasJoined }
    /// Assignment changes since the last `takeAssignmentEvents`. The rebalance callback (served
    /// inside `poll`, on the polling thread) only assigns or unassigns and records the change here;
    /// the owner acts on it after `poll` returns, never inside librdkafka.
    private var pendingEvents: [AssignmentEvent] = []

    public init(configuration: KafkaConfiguration, logger: Logger, membership: GroupMembership = GroupMembership(),
                onError: (@Sendable (KafkaError) -> Void)? = nil) throws(KafkaError) {
        self.logger = logger
        self.membership = membership
        let context = KafkaCallbackContext(logger: logger, onDelivery: nil, onError: onError)
        client = try KafkaClient(type: RD_KAFKA_CONSUMER, configuration: configuration, context: context)

        rd_kafka_poll_set_consumer(client.handle)
        guard let queue = rd_kafka_queue_get_consumer(client.handle) else {
            throw .configuration("no consumer queue")
        }
        self.queue = queue
        context.onRebalance = { [weak self] assigned, partitions in
            guard let self else { return }
            if assigned {
                membership.join()
                pendingEvents.append(.assigned(partitions))
            } else {
                for entry in partitions { consumedNext[entry.topic]?[entry.partition] = nil }
                pendingEvents.append(.revoked(partitions))
            }
        }
    }

    deinit {
        close()
        rd_kafka_queue_destroy(queue)
    }

    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        }
        let err = rd_kafka_subscribe(client.handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "subscribe") }
    }

    public func createTopics(_ topics: [(name: String, partitions: Int32)], timeout: Duration = .seconds(10)) throws(KafkaError) {
        try client.createTopics(topics, timeout: timeout)
    }

    /// Up to `maxMessages` records; waits at most `timeout` for them. Consumer errors (not data)
    /// are logged and reported, never thrown: a consumer keeps going.
    public func poll(maxMessages: Int, timeout: Duration) -> [ConsumedRecord] {
        let timeoutMs = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        if pollBuffer.count < maxMessages {
            pollBuffer = Array(repeating: nil, count: maxMessages)
        }
        let count = rd_kafka_consume_batch_queue(queue, timeoutMs, &pollBuffer, maxMessages)
        guard count > 0 else { return [] }
        var messages: [ConsumedRecord] = []
        messages.reserveCapacity(count)
        // Consecutive records mostly share a topic and partition: the lag bookkeeping is updated
        // once per run of them, and the topic's name is read once per topic handle.
        var run: (topic: String, partition: Int32, next: Int64)?
        for i in 0..<count {
            guard let pointer = pollBuffer[i] else { continue }
            defer { rd_kafka_message_destroy(pointer) }
            let m = pointer.pointee
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let error = KafkaError(m.err)
                logger.warning("consumer error", metadata: ["error": "\(error)"])
                continue
            }
            let message = copy(pointer)
            if let current = run, current.topic != message.topic || current.partition != message.partition {
                consumedNext[current.topic, default: [:]][current.partition] = current.next
            }
            run = (message.topic, message.partition, message.offset + 1)
            messages.append(message)
        }
        if let run { consumedNext[run.topic, default: [:]][run.partition] = run.next }
        return messages
    }

    private var lastTopicHandle: OpaquePointer?
    private var lastTopicName = ""

    private func topicName(_ handle: OpaquePointer?) -> String {
        guard let handle else { return "" }
        if handle != lastTopicHandle {
            lastTopicHandle = handle
            lastTopicName = String(cString: rd_kafka_topic_name(handle))
        }
        return lastTopicName
    }

    private func copy(_ pointer: UnsafeMutablePointer<rd_kafka_message_t>) -> ConsumedRecord {
        let m = pointer.pointee
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        var headers = RecordHeaders()
        var cHeaders: OpaquePointer?
        if rd_kafka_message_headers(pointer, &cHeaders) == RD_KAFKA_RESP_ERR_NO_ERROR, let cHeaders {
            var name: UnsafePointer<CChar>?
            var valuePointer: UnsafeRawPointer?
            var size = 0
            var total = 0
            var index = 0
            while rd_kafka_header_get_all(cHeaders, index, &name, &valuePointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                total += RecordHeaders.storedSize(nameBytes: name.map { strlen($0) } ?? 0, valueBytes: size)
                index += 1
            }
            headers = RecordHeaders(minimumCapacity: total)
            index = 0
            while rd_kafka_header_get_all(cHeaders, index, &name, &valuePointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let nameBytes = UnsafeRawBufferPointer(start: name, count: name.map { strlen($0) } ?? 0)
                headers.append(name: nameBytes, value: valuePointer.map { UnsafeRawBufferPointer(start: $0, count: size) })
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(pointer, &timestampType)
        return ConsumedRecord(
            topic: topicName(m.rkt),
            partition: m.partition, offset: m.offset, key: key, value: value, headers: headers,
            timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
        )
    }

    /// The assignment changes `poll` met since the last call, in order. Records of a partition
    /// revoked here may still be in the caller's hands; its new owner reads them again.
    public func takeAssignmentEvents() -> [AssignmentEvent] {
        defer { pendingEvents.removeAll() }
        return pendingEvents
    }

    /// Moves the positions of assigned partitions (for example to the offsets a database stored
    /// with the data). Records fetched before the seek are not delivered. Returns the partitions
    /// that cannot be moved yet: right after an assignment librdkafka answers _STATE until the
    /// partition's fetcher has started, so the caller tries those again after its next poll.
    public func seek(_ offsets: [TopicPartitionOffset]) throws(KafkaError) -> [TopicPartitionOffset] {
        guard !offsets.isEmpty, let list = rd_kafka_topic_partition_list_new(Int32(offsets.count)) else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for entry in offsets {
            rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition)?.pointee.offset = entry.offset
        }
        if let error = rd_kafka_seek_partitions(client.handle, list, 10_000) {
            let kafkaError = KafkaError(consuming: error)
            if kafkaError.code == RD_KAFKA_RESP_ERR__STATE.rawValue || kafkaError.code == RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS.rawValue { return offsets }
            throw kafkaError
        }
        var later: [TopicPartitionOffset] = []
        for i in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[i]
            switch element.err {
            case RD_KAFKA_RESP_ERR_NO_ERROR: continue
            case RD_KAFKA_RESP_ERR__STATE, RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS:  // not started yet, or the old fetcher still stopping
                later.append(TopicPartitionOffset(topic: String(cString: element.topic), partition: element.partition, offset: offsets[i].offset))
            default:
                throw KafkaError(element.err, context: "seek \(String(cString: element.topic))/\(element.partition)")
            }
        }
        return later
    }

    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        try changeFetching(partitions, pause: true)
    }

    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        try changeFetching(partitions, pause: false)
    }

    private func changeFetching(_ partitions: [TopicPartition], pause: Bool) throws(KafkaError) {
        guard !partitions.isEmpty, let list = rd_kafka_topic_partition_list_new(Int32(partitions.count)) else { return }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for entry in partitions { rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition) }
        let err = pause ? rd_kafka_pause_partitions(client.handle, list) : rd_kafka_resume_partitions(client.handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: pause ? "pausing partitions" : "resuming partitions") }
    }

    /// Marks work up to (excluding) each `offset` as done; the next commit (auto, every second,
    /// and on close) sends them to the group coordinator.
    public func storeOffsets(_ offsets: [TopicPartitionOffset]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for entry in offsets {
            let element = rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition)
            element?.pointee.offset = entry.offset
        }
        let err = rd_kafka_offsets_store(client.handle, list)
        // A partition revoked in a rebalance cannot be stored (librdkafka answers _STATE, or
        // _INVALID_ARG when no entry could be stored); its new owner re-reads it (at least once).
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__STATE && err != RD_KAFKA_RESP_ERR__INVALID_ARG {
            throw KafkaError(err, context: "storing offsets")
        }
    }

    /// Sends stored offsets now and waits for the answer.
    public func commitStored() throws(KafkaError) {
        let err = rd_kafka_commit(client.handle, nil, 0)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw KafkaError(err, context: "commit")
        }
    }

    /// Current partition assignment.
    public func assignment() -> [TopicPartitionOffset] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(client.handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return (0..<Int(list.pointee.cnt)).map { i in
            let element = list.pointee.elems[i]
            return TopicPartitionOffset(topic: String(cString: element.topic), partition: element.partition, offset: element.offset)
        }
    }

    /// Sum over the partitions this consumer has read of (high watermark − next offset to consume),
    /// from librdkafka's cached values (no broker round trip). Brokers that misreport watermarks
    /// make this approximate. Call it from the polling thread.
    public func lag() -> Int64 {
        var total: Int64 = 0
        for (topic, partitions) in consumedNext {
            for (partition, next) in partitions {
                var low: Int64 = 0
                var high: Int64 = 0
                if rd_kafka_get_watermark_offsets(client.handle, topic, partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                   high >= 0 {
                    total += max(0, high - next)
                }
            }
        }
        return total
    }

    /// Leaves the group after committing stored offsets. Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        let err = rd_kafka_consumer_close(client.handle)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("consumer close", metadata: ["error": "\(KafkaError(err))"])
        }
    }
}

extension KafkaConsumer: RecordConsumer {}
