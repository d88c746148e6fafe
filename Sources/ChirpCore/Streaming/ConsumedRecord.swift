/// A record read from a topic: what a consumer hands to the pipeline, whoever the broker is.
public struct ConsumedRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: RecordHeaders
    /// Producer/broker timestamp in milliseconds since the epoch, when present.
    public var timestampMilliseconds: Int64?

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8], headers: RecordHeaders = RecordHeaders(),
                timestampMilliseconds: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    public func header(_ name: String) -> [UInt8]? { headers[name] }

    public func headerString(_ name: String) -> String? { headers.string(name) }

    /// A header holding a decimal integer (nil when absent or not a number).
    public func headerInt64(_ name: String) -> Int64? { headers.int64(name) }
}

/// A topic partition and an offset in it.
public struct TopicPartitionOffset: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var description: String { "\(topic)/\(partition)@\(offset)" }
}

/// A topic partition.
public struct TopicPartition: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)/\(partition)" }
}

/// A change of a consumer's partitions, handed to the consumer's owner after the fact: the
/// client library has already (un)assigned them when the owner hears of it.
public enum AssignmentEvent: Sendable, Equatable {
    case assigned([TopicPartition])
    case revoked([TopicPartition])
}
