import ChirpCore
import CRdKafka
import Logging

/// What a producer learns about one message it sent.
public struct DeliveryReport: Sendable {
    /// The token given to `KafkaProducer.send`.
    public var token: UInt64
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// nil when the message is durably written (acks=all).
    public var error: KafkaError?
}

/// Receives what librdkafka reports from its own threads. Implementations must be thread-safe.
/// `@unchecked`: its closures are set before the first callback can run and only read afterwards.
final class KafkaCallbackContext: @unchecked Sendable {
    let logger: Logger
    let onDelivery: (@Sendable (DeliveryReport) -> Void)?
    let onError: (@Sendable (KafkaError) -> Void)?
    /// Consumers only: called (on the polling thread, inside the rebalance callback) after
    /// partitions were assigned or unassigned; records the change, nothing more.
    var onRebalance: ((_ assigned: Bool, _ partitions: [TopicPartition]) -> Void)?

    init(logger: Logger, onDelivery: (@Sendable (DeliveryReport) -> Void)?, onError: (@Sendable (KafkaError) -> Void)?) {
        self.logger = logger
        self.onDelivery = onDelivery
        self.onError = onError
    }
}

/// Owns one `rd_kafka_t` and the context its callbacks reach through the opaque pointer.
/// The only type that creates or destroys the handle.
/// `@unchecked`: the handle is immutable and librdkafka serializes what its API needs.
final class KafkaClient: @unchecked Sendable {
    let handle: OpaquePointer
    private let context: Unmanaged<KafkaCallbackContext>

    init(type: rd_kafka_type_t, configuration: KafkaConfiguration, context: KafkaCallbackContext) throws(KafkaError) {
        let conf = try configuration.makeHandle()
        let retained = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, retained.toOpaque())
        rd_kafka_conf_set_log_cb(conf, chirpKafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, chirpKafkaErrorCallback)
        if context.onDelivery != nil {
            rd_kafka_conf_set_dr_msg_cb(conf, chirpKafkaDeliveryCallback)
        }
        if type == RD_KAFKA_CONSUMER {
            rd_kafka_conf_set_rebalance_cb(conf, chirpKafkaRebalanceCallback)
        }
        var errorBuffer = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errorBuffer, errorBuffer.count) else {
            rd_kafka_conf_destroy(conf)
            retained.release()
            throw .configuration("rd_kafka_new: \(KafkaError.text(errorBuffer))")
        }
        self.handle = handle
        self.context = retained
    }

    deinit {
        rd_kafka_destroy(handle)
        context.release()
    }

    /// Creates topics that do not exist yet; an existing topic is not an error.
    func createTopics(_ topics: [(name: String, partitions: Int32)], timeout: Duration) throws(KafkaError) {
        let timeoutMs = Int32(timeout.components.seconds * 1000)
        var errorBuffer = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for topic in topics {
            guard let newTopic = rd_kafka_NewTopic_new(topic.name, topic.partitions, -1, &errorBuffer, errorBuffer.count) else {
                throw .configuration("topic \(topic.name): \(KafkaError.text(errorBuffer))")
            }
            newTopics.append(newTopic)
        }
        guard let queue = rd_kafka_queue_new(handle) else { throw .configuration("rd_kafka_queue_new failed") }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs, &errorBuffer, errorBuffer.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 1000) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, context: "creating topics")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(eventError, context: "creating topics")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for i in 0..<count {
            let topicResult = results[i]
            let code = rd_kafka_topic_result_error(topicResult)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                let name = String(cString: rd_kafka_topic_result_name(topicResult))
                throw KafkaError(code, context: "creating topic \(name)")
            }
        }
    }
}
