/// Decides which consumed offsets may be committed when work finishes out of order.
///
/// A consumed message may produce several output records (a v2 page holds many tweets; a bad one
/// produces a dead letter). Its offset is done when all of them are delivered, and a partition's
/// commit position only advances over a contiguous run of done offsets — so a crash re-reads
/// everything not yet durable downstream (at least once), and never skips anything.
public struct OffsetTracker: Sendable {
    private struct PartitionState: Sendable {
        /// Offsets begun, in consumption order (strictly increasing), from `head` on.
        var offsets: [Int64] = []
        var remaining: [Int64: Int] = [:]
        var head = 0
        /// Next offset to commit (one past the last contiguous done offset); nil before any is done.
        var committable: Int64?
        var committed: Int64?

        mutating func advance() {
            while head < offsets.count, remaining[offsets[head]] == nil {
                committable = offsets[head] + 1
                head += 1
            }
            if head > 1024, head * 2 > offsets.count {
                offsets.removeFirst(head)
                head = 0
            }
        }
    }

    private var partitions: [Int32: PartitionState] = [:]

    public init() {}

    /// Registers a consumed offset whose work consists of `parts` deliveries (0 = nothing to wait for).
    /// The state is mutated in place (`partitions[p]!…`): copying it out of the dictionary and back
    /// would copy its arrays on every call.
    public mutating func begin(partition: Int32, offset: Int64, parts: Int) {
        if partitions[partition] == nil { partitions[partition] = PartitionState() }
        if let last = partitions[partition]!.offsets.last, offset <= last {
            // Redelivery after a rebalance or seek: start this partition over.
            partitions[partition] = PartitionState()
        }
        partitions[partition]!.offsets.append(offset)
        if parts > 0 { partitions[partition]!.remaining[offset] = parts }
        partitions[partition]!.advance()
    }

    /// One delivery of `offset`'s work finished.
    public mutating func complete(partition: Int32, offset: Int64) {
        guard let left = partitions[partition]?.remaining[offset] else { return }
        if left <= 1 {
            partitions[partition]!.remaining[offset] = nil
            partitions[partition]!.advance()
        } else {
            partitions[partition]!.remaining[offset] = left - 1
        }
    }

    /// Partitions whose commit position moved since the last call, with the offset to commit
    /// (the next one to read). Marks them as handed out.
    public mutating func takeCommittable() -> [(partition: Int32, offset: Int64)] {
        var result: [(Int32, Int64)] = []
        for partition in partitions.keys {
            guard let next = partitions[partition]!.committable, next != partitions[partition]!.committed else { continue }
            partitions[partition]!.committed = next
            result.append((partition, next))
        }
        return result.sorted { $0.0 < $1.0 }
    }

    /// Deliveries still awaited across all partitions.
    public var pendingDeliveries: Int {
        partitions.values.reduce(0) { $0 + $1.remaining.values.reduce(0, +) }
    }

    /// Consumed offsets not yet committable.
    public var pendingOffsets: Int {
        partitions.values.reduce(0) { $0 + ($1.offsets.count - $1.head) }
    }

    /// Forgets a partition (revoked in a rebalance).
    public mutating func reset(partition: Int32) {
        partitions[partition] = nil
    }
}
