import ChirpCore
import CRdKafka
import Foundation
import Logging
import Synchronization

/// An idempotent producer. `send` enqueues without waiting; delivery reports arrive on the
/// producer's own poll thread through the handler given at creation.
/// `@unchecked`: librdkafka's producer is thread-safe; the Swift state is immutable or atomic.
public final class KafkaProducer: @unchecked Sendable {
    private let client: KafkaClient
    private let logger: Logger
    private let running = Atomic<Bool>(true)
    private let pollThreadDone = DispatchSemaphore(value: 0)
    /// Messages enqueued and not yet reported.
    private let outstanding = Atomic<Int>(0)

    public init(
        configuration: KafkaConfiguration, logger: Logger,
        onDelivery: @escaping @Sendable (DeliveryReport) -> Void,
        onError: (@Sendable (KafkaError) -> Void)? = nil
    ) throws(KafkaError) {
        self.logger = logger
        // The delivery handler keeps the outstanding count; it reaches the producer through a box
        // because the producer does not exist yet when the C context is made.
        let box = ProducerBox()
        let context = KafkaCallbackContext(logger: logger, onDelivery: { report in
            box.producer?.outstanding.subtract(1, ordering: .relaxed)
            onDelivery(report)
        }, onError: onError)
        self.client = try KafkaClient(type: RD_KAFKA_PRODUCER, configuration: configuration, context: context)
        box.producer = self
        // The poll thread holds the producer until `close()` stops it.
        let thread = Thread { [self] in
            while running.load(ordering: .relaxed) {
                rd_kafka_poll(client.handle, 100)
            }
            pollThreadDone.signal()
        }
        thread.name = "kafka-producer-poll"
        thread.start()
    }

    /// Enqueues one message. Blocks (serving delivery reports) while librdkafka's local queue is
    /// full, so a fast upstream is slowed to what the brokers accept. `partition` nil = by key.
    public func send(
        topic: String, key: [UInt8]?, value: [UInt8], headers: RecordHeaders = RecordHeaders(), partition: Int32? = nil,
        token: UInt64
    ) throws(KafkaError) {
        while true {
            var cHeaders: OpaquePointer? = nil
            if headers.count > 0 {
                let list = rd_kafka_headers_new(headers.count)
                headers.forEach { name, value in
                    _ = rd_kafka_header_add(list, name.baseAddress?.assumingMemoryBound(to: CChar.self), name.count,
                                            value?.baseAddress, value?.count ?? 0)
                }
                cHeaders = list
            }
            let opaque = UnsafeMutableRawPointer(bitPattern: UInt(token &+ 1))
            let error: OpaquePointer? = value.withUnsafeBytes { valueBytes in
                if let key {
                    return key.withUnsafeBytes { keyBytes in
                        chirp_produce(client.handle, topic, partition ?? RD_KAFKA_PARTITION_UA,
                                      keyBytes.baseAddress, keyBytes.count,
                                      valueBytes.baseAddress, valueBytes.count, cHeaders, opaque)
                    }
                }
                return chirp_produce(client.handle, topic, partition ?? RD_KAFKA_PARTITION_UA, nil, 0,
                                     valueBytes.baseAddress, valueBytes.count, cHeaders, opaque)
            }
            guard let error else {
                outstanding.add(1, ordering: .relaxed)
                return
            }
            if let cHeaders { rd_kafka_headers_destroy(cHeaders) }
            let kafkaError = KafkaError(consuming: error)
            guard kafkaError.isQueueFull else { throw kafkaError }
            rd_kafka_poll(client.handle, 10)
        }
    }

    /// The size librdkafka checks against `message.max.bytes` for a record, rounded up: key and
    /// value, the headers as `RecordHeaders` stores them (its length fields are never shorter
    /// than the wire's variable-length ones), and the record format's largest fixed overhead
    /// (36 bytes of lengths, attributes, timestamp and offset deltas).
    public static func recordSize(keyBytes: Int, valueBytes: Int, headers: RecordHeaders) -> Int {
        36 + keyBytes + valueBytes + headers.storage.count
    }

    /// Messages enqueued whose delivery has not been reported yet.
    public var outstandingCount: Int { outstanding.load(ordering: .relaxed) }

    public func createTopics(_ topics: [(name: String, partitions: Int32)], timeout: Duration = .seconds(10)) throws(KafkaError) {
        try client.createTopics(topics, timeout: timeout)
    }

    /// Waits until every enqueued message is reported, or the timeout passes. Returns the number
    /// still outstanding.
    @discardableResult
    public func flush(timeout: Duration) -> Int {
        let deadline = ContinuousClock.now + timeout
        while outstandingCount > 0, ContinuousClock.now < deadline {
            rd_kafka_flush(client.handle, 100)
        }
        return outstandingCount
    }

    /// Flushes, then stops the poll thread. The handle is destroyed with the producer.
    public func close(timeout: Duration = .seconds(30)) {
        let left = flush(timeout: timeout)
        if left > 0 { logger.error("closing producer with undelivered messages", metadata: ["count": "\(left)"]) }
        if running.exchange(false, ordering: .relaxed) {
            pollThreadDone.wait()
        }
    }

    /// Whether a broker is reachable: metadata request within the timeout.
    public func isConnected(timeout: Duration = .seconds(2)) -> Bool {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(client.handle, 0, nil, &metadata, Int32(timeout.components.seconds * 1000))
        if let metadata { rd_kafka_metadata_destroy(metadata) }
        return err == RD_KAFKA_RESP_ERR_NO_ERROR
    }
}

/// Lets the delivery closure reach the producer it belongs to, which does not exist yet when the
/// closure is made. `@unchecked`: `producer` is set once, before the first delivery.
private final class ProducerBox: @unchecked Sendable {
    weak var producer: KafkaProducer?
}
