import ChirpCore
import ChirpPipeline
import ChirpService
import ChirpTesting
import Testing

/// The sender's replay loop over the in-memory MQTT broker, on a manual clock.
@Suite struct ReplayLoopTests {
    /// JSON lines handed out a few at a time, as a file read in chunks.
    final class LinesSource: TweetSource {
        let text: String
        private var reader = TweetInputReader(format: .json)
        private var chunks: [[UInt8]] = []

        init(_ lines: [String]) {
            text = lines.joined(separator: "\n") + "\n"
        }

        func rewind() throws {
            reader = TweetInputReader(format: .json)
            let bytes = Array(text.utf8)
            chunks = stride(from: 0, to: bytes.count, by: 7).map { Array(bytes[$0..<min($0 + 7, bytes.count)]) }
        }

        func next() throws -> [TweetInputReader.Item]? {
            if chunks.isEmpty {
                let last = try reader.finish()
                return last.isEmpty ? nil : last
            }
            return try reader.feed(chunks.removeFirst())
        }
    }

    final class Parts {
        let clock = ManualClock()
        let broker = MemoryMQTTBroker()
        let publisher: MemoryPublisher
        let metrics = ReplayMetrics(MetricsRegistry())
        let loop: ReplayLoop<MemoryPublisher, LinesSource>

        init(_ lines: [String], pace: ReplayPace = .unlimited, loop repeating: Bool = false) {
            broker.createSession(clientId: "bridge", topic: "tweets")
            publisher = MemoryPublisher(broker: broker, clock: clock)
            var settings = ReplaySettings(topic: "tweets", pace: pace)
            settings.loop = repeating
            let clock = self.clock
            loop = ReplayLoop(settings: settings, publisher: publisher, source: LinesSource(lines), clock: clock, metrics: metrics,
                              wallClock: { 1_700_000_000_000 + Int64(clock.now.seconds * 1000) })
        }

        /// Steps until the replay ends (or `limit` steps).
        func run(limit: Int = 1000) throws {
            let stop = StopSignal()
            for _ in 0..<limit where try loop.step(stop: stop) {}
        }

        /// What the bridge's session holds: (tweet-id property, payload).
        var received: [(id: String?, payload: String)] {
            let subscriber = MemorySubscriber(broker: broker, clientId: "bridge", topic: "tweets", receiveMaximum: 10_000, dice: Dice(seed: 1))
            var all: [MQTTMessage] = []
            while true {
                let messages = subscriber.receive(timeout: .zero)
                if messages.isEmpty { break }
                all += messages
                subscriber.acknowledgeReceived()
            }
            return all.map { ($0.userProperty(Wire.tweetId), String(decoding: $0.payload, as: UTF8.self)) }
        }
    }

    static func tweet(_ id: Int) -> String { #"{"id":"\#(id)","text":"tweet \#(id) #tag"}"# }

    @Test func aRateSpacesThePublishesEvenly() throws {
        let parts = Parts((0..<10).map(Self.tweet), pace: .rate(100))
        try parts.run()
        try parts.loop.finish()
        #expect(parts.publisher.publishedAt == (0..<10).map { Duration.milliseconds(10 * $0) })
        #expect(parts.received.map(\.id) == (0..<10).map { "\($0)" })
        #expect(parts.metrics.published.total == 10)
    }

    @Test func documentsThatAreNoTweetAreCountedAndTheRestIsSent() throws {
        let parts = Parts([Self.tweet(1), #"{"text":"no id"}"#, "[1,2", Self.tweet(2)])
        try parts.run()
        try parts.loop.finish()
        #expect(parts.received.map(\.id) == ["1", "2"])
        #expect(parts.metrics.invalid.total == 2)
    }

    /// Pass k ≥ 2 suffixes every id with ~k, in the payload and in the tweet-id property alike.
    @Test func aLoopingReplayMakesNewIdsEachPass() throws {
        let parts = Parts([Self.tweet(1), Self.tweet(2)], loop: true)
        let stop = StopSignal()
        while parts.loop.pass < 3 || parts.publisher.counts.published < 6 { _ = try parts.loop.step(stop: stop) }
        let received = parts.received.prefix(6)
        #expect(received.map(\.id) == ["1", "2", "1~2", "2~2", "1~3", "2~3"])
        #expect(received[2].payload.contains(#""id":"1~2""#))
    }

    @Test func tweetsPublishedWhileTheBrokerIsDownGoWhenItIsBack() throws {
        let parts = Parts((0..<5).map(Self.tweet))
        parts.broker.stop()
        try parts.run()
        #expect(parts.publisher.counts.unanswered == 5)
        parts.broker.start()
        try parts.loop.finish()
        #expect(parts.received.count == 5)
    }

    @Test func aBrokerThatNeverComesBackFailsTheReplay() throws {
        let parts = Parts((0..<3).map(Self.tweet))
        parts.broker.stop()
        try parts.run()
        #expect(throws: ReplayFailed.self) { try parts.loop.finish(timeout: .seconds(5)) }
    }
}
