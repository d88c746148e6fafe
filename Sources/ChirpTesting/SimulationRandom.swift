import ChirpPipeline

/// A seeded generator (SplitMix64): the same seed gives the same sequence on every machine, which
/// is what lets a failing simulation seed be replayed exactly.
public struct SimulationRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

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
    public var random: SimulationRandom

    public init(seed: UInt64) {
        random = SimulationRandom(seed: seed)
    }

    public func chance(_ p: Double) -> Bool { random.chance(p) }

    public func int(_ range: Range<Int>) -> Int { random.int(range) }

    public func pick<T>(_ items: [T]) -> T { items[random.int(0..<items.count)] }
}
