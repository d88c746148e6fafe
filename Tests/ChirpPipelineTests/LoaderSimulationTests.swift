import ChirpTesting
import Foundation
import Testing

/// The loader under deterministic simulation: thousands of seeds, each a different interleaving
/// of loader instances, records and faults (see `LoaderSimulation`). A failing seed is printed
/// and replays exactly with `CHIRP_SIM_SEED=<seed> swift test --filter LoaderSimulationTests`.
@Suite struct LoaderSimulationTests {
    static let seeds: [UInt64] = {
        if let text = ProcessInfo.processInfo.environment["CHIRP_SIM_SEED"], let seed = UInt64(text) { return [seed] }
        let count = ProcessInfo.processInfo.environment["CHIRP_SIM_SEEDS"].flatMap { Int($0) } ?? 10_000
        return (0..<UInt64(count)).map { $0 &* 0x9E37_79B9 &+ 1 }
    }()

    /// The seeds in four shards, so that the two cores share them.
    @Test(arguments: 0..<4) func everySeedLoadsEverythingExactlyOnce(shard: Int) {
        var failed: [LoaderSimulation.Outcome] = []
        var steps = 0
        var crashes = 0
        var records = 0
        for (index, seed) in Self.seeds.enumerated() where index % 4 == shard {
            let outcome = LoaderSimulation.run(seed: seed)
            steps += outcome.steps
            crashes += outcome.crashes
            records += outcome.records
            if !outcome.passed { failed.append(outcome) }
            if failed.count >= 3 { break }
        }
        for outcome in failed {
            Issue.record("seed \(outcome.seed) failed (replay: CHIRP_SIM_SEED=\(outcome.seed)):\n\(outcome.failures.joined(separator: "\n"))\ntrace:\n\(outcome.trace.suffix(40).joined(separator: "\n"))")
        }
        print("loader simulation, shard \(shard): \(Self.seeds.indices.filter { $0 % 4 == shard }.count) seeds, \(steps) steps, \(records) records, \(crashes) crashes, \(failed.count) failed")
    }

    @Test func aSeedReplaysExactly() {
        for seed: UInt64 in [1, 42, 0xDEAD_BEEF] {
            let first = LoaderSimulation.run(seed: seed)
            let second = LoaderSimulation.run(seed: seed)
            #expect(first.trace == second.trace)
            #expect(first.steps == second.steps && first.crashes == second.crashes)
        }
    }
}

/// Categorizer and loader together under deterministic simulation (see `PipelineSimulation`):
/// every raw record reaches the store or the dead letters, whatever crashes and refusals meet it.
/// `CHIRP_SIM_SEED` replays one seed here too; `CHIRP_PIPELINE_SIM_SEEDS` sets how many run.
@Suite struct PipelineSimulationTests {
    static let seeds: [UInt64] = {
        if let text = ProcessInfo.processInfo.environment["CHIRP_SIM_SEED"], let seed = UInt64(text) { return [seed] }
        let count = ProcessInfo.processInfo.environment["CHIRP_PIPELINE_SIM_SEEDS"].flatMap { Int($0) } ?? 2_000
        return (0..<UInt64(count)).map { $0 &* 0x51_7CC1_B727 &+ 7 }
    }()

    @Test(arguments: 0..<2) func everyRawRecordIsLoadedOrDeadLettered(shard: Int) {
        var failed: [LoaderSimulation.Outcome] = []
        var crashes = 0
        var records = 0
        for (index, seed) in Self.seeds.enumerated() where index % 2 == shard {
            let outcome = PipelineSimulation.run(seed: seed)
            crashes += outcome.crashes
            records += outcome.records
            if !outcome.passed { failed.append(outcome) }
            if failed.count >= 3 { break }
        }
        for outcome in failed {
            Issue.record("seed \(outcome.seed) failed (replay: CHIRP_SIM_SEED=\(outcome.seed)):\n\(outcome.failures.joined(separator: "\n"))\ntrace:\n\(outcome.trace.suffix(40).joined(separator: "\n"))")
        }
        print("pipeline simulation, shard \(shard): \(Self.seeds.indices.filter { $0 % 2 == shard }.count) seeds, \(records) raw records, \(crashes) crashes, \(failed.count) failed")
    }
}
