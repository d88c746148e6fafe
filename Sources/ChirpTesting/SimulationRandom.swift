import ChirpCore
import ChirpPipeline

/// Seeded randomness for simulations: ChirpCore's SplitMix64 gives the same sequence for a seed
/// on every machine, which is what lets a failing seed be replayed exactly.
extension SplitMix64 {
    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < p
    }

    public mutating func int(_ range: Range<Int>) -> Int {
        Int.random(in: range, using: &self)
    }
}

/// Time in a simulation: it moves only when a loop waits or sleeps.
public final class ManualClock: PipelineClock {
    public private(set) var now: Duration = .zero

    public init() {}

    public func sleep(for duration: Duration) {
        if duration > .zero { now += duration }
    }

    public func advance(by duration: Duration) {
        sleep(for: duration)
    }
}

/// One seeded sequence shared by everything in a simulation run (broker, store, scheduler), so
/// that the run depends on the seed alone.
public final class Dice {
    public var random: SplitMix64

    public init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    public func chance(_ p: Double) -> Bool { random.chance(p) }

    public func int(_ range: Range<Int>) -> Int { random.int(range) }

    public func pick<T>(_ items: [T]) -> T { items[random.int(0..<items.count)] }
}
