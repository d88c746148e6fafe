import CMosquitto
import ChirpPipeline
import ChirpService
import Foundation
import Logging
import Synchronization

/// An MQTT 5 client over libmosquitto. Owns the `struct mosquitto` handle. The caller's thread
/// runs the connection and every callback, inside `connect`, `publish`, `idle`, `receive`,
/// `waitForAcknowledgements` and `disconnect`, so the client lives on that one thread and is not
/// `Sendable`; other threads (metrics, readiness) read its `status`. libmosquitto's network
/// thread is not used: a publisher or a subscriber that keeps calling the client anyway sends
/// each message without waking another thread, and reads every packet that has arrived per wait
/// on the socket (see docs/benchmarks.md for what that saved).
///
/// Publishing: QoS 1 messages in flight (sent, PUBACK not yet received) are bounded by
/// `Options.maxInFlight`; `publish` blocks while the window is full. Message ids are 16-bit, so
/// the window must stay below 65 535.
///
/// Subscribing: with `cleanSession == false` and a fixed client id, the broker keeps the session
/// (subscriptions and unacknowledged QoS 1 messages) across disconnects for `sessionExpiry`.
/// Without `holdAcknowledgements`, libmosquitto sends the PUBACK when `onMessage` returns, so
/// `onMessage` must hand the message on before returning. With it, the owner takes messages with
/// `receive` and releases their PUBACKs with `acknowledgeReceived` (`MessageSubscriber`).
public final class MQTTClient {
    public struct Options: Sendable {
        public var host: String
        public var port: Int32
        public var clientId: String
        public var cleanSession: Bool
        public var keepAliveSeconds: Int32 = 30
        /// How long the broker keeps a persistent session after a disconnect.
        public var sessionExpirySeconds: UInt32 = 7 * 24 * 3600
        public var username: String?
        public var password: String?
        public var maxInFlight: Int = 1000
        /// Queue PUBACKs until `acknowledgeReceived` (for `receive`, instead of `onMessage`).
        public var holdAcknowledgements = false
        /// QoS 1 messages the broker may send before they are acknowledged (MQTT 5 receive
        /// maximum, 1 to 65 535).
        public var receiveMaximum: Int = 20
        /// nil: plain TCP. TLS 1.2 at least; the broker's certificate must chain to the CA file
        /// (or the system's CAs) and, unless told otherwise, name `host`.
        public var tls: MQTTSettings.TLS?

        public init(host: String, port: Int32, clientId: String, cleanSession: Bool, username: String? = nil, password: String? = nil) {
            self.host = host
            self.port = port
            self.clientId = clientId
            self.cleanSession = cleanSession
            self.username = username
            self.password = password
        }

        /// From the service's parsed MQTT options.
        public init(_ settings: MQTTSettings, cleanSession: Bool) {
            self.init(host: settings.host, port: settings.port, clientId: settings.clientId, cleanSession: cleanSession,
                      username: settings.username, password: settings.password)
            tls = settings.tls
        }
    }

    public struct Statistics: Sendable {
        public var published: Int
        public var acknowledged: Int
        public var rejected: Int
        public var received: Int
        public var connects: Int
    }

    let options: Options
    let logger: Logger
    let onMessage: ((MQTTMessage) -> Void)?
    private let handle: OpaquePointer
    /// What other threads may read.
    public let status: MQTTClientStatus

    var connectResult: Int32?
    /// When to try reconnecting after the connection was lost, and the current back-off (1 s
    /// doubling to 10 s).
    private var reconnectAt: ContinuousClock.Instant?
    private var reconnectDelay: Duration = .seconds(1)
    /// Subscriptions re-sent on every (re)connect.
    var subscriptions: [(String, Int32)] = []
    /// Packets whose callback ran (PUBLISH, PUBACK, CONNACK, SUBACK): tells a read that handled one.
    var packetsHandled = 0
    /// The last turn read its limit of packets: more may be buffered where poll cannot see them.
    private var readStoppedAtLimit = false
    /// The last error libmosquitto logged (a TLS handshake's reason), or of the last failed turn.
    var lastLibraryError: String?
    /// Messages read and not yet returned by `receive` (hold mode).
    var inbox: [MQTTMessage] = []
    /// Messages read on the current connection and not yet acknowledged by the owner (hold mode).
    /// While there are any, nothing is written: libmosquitto has queued their PUBACKs, and writing
    /// writes everything queued.
    var unacknowledgedOnConnection = 0

    private static let libraryInit: Void = { mosquitto_lib_init() }()

    /// `status`: where the client reports its state, made by the caller when other threads must
    /// read it before the client exists (a client is made on the thread that runs it).
    public init(options: Options, logger: Logger, status: MQTTClientStatus = MQTTClientStatus(),
                onMessage: ((MQTTMessage) -> Void)? = nil) throws(MQTTError) {
        _ = Self.libraryInit
        self.options = options
        self.logger = logger
        self.status = status
        self.onMessage = onMessage
        guard let handle = mosquitto_new(options.clientId, options.cleanSession, nil) else {
            throw MQTTError(message: "mosquitto_new failed for client id '\(options.clientId)'")
        }
        self.handle = handle
        // Not retained: libmosquitto calls back only inside the owner's calls on the client,
        // which keep it alive, and `deinit` destroys the handle before the memory goes.
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5)
        mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1)
        mosquitto_max_inflight_messages_set(handle, UInt32(min(options.maxInFlight, 65_535)))
        mosquitto_int_option(handle, MOSQ_OPT_RECEIVE_MAXIMUM, Int32(min(max(options.receiveMaximum, 1), 65_535)))
        if options.holdAcknowledgements {
            // libmosquitto then queues every packet (PUBACKs included) and writes only when
            // `mosquitto_loop_write` is called: the owner decides when PUBACKs leave.
            mosquitto_threaded_set(handle, true)
        }
        if let username = options.username {
            mosquitto_username_pw_set(handle, username, options.password)
        }
        if let tls = options.tls {
            // Without a CA file, the system's CA folder. No key password callback: libmosquitto
            // would otherwise have OpenSSL ask for one on the terminal, and a service must fail.
            var rc = mosquitto_tls_set(handle, tls.caFile, tls.caFile == nil ? "/etc/ssl/certs" : nil,
                                       tls.certificateFile, tls.keyFile, chirpMQTTNoKeyPassword)
            if rc == MOSQ_ERR_SUCCESS.rawValue { rc = mosquitto_tls_opts_set(handle, 1, "tlsv1.2", nil) }
            if rc == MOSQ_ERR_SUCCESS.rawValue { rc = mosquitto_tls_insecure_set(handle, !tls.checkHostname) }
            guard rc == MOSQ_ERR_SUCCESS.rawValue else {
                mosquitto_destroy(handle)
                throw MQTTError(code: rc, context: "setting up TLS (CA file '\(tls.caFile ?? "/etc/ssl/certs")', certificate '\(tls.certificateFile ?? "none")')")
            }
        }
        mosquitto_log_callback_set(handle, chirpMQTTLogCallback)
        mosquitto_connect_v5_callback_set(handle, chirpMQTTConnectCallback)
        mosquitto_disconnect_v5_callback_set(handle, chirpMQTTDisconnectCallback)
        mosquitto_publish_v5_callback_set(handle, chirpMQTTPublishCallback)
        mosquitto_subscribe_v5_callback_set(handle, chirpMQTTSubscribeCallback)
        if onMessage != nil || options.holdAcknowledgements {
            mosquitto_message_v5_callback_set(handle, chirpMQTTMessageCallback)
        }
    }

    deinit {
        mosquitto_destroy(handle)
        status.connected.store(false, ordering: .relaxed)
    }

    // MARK: Connection

    /// Connects and waits for the broker's CONNACK.
    public func connect(timeout: Duration = .seconds(10)) throws(MQTTError) {
        unacknowledgedOnConnection = 0
        lastLibraryError = nil
        var properties: OpaquePointer? = nil
        if !options.cleanSession {
            mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), options.sessionExpirySeconds)
        }
        let rc = mosquitto_connect_bind_v5(handle, options.host, options.port, options.keepAliveSeconds, nil, properties)
        mosquitto_property_free_all(&properties)
        guard rc == MOSQ_ERR_SUCCESS.rawValue else {
            throw MQTTError(code: rc, context: "connecting to \(brokerURL)" + (lastLibraryError.map { " (\($0))" } ?? ""))
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let result = connectResult {
                guard result == 0 else {
                    throw MQTTError(message: "broker refused connection: \(String(cString: mosquitto_reason_string(result)))")
                }
                return
            }
            // A certificate that does not verify will not verify on the next try either.
            if let error = lastLibraryError, error.hasPrefix("OpenSSL") {
                throw MQTTError(message: "TLS handshake with \(brokerURL) failed: \(error)")
            }
            runNetwork(milliseconds: 5)
        }
        throw MQTTError(message: "no CONNACK from \(brokerURL) within \(timeout)" + (lastLibraryError.map { " (last error: \($0))" } ?? ""))
    }

    public var isConnected: Bool { status.isConnected }

    var brokerURL: String { "\(options.tls == nil ? "mqtt" : "mqtts")://\(options.host):\(options.port)" }

    /// Connected, and the broker acknowledged every subscription since (SUBACK).
    public var isSubscribed: Bool { status.isSubscribed }

    /// Subscribes after every (re)connect, and now if connected.
    public func subscribe(_ topic: String, qos: Int32 = 1) throws(MQTTError) {
        subscriptions.append((topic, qos))
        status.subscriptions.store(subscriptions.count, ordering: .relaxed)
        guard isConnected else { return }
        let rc = mosquitto_subscribe_v5(handle, nil, topic, qos, 0, nil)
        guard rc == MOSQ_ERR_SUCCESS.rawValue else { throw MQTTError(code: rc, context: "subscribing to \(topic)") }
    }

    func resubscribe() {
        for (topic, qos) in subscriptions {
            mosquitto_subscribe_v5(handle, nil, topic, qos, 0, nil)
        }
    }

    // MARK: Publishing

    /// Publishes one message; blocks while `maxInFlight` QoS>0 messages await their PUBACK.
    /// Returns false when the window stayed full for `timeout`.
    @discardableResult
    public func publish(
        topic: String, payload: [UInt8], qos: Int32 = 1, userProperties: [(String, String)] = [],
        timeout: Duration = .seconds(60)
    ) throws(MQTTError) -> Bool {
        if qos > 0 {
            let deadline = ContinuousClock.now + timeout
            while inFlight >= options.maxInFlight {
                guard ContinuousClock.now < deadline else { return false }
                runNetwork(milliseconds: 100)
            }
        }
        var properties: OpaquePointer? = nil
        for (name, value) in userProperties {
            mosquitto_property_add_string_pair(&properties, Int32(MQTT_PROP_USER_PROPERTY.rawValue), name, value)
        }
        let rc = payload.withUnsafeBytes { bytes in
            mosquitto_publish_v5(handle, nil, topic, Int32(bytes.count), bytes.baseAddress, qos, false, properties)
        }
        mosquitto_property_free_all(&properties)
        // libmosquitto queues a QoS>0 message before it tries to write it, and sends it again
        // after a reconnect (its PUBACK follows). So only the errors it reports before queueing
        // lose the message; any other (no connection, or a connection that died under this very
        // write: EPIPE, ECONNRESET, or over TLS EPROTO/MOSQ_ERR_TLS) leaves it queued, and the next
        // turn reconnects.
        let queued = qos > 0 && !Self.refusedBeforeQueueing.contains(rc)
        guard rc == MOSQ_ERR_SUCCESS.rawValue || queued else {
            throw MQTTError(code: rc, context: "publishing to \(topic)")
        }
        status.published.add(1, ordering: .relaxed)
        if qos == 0 { status.acknowledged.add(1, ordering: .relaxed) }
        return true
    }

    /// Called while the connection runs when a QoS 1 PUBACK arrives.
    func didAcknowledge(reasonCode: Int32) {
        packetsHandled += 1
        if reasonCode >= 0x80 {
            status.rejected.add(1, ordering: .relaxed)
            logger.warning("broker rejected a message", metadata: ["reason": "\(String(cString: mosquitto_reason_string(reasonCode)))"])
        } else {
            status.acknowledged.add(1, ordering: .relaxed)
        }
    }

    /// Published QoS>0 messages whose PUBACK has not arrived.
    private var inFlight: Int { status.counts.unanswered }

    /// Runs the connection for `duration`: incoming messages, PUBACKs, keep-alive, reconnecting.
    public func idle(for duration: Duration) {
        let deadline = ContinuousClock.now + duration
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return }
            runNetwork(milliseconds: Int32((min(left, .seconds(1)) / .milliseconds(1)).rounded(.up)))
        }
    }

    /// One turn of the connection for up to `milliseconds`, reconnecting with back-off (1 s
    /// doubling to 10 s) when it is gone.
    private func runNetwork(milliseconds: Int32) {
        if let reconnectAt {
            let now = ContinuousClock.now
            guard now >= reconnectAt else {
                Thread.sleep(forTimeInterval: min(reconnectAt - now, .milliseconds(Int64(milliseconds))) / .seconds(1))
                return
            }
            // A reconnect drops the packets still queued, held PUBACKs included: the broker sends
            // those messages again.
            unacknowledgedOnConnection = 0
            if mosquitto_reconnect(handle) == MOSQ_ERR_SUCCESS.rawValue {
                self.reconnectAt = nil
                reconnectDelay = .seconds(1)
            } else {
                reconnectDelay = min(reconnectDelay * 2, .seconds(10))
                self.reconnectAt = now + reconnectDelay
            }
            return
        }
        if !serviceSocket(milliseconds: milliseconds) {
            reconnectAt = ContinuousClock.now + reconnectDelay
        }
    }

    /// Packets read in one turn at most, so that writing (PUBACKs) and keep-alive get their turn.
    private static let packetsPerTurn = 256

    /// One turn of the connection on the caller's thread: waits up to `milliseconds` for the
    /// socket, reads every packet that has arrived, sends what is queued and keeps the connection
    /// alive. libmosquitto's own `mosquitto_loop` reads a single incoming PUBLISH per wait (and
    /// wakes itself through a socket pair for every packet it queues), so a subscriber would pay a
    /// `select` and more per message. False when the connection is gone.
    private func serviceSocket(milliseconds: Int32) -> Bool {
        let socket = mosquitto_socket(handle)
        guard socket >= 0 else { return false }
        if mayWrite, mosquitto_want_write(handle), mosquitto_loop_write(handle, 1) != MOSQ_ERR_SUCCESS.rawValue { return false }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        if mayWrite, mosquitto_want_write(handle) { descriptor.events |= Int16(POLLOUT) }
        // Over TLS, packets may wait in OpenSSL's buffer with nothing left on the socket: after a
        // turn that stopped at its limit, read again without waiting for the socket.
        let buffered = readStoppedAtLimit
        readStoppedAtLimit = false
        let ready = poll(&descriptor, 1, buffered ? 0 : milliseconds) > 0 && descriptor.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0
        if ready || buffered {
            for turn in 0..<Self.packetsPerTurn {
                // libmosquitto returns success for a drained socket too, and its errno is no
                // guide (queueing a packet writes a wake-up byte to a socket pair nobody drains
                // here, which fails with EAGAIN once that is full): a read that handled no packet
                // ends the turn.
                let before = packetsHandled
                guard mosquitto_loop_read(handle, 1) == MOSQ_ERR_SUCCESS.rawValue else { return false }
                if packetsHandled == before { break }
                if turn == Self.packetsPerTurn - 1 { readStoppedAtLimit = true }
            }
        }
        if mayWrite, mosquitto_want_write(handle), mosquitto_loop_write(handle, 1) != MOSQ_ERR_SUCCESS.rawValue { return false }
        return mosquitto_loop_misc(handle) == MOSQ_ERR_SUCCESS.rawValue
    }

    /// Whether queued packets may be written: always, unless PUBACKs are held.
    private var mayWrite: Bool { !options.holdAcknowledgements || unacknowledgedOnConnection == 0 }

    /// Called while the connection runs for every message read.
    func didReceive(_ message: MQTTMessage) {
        packetsHandled += 1
        status.received.add(1, ordering: .relaxed)
        if options.holdAcknowledgements {
            unacknowledgedOnConnection += 1
            inbox.append(message)
        } else {
            onMessage?(message)
        }
    }

    // MARK: Subscribing with held acknowledgements

    /// The messages read (hold mode), waiting up to `timeout` for the first.
    public func receive(timeout: Duration) -> [MQTTMessage] {
        precondition(options.holdAcknowledgements, "receive needs holdAcknowledgements")
        let deadline = ContinuousClock.now + timeout
        while inbox.isEmpty {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            runNetwork(milliseconds: Int32((min(left, .seconds(1)) / .milliseconds(1)).rounded(.up)))
        }
        defer { inbox.removeAll(keepingCapacity: true) }
        return inbox
    }

    /// Releases the PUBACKs of every message `receive` returned on this connection.
    public func acknowledgeReceived() {
        // Messages read but not yet returned keep holding: their PUBACKs are queued too.
        unacknowledgedOnConnection = inbox.count
        if mayWrite, isConnected, mosquitto_want_write(handle) {
            _ = mosquitto_loop_write(handle, 1)
        }
    }

    /// Waits until every published message is acknowledged (or rejected), up to `timeout`.
    public func waitForAcknowledgements(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if inFlight <= 0 { return true }
            runNetwork(milliseconds: 5)
        }
        return false
    }

    public var statistics: Statistics { status.statistics }

    /// Disconnects cleanly. The client cannot be reused.
    public func disconnect() {
        mosquitto_disconnect_v5(handle, 0, nil)
        if options.holdAcknowledgements {
            // Only writes, and only if no PUBACK is held: otherwise the connection just closes
            // (with the handle) and the broker sends the unacknowledged messages again.
            for _ in 0..<50 where mayWrite && mosquitto_want_write(handle) {
                if mosquitto_loop_write(handle, 1) != MOSQ_ERR_SUCCESS.rawValue { break }
                Thread.sleep(forTimeInterval: 0.01)
            }
        } else {
            // Sends what is queued (the DISCONNECT) until libmosquitto reports the connection closed.
            for _ in 0..<50 {
                if mosquitto_loop(handle, 10, 1) != MOSQ_ERR_SUCCESS.rawValue { break }
            }
        }
        status.connected.store(false, ordering: .relaxed)
    }
}

/// What any thread may read about an `MQTTClient`: whether it is connected and subscribed, and
/// its counters. The client's thread writes it.
public final class MQTTClientStatus: Sendable {
    let connected = Atomic<Bool>(false)
    let published = Atomic<Int>(0)
    let acknowledged = Atomic<Int>(0)
    let rejected = Atomic<Int>(0)
    let received = Atomic<Int>(0)
    let connects = Atomic<Int>(0)
    let subscriptions = Atomic<Int>(0)
    /// SUBACKs received since the last connect.
    let acknowledgedSubscriptions = Atomic<Int>(0)

    public init() {}

    public var isConnected: Bool { connected.load(ordering: .relaxed) }

    /// Connected, and the broker acknowledged every subscription since (SUBACK).
    public var isSubscribed: Bool {
        isConnected && acknowledgedSubscriptions.load(ordering: .relaxed) >= subscriptions.load(ordering: .relaxed)
    }

    public var statistics: MQTTClient.Statistics {
        MQTTClient.Statistics(
            published: published.load(ordering: .relaxed), acknowledged: acknowledged.load(ordering: .relaxed),
            rejected: rejected.load(ordering: .relaxed), received: received.load(ordering: .relaxed),
            connects: connects.load(ordering: .relaxed)
        )
    }

    /// The publisher's counts (`MessagePublisher`).
    public var counts: PublishCounts {
        let statistics = self.statistics
        return PublishCounts(published: statistics.published, acknowledged: statistics.acknowledged, refused: statistics.rejected)
    }
}

extension MQTTClient: MessageSubscriber {}

extension MQTTClient: MessagePublisher {
    /// What `mosquitto_publish_v5` checks before it queues a message (libmosquitto 2.0).
    static let refusedBeforeQueueing = Set([
        MOSQ_ERR_INVAL, MOSQ_ERR_NOMEM, MOSQ_ERR_PAYLOAD_SIZE, MOSQ_ERR_MALFORMED_UTF8, MOSQ_ERR_QOS_NOT_SUPPORTED,
        MOSQ_ERR_OVERSIZE_PACKET, MOSQ_ERR_NOT_SUPPORTED, MOSQ_ERR_DUPLICATE_PROPERTY, MOSQ_ERR_PROTOCOL,
    ].map(\.rawValue))

    public func publish(topic: String, payload: [UInt8], userProperties: [MQTTMessage.UserProperty], timeout: Duration) throws -> Bool {
        try publish(topic: topic, payload: payload, qos: 1, userProperties: userProperties.map { ($0.name, $0.value) }, timeout: timeout)
    }

    public var counts: PublishCounts { status.counts }
}
