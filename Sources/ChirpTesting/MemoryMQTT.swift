import ChirpPipeline

/// An MQTT broker in memory, as the bridge meets mosquitto: QoS 1, persistent sessions, and the
/// client's receive maximum. A message published while the broker is up is acknowledged to the
/// publisher and kept for every session subscribed to its topic until that session's client
/// acknowledges it. Messages sent on a connection and not acknowledged on it go again, first,
/// after the next connect. Sessions survive a restart (mosquitto's persistence).
public final class MemoryMQTTBroker {
    final class Session {
        let topic: String
        var queued: [MQTTMessage] = []
        var inFlight: [MQTTMessage] = []
        /// The current connection, nil while the client is away.
        var connection: Int?

        init(topic: String) {
            self.topic = topic
        }
    }

    public private(set) var isUp = true
    var sessions: [String: Session] = [:]
    private var connections = 0

    public init() {}

    /// A QoS 1 PUBLISH; true when the broker acknowledged it (PUBACK).
    public func publish(_ message: MQTTMessage) -> Bool {
        guard isUp else { return false }
        for session in sessions.values where session.topic == message.topic {
            session.queued.append(message)
        }
        return true
    }

    /// A persistent session subscribed to `topic`, as a subscriber's first connection leaves it.
    public func createSession(clientId: String, topic: String) {
        if sessions[clientId] == nil { sessions[clientId] = Session(topic: topic) }
    }

    /// A CONNECT with clean session off and a SUBSCRIBE: the connection's number, nil while down.
    func connect(clientId: String, topic: String) -> Int? {
        guard isUp else { return nil }
        let session = sessions[clientId] ?? Session(topic: topic)
        sessions[clientId] = session
        end(session)
        connections += 1
        session.connection = connections
        return connections
    }

    /// Up to `limit` messages (less those in flight) sent on `connection`; none if it is gone.
    func send(clientId: String, connection: Int, upTo limit: Int) -> [MQTTMessage] {
        guard isUp, let session = sessions[clientId], session.connection == connection else { return [] }
        let count = min(session.queued.count, max(0, limit - session.inFlight.count))
        let sent = Array(session.queued.prefix(count))
        session.queued.removeFirst(count)
        session.inFlight += sent
        return sent
    }

    /// PUBACKs of the first `count` messages in flight on `connection`.
    func acknowledge(clientId: String, connection: Int, count: Int) {
        guard isUp, let session = sessions[clientId], session.connection == connection else { return }
        session.inFlight.removeFirst(min(count, session.inFlight.count))
    }

    func isCurrent(clientId: String, connection: Int) -> Bool {
        isUp && sessions[clientId]?.connection == connection
    }

    /// The connection ends (the client went away or the network cut it): what was in flight is
    /// sent again first.
    public func disconnect(clientId: String) {
        if let session = sessions[clientId] { end(session) }
    }

    private func end(_ session: Session) {
        session.queued = session.inFlight + session.queued
        session.inFlight = []
        session.connection = nil
    }

    /// The broker stops: every connection ends; the sessions are kept.
    public func stop() {
        for session in sessions.values { end(session) }
        isUp = false
    }

    public func start() {
        isUp = true
    }

    /// Messages a session has not had acknowledged (queued or in flight).
    public func backlog(clientId: String) -> Int {
        sessions[clientId].map { $0.queued.count + $0.inFlight.count } ?? 0
    }
}

/// A subscriber on a `MemoryMQTTBroker`, as `MQTTClient` with held acknowledgements behaves:
/// it connects (and reconnects) when asked to receive, and acknowledges only on its current
/// connection.
public final class MemorySubscriber: MessageSubscriber {
    unowned let broker: MemoryMQTTBroker
    let clientId: String
    let topic: String
    let receiveMaximum: Int
    let dice: Dice
    private var connection: Int?
    /// Returned on the current connection and not yet acknowledged.
    private var returned = 0

    public init(broker: MemoryMQTTBroker, clientId: String, topic: String, receiveMaximum: Int, dice: Dice) {
        self.broker = broker
        self.clientId = clientId
        self.topic = topic
        self.receiveMaximum = receiveMaximum
        self.dice = dice
    }

    public func receive(timeout: Duration) -> [MQTTMessage] {
        if connection.map({ !broker.isCurrent(clientId: clientId, connection: $0) }) ?? true {
            returned = 0
            connection = broker.connect(clientId: clientId, topic: topic)
        }
        guard let connection else { return [] }
        // What has arrived so far: part of what the broker may send.
        let messages = broker.send(clientId: clientId, connection: connection, upTo: dice.int(1..<receiveMaximum + 1))
        returned += messages.count
        return messages
    }

    public func acknowledgeReceived() {
        guard let connection else { return }
        broker.acknowledge(clientId: clientId, connection: connection, count: returned)
        returned = 0
    }

    /// The process dies: its connection ends without acknowledging anything more.
    public func crash() {
        broker.disconnect(clientId: clientId)
        connection = nil
    }
}

/// A QoS 1 publisher on a `MemoryMQTTBroker`, as `MQTTClient` behaves for the sender: a message
/// published while the broker is down stays queued in the client and goes when it is back; time
/// passes on the manual clock while it idles or waits.
public final class MemoryPublisher: MessagePublisher {
    unowned let broker: MemoryMQTTBroker
    let clock: ManualClock
    public private(set) var counts = PublishCounts(published: 0, acknowledged: 0, refused: 0)
    /// When each message was handed to `publish`, in order.
    public private(set) var publishedAt: [Duration] = []
    private var queued: [MQTTMessage] = []

    public init(broker: MemoryMQTTBroker, clock: ManualClock) {
        self.broker = broker
        self.clock = clock
    }

    public func publish(topic: String, payload: [UInt8], userProperties: [MQTTMessage.UserProperty], timeout: Duration) throws -> Bool {
        counts.published += 1
        publishedAt.append(clock.now)
        queued.append(MQTTMessage(topic: topic, payload: payload, userProperties: userProperties))
        sendQueued()
        return true
    }

    public func idle(for duration: Duration) {
        clock.advance(by: duration)
        sendQueued()
    }

    public func waitForAcknowledgements(timeout: Duration) -> Bool {
        sendQueued()
        if !queued.isEmpty { idle(for: timeout) }
        return queued.isEmpty
    }

    private func sendQueued() {
        while let message = queued.first, broker.publish(message) {
            queued.removeFirst()
            counts.acknowledged += 1
        }
    }
}
