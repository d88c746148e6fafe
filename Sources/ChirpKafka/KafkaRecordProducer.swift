import ChirpCore
import ChirpPipeline
import Logging
import Synchronization

/// A `KafkaProducer` as the pipeline's `RecordProducer`: delivery reports, which librdkafka hands
/// to the producer's poll thread, wait in a queue until the loop collects them on its own thread.
public final class KafkaRecordProducer: RecordProducer, Sendable {
    public let producer: KafkaProducer
    public let maximumRecordBytes: Int
    private let reports: ReportQueue

    private final class ReportQueue: Sendable {
        let deliveries = Mutex<[Delivery]>([])
        let fatal = Mutex<ProducerFailure?>(nil)
    }

    /// `onDelivery` also sees every report, on the poll thread (for counters that need no order).
    public init(configuration: KafkaConfiguration, logger: Logger, onDelivery: (@Sendable (DeliveryReport) -> Void)? = nil) throws(KafkaError) {
        let reports = ReportQueue()
        self.reports = reports
        maximumRecordBytes = configuration.maximumMessageBytes
        producer = try KafkaProducer(configuration: configuration, logger: logger, onDelivery: { report in
            onDelivery?(report)
            let delivery = Delivery(token: report.token, topic: report.topic, failure: report.error.map(\.producerFailure))
            reports.deliveries.withLock { $0.append(delivery) }
        }, onError: { error in
            if error.isFatal { reports.fatal.withLock { $0 = error.producerFailure } }
        })
    }

    public func recordSize(keyBytes: Int, valueBytes: Int, headers: RecordHeaders) -> Int {
        KafkaProducer.recordSize(keyBytes: keyBytes, valueBytes: valueBytes, headers: headers)
    }

    public func send(topic: String, key: [UInt8]?, value: [UInt8], headers: RecordHeaders, token: UInt64) throws(ProducerFailure) {
        do {
            try producer.send(topic: topic, key: key, value: value, headers: headers, token: token)
        } catch {
            throw error.producerFailure
        }
    }

    public func takeDeliveries() -> [Delivery] {
        reports.deliveries.withLock { deliveries in
            defer { deliveries.removeAll(keepingCapacity: true) }
            return deliveries
        }
    }

    public func flush(timeout: Duration) -> Int { producer.flush(timeout: timeout) }

    public var outstandingCount: Int { producer.outstandingCount }

    public var fatalError: ProducerFailure? { reports.fatal.withLock { $0 } }
}

extension KafkaError {
    public var producerFailure: ProducerFailure {
        ProducerFailure(name: name, message: message, recordTooLarge: isRecordTooLarge)
    }
}
