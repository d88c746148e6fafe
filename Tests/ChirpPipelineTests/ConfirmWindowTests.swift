import ChirpCore
import ChirpPipeline
import ChirpTesting
import ChirpService
import Logging
import Testing

/// The bridge's confirm window as a table: reports in, what happens to each message out.
@Suite struct ConfirmWindowTests {
    static let refused = ProducerFailure(name: "INVALID_RECORD", message: "Broker: Broker rejected the record", recordTooLarge: false)
    static let tooLarge = ProducerFailure(name: "MSG_SIZE_TOO_LARGE", message: "Broker: Message size too large", recordTooLarge: true)

    func ok(_ token: UInt64) -> Delivery { Delivery(token: token, topic: "tweets.raw") }
    func no(_ token: UInt64, _ failure: ProducerFailure = refused) -> Delivery { Delivery(token: token, topic: "tweets.raw", failure: failure) }

    @Test func aWindowIsSettledOnlyWhenEveryMessageIsConfirmed() {
        var window = ConfirmWindow()
        #expect(window.isClosed && !window.isSettled)
        window.open(count: 3)
        for index in 0..<3 { window.sent(window.firstAttempt(index), token: UInt64(index + 1)) }
        #expect(window.settle(ok(2), now: .zero) == .confirmed(index: 1))
        #expect(window.settle(ok(1), now: .zero) == .confirmed(index: 0))
        #expect(!window.isSettled)
        #expect(window.settle(ok(3), now: .zero) == .confirmed(index: 2))
        #expect(window.isSettled)
        #expect(window.settle(ok(3), now: .zero) == .stale)
        window.close()
        #expect(window.isClosed)
    }

    @Test func aRefusedMessageGoesAgainAfterAPauseAndHoldsTheWindow() {
        var window = ConfirmWindow()
        window.open(count: 1)
        window.sent(window.firstAttempt(0), token: 1)
        #expect(window.settle(no(1), now: .seconds(10)) == .resend(index: 0, at: .seconds(10) + RetryPause.after(attempt: 1)))
        #expect(!window.isSettled && window.inFlightCount == 0)
        #expect(window.takeDue(now: .seconds(10)).isEmpty)
        let again = window.takeDue(now: .seconds(11))
        #expect(again.map(\.index) == [0] && again.map(\.number) == [2])
        window.sent(again[0], token: 2)
        #expect(window.settle(ok(2), now: .seconds(11)) == .confirmed(index: 0))
        #expect(window.isSettled)
    }

    /// While Kafka confirms nothing (an outage), refusals never give a message up.
    @Test func nothingIsGivenUpWhileKafkaConfirmsNothing() {
        var window = ConfirmWindow(maxStrikes: 3)
        window.open(count: 2)
        var now = Duration.zero
        var attempts = [window.firstAttempt(0), window.firstAttempt(1)]
        var token: UInt64 = 0
        for _ in 0..<10 {
            for attempt in attempts {
                token += 1
                window.sent(attempt, token: token)
                guard case .resend = window.settle(no(token), now: now) else { Issue.record("given up during an outage"); return }
            }
            now += .seconds(20)
            attempts = window.takeDue(now: now)
            #expect(attempts.count == 2)
        }
    }

    /// Refused again and again while other messages are confirmed: the refusal is about this
    /// message, which is given up on its third strike.
    @Test func aMessageRefusedWhileOthersAreConfirmedIsGivenUpOnItsThirdStrike() {
        var window = ConfirmWindow(maxStrikes: 3)
        window.open(count: 4)
        var now = Duration.zero
        var poison = window.firstAttempt(0)
        var token: UInt64 = 100
        for round in 1...3 {
            window.sent(poison, token: token)
            window.sent(window.firstAttempt(round), token: UInt64(round))
            #expect(window.settle(ok(UInt64(round)), now: now) == .confirmed(index: round))
            let outcome = window.settle(no(token), now: now)
            token += 1
            if round < 3 {
                guard case .resend = outcome else { Issue.record("round \(round): \(outcome)"); return }
                now += .seconds(20)
                poison = window.takeDue(now: now)[0]
                #expect(poison.strikes == round)
            } else {
                #expect(outcome == .givenUp(index: 0, Self.refused))
            }
        }
        #expect(window.isSettled)
    }

    @Test func aMessageTooLargeIsGivenUpAtOnce() {
        var window = ConfirmWindow()
        window.open(count: 2)
        window.sent(window.firstAttempt(0), token: 1)
        #expect(window.refused(window.firstAttempt(1), Self.tooLarge, now: .zero) == .givenUp(index: 1, Self.tooLarge))
        #expect(window.settle(no(1, Self.tooLarge), now: .zero) == .givenUp(index: 0, Self.tooLarge))
        #expect(window.isSettled)
    }
}

/// The bridge loop over the in-memory MQTT broker and Kafka producer.
@Suite struct BridgeLoopTests {
    final class Parts {
        let mqtt = MemoryMQTTBroker()
        let dice = Dice(seed: 7)
        let clock = ManualClock()
        let kafka: MemoryBroker
        let producer: MemoryProducer
        let subscriber: MemorySubscriber
        let metrics = BridgeMetrics(MetricsRegistry())
        let loop: BridgeLoop<MemorySubscriber, MemoryProducer>

        init(maxRecordBytes: Int = 4000) {
            kafka = MemoryBroker(clock: clock, dice: dice)
            kafka.createTopic("tweets.raw", partitions: 2)
            producer = MemoryProducer(broker: kafka, maximumRecordBytes: maxRecordBytes)
            subscriber = MemorySubscriber(broker: mqtt, clientId: "bridge", topic: "tweets", receiveMaximum: 50, dice: dice)
            loop = BridgeLoop(settings: BridgeSettings(rawTopic: "tweets.raw"), subscriber: subscriber, producer: producer, clock: clock,
                              metrics: metrics, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            _ = subscriber.receive(timeout: .zero)  // the session exists from here on
        }

        func publish(_ count: Int, from first: Int = 0) {
            for id in first..<first + count {
                #expect(mqtt.publish(MQTTMessage(topic: "tweets", payload: Array(#"{"id":"\#(id)","text":"x"}"#.utf8))))
            }
        }

        var rawValues: [String] {
            kafka.partitions(of: "tweets.raw").flatMap { kafka.logs[$0] ?? [] }.map { String(decoding: $0.value, as: UTF8.self) }
        }
    }

    @Test func everyMessageReachesKafkaBeforeItIsAcknowledged() throws {
        let parts = Parts()
        parts.publish(200)
        parts.producer.faults.stall = 1  // nothing is confirmed
        try parts.loop.step()
        let held = parts.loop.unacknowledged
        #expect(held > 0)
        #expect(parts.mqtt.backlog(clientId: "bridge") == 200)
        // The process dies here: the broker still has every message.
        parts.subscriber.crash()
        parts.producer.crash()
        #expect(parts.mqtt.backlog(clientId: "bridge") == 200)

        let again = Parts.restart(parts)
        for _ in 0..<50 where parts.mqtt.backlog(clientId: "bridge") > 0 { try again.step() }
        #expect(parts.mqtt.backlog(clientId: "bridge") == 0)
        #expect(Set(parts.rawValues).count == 200)
        #expect(parts.metrics.delivered.value() >= 200)
    }

    @Test func aMessageTooLargeForKafkaIsCountedAndTheRestFlows() throws {
        let parts = Parts(maxRecordBytes: 700)
        parts.publish(3)
        #expect(parts.mqtt.publish(MQTTMessage(topic: "tweets", payload: Array(String(repeating: "y", count: 300).utf8))))
        parts.publish(3, from: 3)
        for _ in 0..<20 where parts.mqtt.backlog(clientId: "bridge") > 0 { try parts.loop.step() }
        #expect(parts.mqtt.backlog(clientId: "bridge") == 0)
        #expect(parts.rawValues.count == 6)
        #expect(parts.metrics.rejected.value(label: "too_large") == 1)
    }

    @Test func aPublishTimeOutOfRangeIsNotForwarded() throws {
        let parts = Parts()
        let message = MQTTMessage(topic: "tweets", payload: Array(#"{"id":"t","text":"x"}"#.utf8),
                                  userProperties: [.init(Wire.publishedAt, "-9223372036854775808"), .init(Wire.tweetId, "t")])
        #expect(parts.mqtt.publish(message))
        try parts.loop.step()
        let record = try #require(parts.kafka.partitions(of: "tweets.raw").flatMap { parts.kafka.logs[$0] ?? [] }.first)
        #expect(record.headerString(Wire.publishedAt) == nil)
        #expect(record.key == Array("t".utf8))
        #expect(parts.metrics.ignoredHeaders.value(label: "\(Wire.publishedAt):out_of_range") == 1)
    }
}

extension BridgeLoopTests.Parts {
    /// A new bridge process on the same brokers and session.
    static func restart(_ parts: BridgeLoopTests.Parts) -> BridgeLoop<MemorySubscriber, MemoryProducer> {
        parts.producer.faults = MemoryProducer.Faults()
        let subscriber = MemorySubscriber(broker: parts.mqtt, clientId: "bridge", topic: "tweets", receiveMaximum: 50, dice: parts.dice)
        return BridgeLoop(settings: BridgeSettings(rawTopic: "tweets.raw"), subscriber: subscriber, producer: parts.producer, clock: parts.clock,
                          metrics: parts.metrics, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}
