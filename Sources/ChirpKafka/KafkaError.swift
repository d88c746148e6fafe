import CRdKafka

/// A librdkafka error: its stable code name (`_QUEUE_FULL`, `UNKNOWN_TOPIC_OR_PART`, …) and text.
public struct KafkaError: Error, Sendable, CustomStringConvertible, Equatable {
    public var code: Int32
    public var name: String
    public var message: String

    public init(code: Int32, name: String, message: String) {
        self.code = code
        self.name = name
        self.message = message
    }

    init(_ code: rd_kafka_resp_err_t, context: String? = nil) {
        self.code = code.rawValue
        self.name = String(cString: rd_kafka_err2name(code))
        let text = String(cString: rd_kafka_err2str(code))
        self.message = context.map { "\($0): \(text)" } ?? text
    }

    /// Takes ownership of (and destroys) an `rd_kafka_error_t`.
    init(consuming error: OpaquePointer) {
        self.code = rd_kafka_error_code(error).rawValue
        self.name = String(cString: rd_kafka_error_name(error))
        self.message = String(cString: rd_kafka_error_string(error))
        rd_kafka_error_destroy(error)
    }

    static func configuration(_ message: String) -> KafkaError {
        KafkaError(code: -1, name: "CONFIGURATION", message: message)
    }

    /// The text librdkafka wrote into an error buffer.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var isQueueFull: Bool { code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue }

    /// The client cannot go on (an idempotent producer's sequence broke, say).
    public var isFatal: Bool { code == RD_KAFKA_RESP_ERR__FATAL.rawValue }

    /// The record itself is refused for its size (by librdkafka or the broker): another try fails
    /// the same way.
    public var isRecordTooLarge: Bool {
        code == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue || code == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE.rawValue
    }

    public var description: String { "\(name): \(message)" }
}
