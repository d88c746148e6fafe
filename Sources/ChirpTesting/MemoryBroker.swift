import ChirpCore
import ChirpPipeline

/// A Kafka-like broker in memory: partitioned logs, consumer groups with committed offsets, and
/// eager rebalances as librdkafka performs them (every member loses its partitions, their stored
/// offsets are committed, then the partitions are dealt out again). Single-threaded: the
/// simulation calls it between steps.
public final class MemoryBroker {
    public private(set) var logs: [TopicPartition: [ConsumedRecord]] = [:]
    public private(set) var committed: [String: [TopicPartition: Int64]] = [:]
    private var members: [String: [MemoryConsumer]] = [:]
    let clock: ManualClock
    let dice: Dice
    /// Faults the consumers meet.
    public var faults = Faults()

    public struct Faults {
        /// A seek answered "not yet" (librdkafka's _STATE right after an assignment).
        public var seekNotYet = 0.0
        /// A poll that returns nothing although records are there (a slow or unreachable broker).
        public var emptyPoll = 0.0
        /// Storing offsets fails (the client throws; the loop stops, the process restarts).
        public var storeFails = 0.0
        /// The auto-commit runs after a poll.
        public var autoCommit = 0.5

        public init() {}
    }

    public init(clock: ManualClock, dice: Dice) {
        self.clock = clock
        self.dice = dice
    }

    public func createTopic(_ topic: String, partitions: Int32) {
        for partition in 0..<partitions { logs[TopicPartition(topic: topic, partition: partition), default: []] = [] }
    }

    @discardableResult
    public func produce(topic: String, partition: Int32, key: [UInt8]?, value: [UInt8], headers: RecordHeaders = RecordHeaders()) -> Int64 {
        let where_ = TopicPartition(topic: topic, partition: partition)
        let offset = Int64(logs[where_, default: []].count)
        logs[where_, default: []].append(ConsumedRecord(topic: topic, partition: partition, offset: offset, key: key, value: value, headers: headers,
                                                        timestampMilliseconds: 1_700_000_000_000 + offset))
        return offset
    }

    public func endOffset(_ partition: TopicPartition) -> Int64 { Int64(logs[partition]?.count ?? 0) }

    public func partitions(of topic: String) -> [TopicPartition] {
        logs.keys.filter { $0.topic == topic }.sorted { $0.partition < $1.partition }
    }

    /// A new member of `group` reading `topic`; it joins at once (a rebalance).
    public func consumer(group: String, topic: String) -> MemoryConsumer {
        let consumer = MemoryConsumer(broker: self, group: group, topic: topic)
        join(consumer)
        return consumer
    }

    func join(_ consumer: MemoryConsumer) {
        members[consumer.group, default: []].append(consumer)
        consumer.member = true
        rebalance(consumer.group, topic: consumer.topic)
    }

    /// A member leaves: gracefully (its stored offsets are committed) or not (a crash, or the
    /// group gave up on it: what it stored and did not commit is lost).
    public func leave(_ consumer: MemoryConsumer, graceful: Bool) {
        guard consumer.member else { return }
        if graceful { commit(consumer) }
        consumer.revokeAll(commit: false)
        consumer.member = false
        members[consumer.group]?.removeAll { $0 === consumer }
        rebalance(consumer.group, topic: consumer.topic)
    }

    func commit(_ consumer: MemoryConsumer) {
        for (partition, offset) in consumer.stored where consumer.positions[partition] != nil {
            committed[consumer.group, default: [:]][partition] = offset
        }
        consumer.stored.removeAll()
    }

    private func rebalance(_ group: String, topic: String) {
        let current = members[group] ?? []
        for member in current { member.revokeAll(commit: true) }
        let partitions = partitions(of: topic)
        guard !current.isEmpty else { return }
        var shares: [[TopicPartition]] = Array(repeating: [], count: current.count)
        for (index, partition) in partitions.enumerated() { shares[index % current.count].append(partition) }
        for (member, share) in zip(current, shares) {
            member.assign(share.map { ($0, committed[group]?[$0] ?? 0) })
        }
    }
}

/// A consumer-group member on a `MemoryBroker`, behaving as the loop expects of librdkafka's:
/// assignment changes arrive as events after the fact, offsets of partitions no longer assigned
/// are not stored, a seek may be answered "not yet".
public final class MemoryConsumer: RecordConsumer {
    unowned let broker: MemoryBroker
    public let group: String
    let topic: String
    var member = false
    /// Next offset to read per assigned partition.
    public internal(set) var positions: [TopicPartition: Int64] = [:]
    var stored: [TopicPartition: Int64] = [:]
    /// Partitions not fetched until resumed (or assigned anew).
    public private(set) var paused: Set<TopicPartition> = []
    private var events: [AssignmentEvent] = []
    /// Where the next poll starts among the partitions (rotated, as fetches interleave).
    private var turn = 0

    init(broker: MemoryBroker, group: String, topic: String) {
        self.broker = broker
        self.group = group
        self.topic = topic
    }

    func assign(_ partitions: [(TopicPartition, Int64)]) {
        for (partition, offset) in partitions {
            positions[partition] = offset
            paused.remove(partition)
        }
        events.append(.assigned(partitions.map(\.0)))
    }

    func revokeAll(commit: Bool) {
        guard !positions.isEmpty else { return }
        if commit { broker.commit(self) }
        events.append(.revoked(positions.keys.sorted { $0.partition < $1.partition }))
        positions.removeAll()
        paused.removeAll()
        stored.removeAll()
    }

    public func poll(maxMessages: Int, timeout: Duration) -> [ConsumedRecord] {
        if !member { broker.join(self) }  // a member the group gave up on rejoins when it polls
        var records: [ConsumedRecord] = []
        let assigned = positions.keys.filter { !paused.contains($0) }.sorted { $0.partition < $1.partition }
        if !assigned.isEmpty, !broker.dice.chance(broker.faults.emptyPoll) {
            // Up to a random few records per partition at a time, partitions in turn.
            let chunk = broker.dice.int(1..<5)
            turn += 1
            for index in 0..<assigned.count where records.count < maxMessages {
                let partition = assigned[(index + turn) % assigned.count]
                let log = broker.logs[partition] ?? []
                var position = positions[partition]!
                var taken = 0
                while Int(position) < log.count, taken < chunk, records.count < maxMessages {
                    records.append(log[Int(position)])
                    position += 1
                    taken += 1
                }
                positions[partition] = position
            }
        }
        if broker.dice.chance(broker.faults.autoCommit) { broker.commit(self) }
        broker.clock.advance(by: records.isEmpty ? timeout : .milliseconds(1))
        return records
    }

    public func takeAssignmentEvents() -> [AssignmentEvent] {
        defer { events.removeAll() }
        return events
    }

    public struct StoreFailed: Error {}

    public func storeOffsets(_ offsets: [TopicPartitionOffset]) throws {
        if broker.dice.chance(broker.faults.storeFails) { throw StoreFailed() }
        for entry in offsets {
            let partition = TopicPartition(topic: entry.topic, partition: entry.partition)
            guard positions[partition] != nil else { continue }  // revoked: librdkafka refuses, the adapter ignores it
            stored[partition] = entry.offset
        }
    }

    public func seek(_ offsets: [TopicPartitionOffset]) throws -> [TopicPartitionOffset] {
        if broker.dice.chance(broker.faults.seekNotYet) { return offsets }
        for entry in offsets {
            let partition = TopicPartition(topic: entry.topic, partition: entry.partition)
            if positions[partition] != nil { positions[partition] = entry.offset }
        }
        return []
    }

    public func pause(_ partitions: [TopicPartition]) throws {
        paused.formUnion(partitions.filter { positions[$0] != nil })
    }

    public func resume(_ partitions: [TopicPartition]) throws {
        paused.subtract(partitions)
    }

    public func lag() -> Int64 {
        positions.reduce(0) { $0 + max(0, broker.endOffset($1.key) - $1.value) }
    }
}
