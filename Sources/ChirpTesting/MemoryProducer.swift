import ChirpCore
import ChirpPipeline

/// A producer writing to a `MemoryBroker`. A record is appended to its partition when sent and
/// reported on the next `takeDeliveries`; faults refuse some records (as a broker that will not
/// take them) or a whole topic, and records over the size limit are refused as Kafka would.
public final class MemoryProducer: RecordProducer {
    unowned let broker: MemoryBroker
    public let maximumRecordBytes: Int
    public var faults = Faults()
    private var reports: [Delivery] = []
    private var pending: [(topic: String, key: [UInt8]?, value: [UInt8], headers: RecordHeaders, token: UInt64)] = []

    public struct Faults {
        /// A record refused after it was sent (reported as failed; not written).
        public var refuse = 0.0
        /// Topics that refuse every record (an ACL, say).
        public var refusingTopics: Set<String> = []
        /// Nothing written in a round, and a flush that times out with everything still in flight
        /// (a slow or unreachable broker).
        public var stall = 0.0

        public init() {}
    }

    public init(broker: MemoryBroker, maximumRecordBytes: Int) {
        self.broker = broker
        self.maximumRecordBytes = maximumRecordBytes
    }

    public func recordSize(keyBytes: Int, valueBytes: Int, headers: RecordHeaders) -> Int {
        36 + keyBytes + valueBytes + headers.storage.count
    }

    public func send(topic: String, key: [UInt8]?, value: [UInt8], headers: RecordHeaders, token: UInt64) throws(ProducerFailure) {
        guard recordSize(keyBytes: key?.count ?? 0, valueBytes: value.count, headers: headers) <= maximumRecordBytes else {
            throw ProducerFailure(name: "MSG_SIZE_TOO_LARGE", message: "Broker: Message size too large", recordTooLarge: true)
        }
        pending.append((topic, key, value, headers, token))
    }

    /// Writes what was sent (or refuses it) and reports it; until then a crash loses it. Unless
    /// `all`, some records stay in flight until a later call, as they do on a real network.
    private func deliver(all: Bool = false) {
        var later: [(topic: String, key: [UInt8]?, value: [UInt8], headers: RecordHeaders, token: UInt64)] = []
        for (topic, key, value, headers, token) in pending {
            if !all, broker.dice.chance(0.3) {
                later.append((topic, key, value, headers, token))
                continue
            }
            if faults.refusingTopics.contains(topic) {
                reports.append(Delivery(token: token, topic: topic, failure: ProducerFailure(name: "TOPIC_AUTHORIZATION_FAILED", message: "Broker: Topic authorization failed", recordTooLarge: false)))
                continue
            }
            if broker.dice.chance(faults.refuse) {
                reports.append(Delivery(token: token, topic: topic, failure: ProducerFailure(name: "INVALID_RECORD", message: "Broker: Broker rejected the record", recordTooLarge: false)))
                continue
            }
            // Keyed records go to the partition of their key, as the real partitioner does.
            let partitions = broker.partitions(of: topic)
            let partition = key.map { Int32(truncatingIfNeeded: Self.hash($0) % UInt64(max(1, partitions.count))) } ?? 0
            broker.produce(topic: topic, partition: partition, key: key, value: value, headers: headers)
            reports.append(Delivery(token: token, topic: topic))
        }
        pending = later
    }

    /// FNV-1a: a stable key hash, whatever the process.
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }

    public func takeDeliveries() -> [Delivery] {
        if !broker.dice.chance(faults.stall) { deliver() }
        defer { reports.removeAll() }
        return reports
    }

    public func flush(timeout: Duration) -> Int {
        if broker.dice.chance(faults.stall) { return pending.count }
        deliver(all: true)
        return 0
    }

    public var outstandingCount: Int { pending.count + reports.count }

    public var fatalError: ProducerFailure? { nil }

    /// The process dies: what was sent and not yet written is lost with it.
    public func crash() {
        pending.removeAll()
        reports.removeAll()
    }
}
