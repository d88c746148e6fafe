import ChirpCore
import ChirpService
import Logging

/// What the bridge is told once, at start.
public struct BridgeSettings: Sendable {
    public var rawTopic: String
    /// Refusals of one message, while Kafka takes others, before it is given up.
    public var maxStrikes = 3
    /// How long a window may wait for Kafka before `/readyz` reports it.
    public var stallAfter: Duration = .seconds(10)

    public init(rawTopic: String) {
        self.rawTopic = rawTopic
    }
}

/// The bridge's metrics.
public struct BridgeMetrics: Sendable {
    public let received: Counter
    public let delivered: Counter
    public let deliveryFailures: Counter
    public let ignoredHeaders: Counter
    public let rejected: Counter
    public let unconfirmed: Gauge
    /// Why messages are not moving now (`/readyz`), nil when they are.
    public let problem = Locked<String?>(nil)

    public init(_ metrics: MetricsRegistry) {
        received = metrics.counter("bridge_received_total", help: "Messages received from MQTT (a message the broker sends again counts again).")
        delivered = metrics.counter("bridge_delivered_total", help: "Messages Kafka confirmed (acks=all).")
        deliveryFailures = metrics.counter(
            "bridge_delivery_failed_total", help: "Refusals by Kafka, by librdkafka error (the message is sent again or given up).", label: "error")
        ignoredHeaders = metrics.counter(
            "bridge_ignored_headers_total", help: "MQTT user properties not forwarded because their value is unusable, by property and problem.",
            label: "reason")
        rejected = metrics.counter("bridge_rejected_total", help: "MQTT messages acknowledged without being forwarded (logged), by reason.", label: "reason")
        unconfirmed = metrics.gauge("bridge_unconfirmed", help: "Messages received from MQTT that Kafka has not confirmed yet (none of them is acknowledged to MQTT).")
    }
}

/// MQTT → Kafka without a loss window: the bridge reads what has arrived, produces it, waits until
/// Kafka has confirmed all of it (`ConfirmWindow`), and only then lets the MQTT client write the
/// acknowledgements. A crash at any point leaves every unconfirmed message with the broker, which
/// sends it again on the next connection; Kafka may then get a message twice (at least once), and
/// the loader keeps one row per tweet id. The broker's in-flight limit for the bridge (its MQTT 5
/// receive maximum) bounds the window.
///
/// One thread owns the loop and its ports.
public final class BridgeLoop<Subscriber: MessageSubscriber, Producer: RecordProducer> {
    public let settings: BridgeSettings
    let subscriber: Subscriber
    let producer: Producer
    let clock: any PipelineClock
    let metrics: BridgeMetrics
    let logger: Logger

    private var window: ConfirmWindow
    /// The window's records by index, kept until confirmed in case they are refused.
    private var records: [Record?] = []
    private var openedAt: Duration = .zero
    private var nextToken: UInt64 = 1

    struct Record {
        var key: [UInt8]?
        var value: [UInt8]
        var headers: RecordHeaders
    }

    public init(settings: BridgeSettings, subscriber: Subscriber, producer: Producer, clock: any PipelineClock, metrics: BridgeMetrics, logger: Logger) {
        self.settings = settings
        self.subscriber = subscriber
        self.producer = producer
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
        window = ConfirmWindow(maxStrikes: settings.maxStrikes)
    }

    /// Messages received and not yet acknowledged.
    public var unacknowledged: Int { window.count }

    /// One round: read a window if none is open, then collect Kafka's confirmations and
    /// acknowledge the window once it is settled.
    public func step() throws {
        if let fatal = producer.fatalError { throw fatal }
        if window.isClosed {
            let messages = subscriber.receive(timeout: .milliseconds(100))
            guard !messages.isEmpty else { return }
            open(messages)
        }
        confirm(wait: .milliseconds(100))
    }

    /// Waits up to `timeout` for the open window and acknowledges it if Kafka confirmed it; call
    /// when stopping. Returns the messages left unconfirmed (the broker sends them again).
    public func finish(timeout: Duration = .seconds(30)) -> Int {
        let deadline = clock.now + timeout
        while !window.isClosed, clock.now < deadline {
            confirm(wait: .milliseconds(100))
        }
        let left = window.count
        window.close()
        records = []
        return left
    }

    private func open(_ messages: [MQTTMessage]) {
        metrics.received.increment(by: Int64(messages.count))
        window.open(count: messages.count)
        openedAt = clock.now
        records = messages.map(prepare)
        for index in records.indices {
            if records[index] != nil { send(window.firstAttempt(index)) }
        }
        metrics.unconfirmed.set(Double(window.inFlightCount))
    }

    /// The record for a message, or nil (counted and logged) when Kafka could not take it.
    private func prepare(_ message: MQTTMessage) -> Record? {
        let key = message.userProperty(Wire.tweetId) ?? TweetKey.extract(message.payload)
        var headers = RecordHeaders(minimumCapacity: 96)
        headers.append(Wire.mqttTopic, message.topic)
        // Anyone may publish: a publish time travels on only when it is a storable time.
        if let published = message.userProperty(Wire.publishedAt) {
            switch RecordHeaders.time(decimal: published) {
            case .success: headers.append(Wire.publishedAt, published)
            case .failure(let problem): metrics.ignoredHeaders.increment(label: "\(Wire.publishedAt):\(problem.rawValue)")
            }
        }
        // Kafka would refuse a larger record; one slightly smaller could not be dead-lettered whole.
        let limit = producer.maximumRecordBytes - Wire.deadLetterReserveBytes
        let size = producer.recordSize(keyBytes: key?.utf8.count ?? 0, valueBytes: message.payload.count, headers: headers)
        guard size <= limit else {
            metrics.rejected.increment(label: RejectReason.tooLarge.rawValue)
            logger.error("MQTT message too large for Kafka; not forwarded", metadata: [
                "topic": "\(message.topic)", "bytes": "\(size)", "limit": "\(limit)",
            ])
            return nil
        }
        return Record(key: key.map { Array($0.utf8) }, value: message.payload, headers: headers)
    }

    private func send(_ attempt: ConfirmWindow.Attempt) {
        guard let record = records[attempt.index] else { return }
        let token = nextToken
        nextToken += 1
        do throws(ProducerFailure) {
            try producer.send(topic: settings.rawTopic, key: record.key, value: record.value, headers: record.headers, token: token)
            window.sent(attempt, token: token)
        } catch {
            handle(window.refused(attempt, error, now: clock.now), failure: error)
        }
    }

    private func confirm(wait: Duration) {
        if window.inFlightCount > 0 {
            // Sends at once what lingers: the window waits for all of it anyway.
            _ = producer.flush(timeout: wait)
        } else if let due = window.nextResend {
            clock.sleep(for: min(wait, due - clock.now))
        }
        for delivery in producer.takeDeliveries() {
            handle(window.settle(delivery, now: clock.now), failure: delivery.failure)
        }
        for attempt in window.takeDue(now: clock.now) { send(attempt) }
        metrics.unconfirmed.set(Double(window.inFlightCount))
        if window.isSettled {
            subscriber.acknowledgeReceived()
            window.close()
            records = []
            metrics.problem.withLock { $0 = nil }
        } else if !window.isClosed, clock.now - openedAt > settings.stallAfter {
            let problem = "Kafka has not confirmed \(window.inFlightCount) of \(window.count) messages for \(Int((clock.now - openedAt).seconds)) s"
            metrics.problem.withLock { $0 = problem }
        }
    }

    private func handle(_ outcome: ConfirmWindow.Outcome, failure: ProducerFailure?) {
        switch outcome {
        case .confirmed(let index):
            metrics.delivered.increment()
            records[index] = nil
        case .resend(let index, _):
            if let failure { metrics.deliveryFailures.increment(label: failure.name) }
            logger.warning("kafka refused a message; sending it again", metadata: ["error": "\(failure.map { "\($0)" } ?? "")", "index": "\(index)"])
        case .givenUp(let index, let failure):
            metrics.deliveryFailures.increment(label: failure.name)
            let reason: RejectReason = failure.recordTooLarge ? .tooLarge : .undeliverable
            metrics.rejected.increment(label: reason.rawValue)
            logger.error("kafka refuses this message while it takes others; acknowledged without forwarding", metadata: [
                "error": "\(failure)", "bytes": "\(records[index]?.value.count ?? 0)",
            ])
            records[index] = nil
        case .stale:
            break
        }
    }
}
