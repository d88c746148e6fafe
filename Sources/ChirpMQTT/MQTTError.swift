import CMosquitto

/// A libmosquitto error code with its text.
public struct MQTTError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String

    init(code: Int32, context: String) {
        self.code = code
        self.message = "\(context): \(String(cString: mosquitto_strerror(code)))"
    }

    init(message: String) {
        self.code = -1
        self.message = message
    }

    public var description: String { message }
}
