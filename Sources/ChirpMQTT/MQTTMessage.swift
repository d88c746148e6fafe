/// A received MQTT message.
public struct MQTTMessage: Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: Int32
    public var retain: Bool
    /// MQTT 5 user properties, in order.
    public var userProperties: [(name: String, value: String)]

    public func userProperty(_ name: String) -> String? {
        userProperties.last { $0.name == name }?.value
    }
}
