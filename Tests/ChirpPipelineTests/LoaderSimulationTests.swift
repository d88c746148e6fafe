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
        runShard(Self.seeds, shard: shard, of: 4, name: "loader simulation") { LoaderSimulation.run(seed: $0) }
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
        runShard(Self.seeds, shard: shard, of: 2, name: "pipeline simulation") { PipelineSimulation.run(seed: $0) }
    }
}

/// Runs every `shards`-th seed from `shard` on, records the first three failures with their
/// replay command and the end of their trace, and prints what ran.
func runShard(_ seeds: [UInt64], shard: Int, of shards: Int, name: String, _ run: (UInt64) -> LoaderSimulation.Outcome) {
    var failed: [LoaderSimulation.Outcome] = []
    var ran = 0, steps = 0, crashes = 0, records = 0
    for (index, seed) in seeds.enumerated() where index % shards == shard {
        let outcome = run(seed)
        ran += 1
        steps += outcome.steps
        crashes += outcome.crashes
        records += outcome.records
        if !outcome.passed { failed.append(outcome) }
        if failed.count >= 3 { break }
    }
    for outcome in failed {
        Issue.record("seed \(outcome.seed) failed (replay: CHIRP_SIM_SEED=\(outcome.seed)):\n\(outcome.failures.joined(separator: "\n"))\ntrace:\n\(outcome.trace.suffix(40).joined(separator: "\n"))")
    }
    print("\(name), shard \(shard): \(ran) seeds, \(steps) steps, \(records) records, \(crashes) crashes, \(failed.count) failed")
}
