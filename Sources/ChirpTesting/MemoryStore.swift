import ChirpCore
import ChirpPipeline
import ChirpStore

/// The analytics store in memory, with the rules the loader relies on: a tweet id is inserted
/// once; rollups grow only by the rows a transaction inserted; a group's offsets are written in
/// the same transaction as its rows and only ever move forward; a transaction applies whole or
/// not at all.
public final class MemoryStore {
    /// Loaded tweets: id → hashtag keys.
    public private(set) var tweets: [String: [String]] = [:]
    /// Hashtag key → tweets counted.
    public private(set) var rollups: [String: Int] = [:]
    /// Consumer group → partition → next offset.
    public private(set) var offsets: [String: [TopicPartition: Int64]] = [:]
    /// What each tweet id's row holds (the store sees the rows; the model reads their hashtags
    /// here rather than decoding the COPY stream).
    let content: (String) -> [String]
    /// Ids whose row the store refuses (a constraint, a value too large for an index).
    public var refusedIds: Set<String> = []
    public private(set) var transactions = 0
    /// Commits are acknowledged before they are durable (PostgreSQL's `synchronous_commit =
    /// off`): a server crash loses those since the last `flush`.
    public var asynchronousCommit = false
    /// Commits not yet durable, in order: the ids each inserted and the offsets it replaced.
    private var unflushed: [(ids: [String], offsets: [(group: String, partition: TopicPartition, before: Int64?)])] = []
    /// Grows with every server crash: connections made before one are gone.
    public private(set) var generation = 0

    public init(content: @escaping (String) -> [String]) {
        self.content = content
    }

    /// One transaction: the rows not there yet, their rollups, the offsets. Returns the rows
    /// inserted, or nil when a row is refused (nothing applied).
    func apply(ids: [String], nextOffsets: [String: [Int32: Int64]], group: String) -> Int? {
        guard !ids.contains(where: refusedIds.contains) else { return nil }
        transactions += 1
        var inserted: [String] = []
        for id in ids where tweets[id] == nil {
            let tags = content(id)
            tweets[id] = tags
            for tag in tags { rollups[tag, default: 0] += 1 }
            inserted.append(id)
        }
        var replaced: [(group: String, partition: TopicPartition, before: Int64?)] = []
        for (topic, partitions) in nextOffsets {
            for (partition, next) in partitions {
                let key = TopicPartition(topic: topic, partition: partition)
                replaced.append((group, key, offsets[group]?[key]))
                offsets[group, default: [:]][key] = max(offsets[group]?[key] ?? 0, next)
            }
        }
        if asynchronousCommit { unflushed.append((inserted, replaced)) }
        return inserted.count
    }

    /// What was committed becomes durable.
    public func flush() {
        unflushed.removeAll()
    }

    /// The server crashes and restarts: commits not yet durable are undone, newest first, and
    /// every connection is gone.
    public func crash() {
        for (ids, replaced) in unflushed.reversed() {
            for id in ids {
                for tag in tweets[id] ?? [] { rollups[tag, default: 0] -= 1 }
                tweets[id] = nil
            }
            for (group, partition, before) in replaced.reversed() { offsets[group]?[partition] = before }
        }
        unflushed.removeAll()
        generation += 1
    }

    /// The rollups recounted from the facts.
    public var recount: [String: Int] {
        var counts: [String: Int] = [:]
        for tags in tweets.values { for tag in tags { counts[tag, default: 0] += 1 } }
        return counts
    }
}

/// A connection to a `MemoryStore` as the loader's `TweetSink`, with the faults a real
/// connection meets: lost before COMMIT, lost after COMMIT (the answer never arrives), conflicts,
/// a reconnect that fails.
public final class MemorySink: TweetSink {
    let store: MemoryStore
    let dice: Dice
    public var faults = Faults()
    private var pending: (batch: TweetBatch, group: String)?
    private var connectedTo: Int?
    /// Connected, to the server as it is since its last crash.
    private var connected: Bool {
        get { connectedTo == store.generation }
        set { connectedTo = newValue ? store.generation : nil }
    }

    public struct Faults {
        public var lostBeforeCommit = 0.0
        public var lostAfterCommit = 0.0
        public var conflict = 0.0
        public var reconnectFails = 0.0
        /// A row-by-row pass loses the connection after some rows.
        public var lostDuringRows = 0.0

        public init() {}
    }

    public init(store: MemoryStore, dice: Dice) {
        self.store = store
        self.dice = dice
        connectedTo = store.generation
    }

    static let lost = SinkError(.connectionLost, message: "server closed the connection unexpectedly")

    public func beginLoad(_ batch: TweetBatch, consumerGroup: String) throws(SinkError) {
        guard connected else { throw Self.lost }
        precondition(pending == nil, "a load begun while another is in flight")
        pending = (batch, consumerGroup)
    }

    public func finishLoad() throws(SinkError) -> Int {
        guard let (batch, group) = pending else { preconditionFailure("finishLoad without beginLoad") }
        pending = nil
        guard connected else { throw Self.lost }
        if dice.chance(faults.lostBeforeCommit) {
            connected = false
            throw Self.lost
        }
        if dice.chance(faults.conflict) { throw SinkError(.conflict, code: "40P01", message: "deadlock detected") }
        guard let inserted = store.apply(ids: batch.ids, nextOffsets: batch.nextOffsets, group: group) else {
            throw SinkError(.refusedData, code: "23514", message: "new row violates check constraint")
        }
        if dice.chance(faults.lostAfterCommit) {
            connected = false
            throw Self.lost
        }
        return inserted
    }

    /// Sometimes busy, so that the loader keeps filling its batch over several polls.
    public var isFree: Bool { dice.chance(0.4) }

    public func loadRowByRow(_ batch: TweetBatch, consumerGroup: String) throws(SinkError) -> RowByRowResult {
        guard connected else { throw Self.lost }
        var inserted = 0
        var refused: [(id: String, error: SinkError)] = []
        for id in batch.ids {
            if dice.chance(faults.lostDuringRows) {
                connected = false
                throw Self.lost
            }
            if let new = store.apply(ids: [id], nextOffsets: [:], group: consumerGroup) {
                inserted += new
            } else {
                refused.append((id, SinkError(.refusedData, code: "23514", message: "new row violates check constraint")))
            }
        }
        _ = store.apply(ids: [], nextOffsets: batch.nextOffsets, group: consumerGroup)
        return RowByRowResult(inserted: inserted, refused: refused)
    }

    public func storedOffsets(consumerGroup: String) throws(SinkError) -> [TopicPartitionOffset] {
        guard connected else { throw Self.lost }
        return (store.offsets[consumerGroup] ?? [:]).map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) }
            .sorted { $0.partition < $1.partition }
    }

    public func reconnect() throws(SinkError) {
        if dice.chance(faults.reconnectFails) { throw Self.lost }
        connected = true
    }

    public func dropRawPartitions(olderThanDays days: Int) throws(SinkError) -> Int { 0 }

    /// The process holding this connection dies: a batch whose COMMIT was sent commits or not.
    public func crash() {
        if let (batch, group) = pending, connected, dice.chance(0.5) {
            _ = store.apply(ids: batch.ids, nextOffsets: batch.nextOffsets, group: group)
        }
        pending = nil
        connected = false
    }
}
