import ChirpCore
import ChirpStore
import Foundation

// The small interfaces the pipeline's loops run over. The adapters (ChirpKafka, ChirpPostgres)
// implement them on the real servers; ChirpTesting implements them in memory for the
// deterministic simulation. Every port object is owned by one loop on one thread.

/// A consumer-group member: records in, offsets out.
public protocol RecordConsumer: AnyObject {
    /// Up to `maxMessages` records, waiting at most `timeout` for them.
    func poll(maxMessages: Int, timeout: Duration) -> [ConsumedRecord]
    /// The assignment changes met by `poll` since the last call, in order. They have already
    /// taken effect: revoked partitions can no longer store offsets.
    func takeAssignmentEvents() -> [AssignmentEvent]
    /// Marks work before each offset as done, for the group's next commit.
    func storeOffsets(_ offsets: [TopicPartitionOffset]) throws
    /// Moves the positions of assigned partitions; records fetched before are not delivered.
    /// Returns those that cannot be moved yet (to be tried again after the next poll).
    func seek(_ offsets: [TopicPartitionOffset]) throws -> [TopicPartitionOffset]
    /// Records on assigned partitions not yet consumed (approximate).
    func lag() -> Int64
    /// Stops fetching these partitions until `resume` (or until they are assigned anew).
    func pause(_ partitions: [TopicPartition]) throws
    func resume(_ partitions: [TopicPartition]) throws
}

/// Why the store refused or failed a load, in the classes the loader treats differently.
public struct SinkError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The connection is gone or the server is going away: reconnect and load again.
        case connectionLost
        /// A deadlock or serialization failure: load again at once.
        case conflict
        /// Some row is refused (a data exception or integrity violation): load row by row.
        case refusedData
        /// Anything else (permissions, a missing table): not the data's fault, not retried here.
        case other
    }

    public var kind: Kind
    /// The server's own code (SQLSTATE), when there is one.
    public var code: String?
    public var message: String

    public init(_ kind: Kind, code: String? = nil, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { code.map { "\($0): \(message)" } ?? message }
}

/// What `TweetSink.loadRowByRow` did with a batch the store refused as a whole.
public struct RowByRowResult: Sendable {
    public var inserted: Int
    public var refused: [(id: String, error: SinkError)]

    public init(inserted: Int, refused: [(id: String, error: SinkError)]) {
        self.inserted = inserted
        self.refused = refused
    }
}

/// The analytics store as the loader uses it. A batch's rows and its next offsets are written in
/// one transaction; inserting an id that is there already changes nothing.
public protocol TweetSink: AnyObject {
    /// Sends the batch, its offsets and COMMIT without waiting for the answer.
    func beginLoad(_ batch: TweetBatch, consumerGroup: String) throws(SinkError)
    /// Waits for the begun batch's answer: the number of new tweets. On an error nothing of the
    /// batch is kept.
    func finishLoad() throws(SinkError) -> Int
    /// No batch begun, or the begun one answered (`finishLoad` will not wait). Does not block.
    var isFree: Bool { get }
    /// Each row in its own transaction; refused rows are skipped and reported, the offsets are
    /// written with the last transaction.
    func loadRowByRow(_ batch: TweetBatch, consumerGroup: String) throws(SinkError) -> RowByRowResult
    /// The next offsets this group stored with its rows.
    func storedOffsets(consumerGroup: String) throws(SinkError) -> [TopicPartitionOffset]
    /// A new connection after a failure.
    func reconnect() throws(SinkError)
    /// Drops the raw payloads older than `days` whole days; returns how many partitions went.
    func dropRawPartitions(olderThanDays days: Int) throws(SinkError) -> Int
}

extension TweetSink {
    /// `beginLoad` and `finishLoad` in one.
    public func load(_ batch: TweetBatch, consumerGroup: String) throws(SinkError) -> Int {
        try beginLoad(batch, consumerGroup: consumerGroup)
        return try finishLoad()
    }
}

/// Time as the loops see it: the real clock in the services, a manual one in the simulation.
public protocol PipelineClock: AnyObject {
    /// Time since an arbitrary origin that does not change.
    var now: Duration { get }
    func sleep(for duration: Duration)
}

/// The process's monotonic clock.
public final class SystemClock: PipelineClock, Sendable {
    private let origin = ContinuousClock.now

    public init() {}

    public var now: Duration { ContinuousClock.now - origin }

    public func sleep(for duration: Duration) {
        guard duration > .zero else { return }
        Thread.sleep(forTimeInterval: duration.seconds)
    }
}

extension Duration {
    /// Seconds as a Double, for metrics and back-off arithmetic.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// What a producer reports about one record it sent.
public struct Delivery: Sendable, Equatable {
    /// The token given to `send`.
    public var token: UInt64
    public var topic: String
    /// nil when the record is durably written.
    public var failure: ProducerFailure?

    public init(token: UInt64, topic: String, failure: ProducerFailure? = nil) {
        self.token = token
        self.topic = topic
        self.failure = failure
    }
}

/// A record the broker or the client will not take.
public struct ProducerFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The client's name for the error (librdkafka's, such as MSG_SIZE_TOO_LARGE).
    public var name: String
    public var message: String
    /// Refused for its size: sending it again fails the same way.
    public var recordTooLarge: Bool

    public init(name: String, message: String, recordTooLarge: Bool) {
        self.name = name
        self.message = message
        self.recordTooLarge = recordTooLarge
    }

    public var description: String { "\(name): \(message)" }
}

/// A producer: records out, their deliveries reported back to the owner, who collects them with
/// `takeDeliveries` on its own thread (never inside a client callback).
public protocol RecordProducer: AnyObject {
    /// The largest record `send` takes, as `recordSize` counts.
    var maximumRecordBytes: Int { get }
    /// What a record counts against `maximumRecordBytes`.
    func recordSize(keyBytes: Int, valueBytes: Int, headers: RecordHeaders) -> Int
    /// Enqueues a record; may wait while the client's queue is full. A record refused at once is
    /// thrown (`recordTooLarge` when for its size).
    func send(topic: String, key: [UInt8]?, value: [UInt8], headers: RecordHeaders, token: UInt64) throws(ProducerFailure)
    /// Deliveries reported since the last call.
    func takeDeliveries() -> [Delivery]
    /// Waits until every record is reported or the timeout passes; returns how many are not.
    func flush(timeout: Duration) -> Int
    /// Records sent and not yet reported.
    var outstandingCount: Int { get }
    /// Set when the client can send nothing more (librdkafka's fatal errors of an idempotent
    /// producer): the process must start over with a new one.
    var fatalError: ProducerFailure? { get }
}

/// A message received from MQTT.
public struct MQTTMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    /// MQTT 5 user properties, in order.
    public var userProperties: [UserProperty]

    public struct UserProperty: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(topic: String, payload: [UInt8], userProperties: [UserProperty] = []) {
        self.topic = topic
        self.payload = payload
        self.userProperties = userProperties
    }

    /// The last value of a user property (a later one overrides an earlier one).
    public func userProperty(_ name: String) -> String? {
        userProperties.last { $0.name == name }?.value
    }
}

/// An MQTT subscription with QoS 1 on a persistent session, whose acknowledgements (PUBACK) the
/// owner releases: a message the owner has not acknowledged stays with the broker, which sends it
/// again after a reconnect.
public protocol MessageSubscriber: AnyObject {
    /// The messages that have arrived, waiting up to `timeout` for the first. Runs the connection
    /// (reconnecting when it is lost) and sends nothing while messages it returned on the current
    /// connection are unacknowledged.
    func receive(timeout: Duration) -> [MQTTMessage]
    /// Acknowledges every message `receive` returned so far. Those returned before the connection
    /// was last lost are not acknowledged: the broker sends them again.
    func acknowledgeReceived()
}
