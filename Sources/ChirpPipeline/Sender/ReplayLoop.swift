import ChirpCore
import ChirpService
import Logging

/// An MQTT publisher with QoS 1 and a bounded window of messages awaiting their PUBACK.
public protocol MessagePublisher: AnyObject {
    /// Publishes one message, waiting while the window is full; false when it stayed full for
    /// `timeout`.
    func publish(topic: String, payload: [UInt8], userProperties: [MQTTMessage.UserProperty], timeout: Duration) throws -> Bool
    /// Runs the connection for `duration`: PUBACKs, keep-alive, reconnecting.
    func idle(for duration: Duration)
    /// Waits until every published message is acknowledged or refused; false on timeout.
    func waitForAcknowledgements(timeout: Duration) -> Bool
    /// Published, acknowledged and refused messages so far.
    var counts: PublishCounts { get }
}

public struct PublishCounts: Sendable, Equatable {
    public var published: Int
    public var acknowledged: Int
    public var refused: Int

    public init(published: Int, acknowledged: Int, refused: Int) {
        self.published = published
        self.acknowledged = acknowledged
        self.refused = refused
    }

    /// Published and neither acknowledged nor refused.
    public var unanswered: Int { published - acknowledged - refused }
}

/// A tweets file read pass by pass.
public protocol TweetSource: AnyObject {
    /// Starts a pass at the beginning.
    func rewind() throws
    /// The next tweets (or documents that are none), nil at the end of the pass.
    func next() throws -> [TweetInputReader.Item]?
}

/// What the sender is told once, at start.
public struct ReplaySettings: Sendable {
    public var topic: String
    public var pace: ReplayPace
    /// Pass after pass until stopped; pass k ≥ 2 suffixes every id with `~k`.
    public var loop = false
    /// Each tweet's created_at becomes the moment it is sent.
    public var restamp = false
    /// How long a full window may last before the replay fails.
    public var acknowledgementTimeout: Duration = .seconds(60)

    public init(topic: String, pace: ReplayPace) {
        self.topic = topic
        self.pace = pace
    }
}

/// The sender's metrics.
public struct ReplayMetrics: Sendable {
    public let published: Counter
    public let invalid: Counter

    public init(_ metrics: MetricsRegistry) {
        published = metrics.counter("sender_published_total", help: "Tweets published to MQTT.")
        invalid = metrics.counter("sender_invalid_documents_total", help: "Documents in the file that are no valid tweet.", label: "reason")
    }
}

public struct ReplayFailed: Error, CustomStringConvertible {
    public var description: String
}

/// File → MQTT: each tweet published with QoS 1 at its due time (`ReplayPacer`), with the publish
/// time and the tweet id as MQTT 5 user properties. One thread owns the loop and its ports.
public final class ReplayLoop<Publisher: MessagePublisher, Source: TweetSource> {
    public let settings: ReplaySettings
    let publisher: Publisher
    let source: Source
    let clock: any PipelineClock
    let metrics: ReplayMetrics
    /// Epoch milliseconds now: the publish time.
    let wallClock: () -> Int64
    /// Told about each document that is no tweet (the first few go to stderr).
    let onInvalid: (TweetFileProblem) -> Void

    public private(set) var pass = 0
    public private(set) var sent = 0
    private var pacer: ReplayPacer
    private var passStart: Duration = .zero
    private var index = 0
    private var passOpen = false

    public init(settings: ReplaySettings, publisher: Publisher, source: Source, clock: any PipelineClock, metrics: ReplayMetrics,
                wallClock: @escaping () -> Int64, onInvalid: @escaping (TweetFileProblem) -> Void = { _ in }) {
        self.settings = settings
        self.publisher = publisher
        self.source = source
        self.clock = clock
        self.metrics = metrics
        self.wallClock = wallClock
        self.onInvalid = onInvalid
        pacer = ReplayPacer(pace: settings.pace)
    }

    /// Publishes the next chunk of the file; false once the replay is over (the last pass ended
    /// and the loop is off).
    public func step(stop: StopSignal) throws -> Bool {
        if !passOpen {
            if pass > 0, !settings.loop { return false }
            try source.rewind()
            pass += 1
            pacer = ReplayPacer(pace: settings.pace)
            passStart = clock.now
            index = 0
            passOpen = true
        }
        guard let items = try source.next() else {
            passOpen = false
            return settings.loop
        }
        for item in items {
            switch item {
            case .failure(let problem):
                metrics.invalid.increment(label: problem.rejection.reason.rawValue)
                onInvalid(problem)
            case .success(let tweets):
                for tweet in tweets {
                    if stop.isStopping { return false }
                    let due = pacer.dueSeconds(index: index, eventTime: tweet.createdAt)
                    index += 1
                    let wait = passStart + .milliseconds(Int64(due * 1000)) - clock.now
                    if wait > .zero { publisher.idle(for: wait) }
                    try publish(tweet)
                }
            }
        }
        return true
    }

    /// Waits for the last PUBACKs; throws unless the broker acknowledged everything.
    public func finish(timeout: Duration = .seconds(60)) throws {
        let complete = publisher.waitForAcknowledgements(timeout: timeout)
        let counts = publisher.counts
        guard complete, counts.refused == 0 else {
            throw ReplayFailed(description: "\(counts.published - counts.acknowledged) of \(counts.published) tweets were not acknowledged by the broker")
        }
    }

    private func publish(_ tweet: OutgoingTweet) throws {
        var payload = tweet.payloadBytes
        var id = tweet.id
        let now = wallClock()
        let suffix = pass > 1 ? "~\(pass)" : nil
        if let suffix { id += suffix }
        if suffix != nil || settings.restamp {
            let shift = settings.restamp ? tweet.createdAt.map { now - $0.millisecondsSinceEpoch } ?? 0 : 0
            payload = PayloadRewriter.rewrite(tweet.payload, idSuffix: suffix, shiftMilliseconds: shift).serialized
        }
        let accepted = try publisher.publish(topic: settings.topic, payload: payload,
                                             userProperties: [.init(Wire.publishedAt, String(now)), .init(Wire.tweetId, id)],
                                             timeout: settings.acknowledgementTimeout)
        guard accepted else {
            throw ReplayFailed(description: "no PUBACK for \(Int(settings.acknowledgementTimeout.seconds)) s: the MQTT broker stopped acknowledging")
        }
        sent += 1
        metrics.published.increment()
    }
}
