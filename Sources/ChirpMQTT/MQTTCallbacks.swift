import CMosquitto
import ChirpPipeline
import Glibc

// libmosquitto calls these on the thread that runs the connection (`MQTTClient`'s caller). They
// are file-scope C functions that reach the owning `MQTTClient` through the user-data pointer.

private func client(_ userData: UnsafeMutableRawPointer?) -> MQTTClient? {
    guard let userData else { return nil }
    return Unmanaged<MQTTClient>.fromOpaque(userData).takeUnretainedValue()
}

let chirpMQTTConnectCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, Int32, OpaquePointer?) -> Void = {
    _, userData, rc, _, _ in
    guard let client = client(userData) else { return }
    client.packetsHandled += 1
    client.connectResult = rc
    if rc == 0 {
        client.status.connected.store(true, ordering: .relaxed)
        let count = client.status.connects.add(1, ordering: .relaxed).newValue
        client.logger.info("mqtt connected", metadata: ["broker": "\(client.options.host):\(client.options.port)", "connects": "\(count)"])
        client.status.acknowledgedSubscriptions.store(0, ordering: .relaxed)
        client.resubscribe()
    } else {
        client.logger.error("mqtt connection refused", metadata: ["reason": "\(String(cString: mosquitto_reason_string(rc)))"])
    }
}

let chirpMQTTDisconnectCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, OpaquePointer?) -> Void = {
    _, userData, rc, _ in
    guard let client = client(userData) else { return }
    client.status.connected.store(false, ordering: .relaxed)
    if rc != 0 {
        client.logger.warning("mqtt disconnected; reconnecting", metadata: ["reason": "\(String(cString: mosquitto_strerror(rc)))"])
    }
}

/// SUBACK: every granted QoS below 0x80 means the broker took the subscription.
let chirpMQTTSubscribeCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, Int32, UnsafePointer<Int32>?, OpaquePointer?) -> Void = {
    _, userData, _, count, granted, _ in
    guard let client = client(userData) else { return }
    client.packetsHandled += 1
    let codes = granted.map { Array(UnsafeBufferPointer(start: $0, count: Int(count))) } ?? []
    if let refused = codes.first(where: { $0 >= 0x80 }) {
        client.logger.error("mqtt subscription refused", metadata: ["reason": "\(String(cString: mosquitto_reason_string(refused)))"])
    } else {
        client.status.acknowledgedSubscriptions.add(1, ordering: .relaxed)
    }
}

let chirpMQTTPublishCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, Int32, OpaquePointer?) -> Void = {
    _, userData, _, reasonCode, _ in
    client(userData)?.didAcknowledge(reasonCode: reasonCode)
}

let chirpMQTTMessageCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafePointer<mosquitto_message>?, OpaquePointer?) -> Void = {
    _, userData, message, properties in
    guard let client = client(userData), let message else { return }
    let m = message.pointee
    let payload = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(m.payloadlen))) } ?? []
    var userProperties: [MQTTMessage.UserProperty] = []
    var skipFirst = false
    var cursor: OpaquePointer? = properties
    while let current = cursor {
        var name: UnsafeMutablePointer<CChar>?
        var value: UnsafeMutablePointer<CChar>?
        let next = mosquitto_property_read_string_pair(current, Int32(MQTT_PROP_USER_PROPERTY.rawValue), &name, &value, skipFirst)
        guard next != nil else { break }
        if let name, let value {
            userProperties.append(MQTTMessage.UserProperty(String(cString: name), String(cString: value)))
        }
        free(name)
        free(value)
        cursor = next
        skipFirst = true
    }
    client.didReceive(MQTTMessage(topic: m.topic.map { String(cString: $0) } ?? "", payload: payload, userProperties: userProperties))
}

/// OpenSSL's key password callback: no password (an encrypted key fails to load instead of a
/// prompt on the terminal).
let chirpMQTTNoKeyPassword: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = { _, _, _, _ in 0 }

/// libmosquitto's log: its errors (OpenSSL's reasons among them, such as a certificate that
/// does not verify) are kept as the client's last error, for the message a failed connect gives.
let chirpMQTTLogCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = {
    _, userData, level, text in
    guard level & Int32(MOSQ_LOG_ERR) != 0, let text, let client = client(userData) else { return }
    client.lastLibraryError = String(cString: text)
}
