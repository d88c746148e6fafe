import ChirpCore
import ChirpPipeline
import ChirpService
import ChirpStore
import Logging

/// One seed drives loader instances over the in-memory broker and store, interleaving their
/// steps with new records and faults: crashes (a process's memory gone, its in-flight COMMIT
/// landing or not), a member the group gives up on while it still runs, rebalances, graceful
/// stops, lost connections before and after COMMIT, conflicts, refused rows, failing reconnects,
/// seeks answered "not yet", empty polls, failing offset stores, redelivered records and records
/// that are no tweet. After every step it checks that the offsets stored in the database never
/// run ahead of the rows; at the end, with the faults off, that every tweet is loaded exactly
/// once, refused rows aside, and the rollups equal a recount of the facts.
public struct LoaderSimulation {
    public struct Outcome: Sendable {
        public var seed: UInt64
        public var steps = 0
        public var records = 0
        public var crashes = 0
        public var failures: [String] = []
        /// Every decision and result that matters, in order: equal for equal seeds.
        public var trace: [String] = []

        public var passed: Bool { failures.isEmpty }
    }

    static let topic = "tweets.enriched"
    static let group = "chirp-loader"
    static let tags = ["brexit", "kpop", "music", "food", "travel"]

    final class Instance {
        let name: String
        let consumer: MemoryConsumer
        let sink: MemorySink
        let loop: LoaderLoop<MemoryConsumer, MemorySink>
        let stop = StopSignal()

        init(name: String, broker: MemoryBroker, store: MemoryStore, dice: Dice, clock: ManualClock, faults: MemorySink.Faults, batchSize: Int,
             topic: String = LoaderSimulation.topic) {
            self.name = name
            consumer = broker.consumer(group: LoaderSimulation.group, topic: topic)
            sink = MemorySink(store: store, dice: dice)
            sink.faults = faults
            let settings = LoaderSettings(topic: topic, groupId: LoaderSimulation.group, batchSize: batchSize,
                                          batchWait: .milliseconds(50), rawRetentionDays: 0)
            loop = LoaderLoop(settings: settings, consumer: consumer, sink: sink, clock: clock, metrics: LoaderMetrics(MetricsRegistry()),
                              logger: Logger(label: "sim", factory: { _ in SwiftLogNoOpLogHandler() }), stop: stop)
        }
    }

    public static func run(seed: UInt64, maxSteps: Int = 150) -> Outcome {
        var outcome = Outcome(seed: seed)
        let dice = Dice(seed: seed)
        let clock = ManualClock()
        let broker = MemoryBroker(clock: clock, dice: dice)
        let partitions = Int32(dice.int(1..<5))
        broker.createTopic(topic, partitions: partitions)

        // The truth: what each produced record is.
        var content: [String: [String]] = [:]
        var expected = Set<String>()  // ids that must end up loaded
        var validAt: [TopicPartition: [Int64: String]] = [:]  // offset → id that must be loaded once the offset is passed
        let store = MemoryStore { content[$0] ?? [] }

        var sinkFaults = MemorySink.Faults()
        sinkFaults.lostBeforeCommit = dice.chance(0.5) ? Double(dice.int(0..<15)) / 100 : 0
        sinkFaults.lostAfterCommit = dice.chance(0.5) ? Double(dice.int(0..<15)) / 100 : 0
        sinkFaults.conflict = dice.chance(0.3) ? Double(dice.int(0..<15)) / 100 : 0
        sinkFaults.reconnectFails = dice.chance(0.3) ? Double(dice.int(0..<50)) / 100 : 0
        sinkFaults.lostDuringRows = dice.chance(0.3) ? Double(dice.int(0..<10)) / 100 : 0
        broker.faults.seekNotYet = dice.chance(0.5) ? Double(dice.int(0..<60)) / 100 : 0
        broker.faults.emptyPoll = dice.chance(0.3) ? Double(dice.int(0..<30)) / 100 : 0
        broker.faults.storeFails = dice.chance(0.2) ? Double(dice.int(0..<5)) / 100 : 0
        broker.faults.autoCommit = Double(dice.int(5..<100)) / 100
        let batchSize = dice.int(1..<20)
        // A database server that acknowledges commits before they are durable, and crashes.
        let serverCrash = dice.chance(0.3) ? Double(dice.int(1..<6)) / 100 : 0
        store.asynchronousCommit = serverCrash > 0
        outcome.trace.append("partitions=\(partitions) batch=\(batchSize) server-crash=\(serverCrash) faults=\(sinkFaults) \(broker.faults)")

        var instances: [Instance] = []
        var started = 0
        func start() {
            started += 1
            let instance = Instance(name: "loader-\(started)", broker: broker, store: store, dice: dice, clock: clock, faults: sinkFaults, batchSize: batchSize)
            instance.loop.start()
            instances.append(instance)
            outcome.trace.append("start \(instance.name)")
        }
        func crash(_ instance: Instance, because reason: String) {
            instance.sink.crash()
            broker.leave(instance.consumer, graceful: false)
            instances.removeAll { $0 === instance }
            outcome.crashes += 1
            outcome.trace.append("crash \(instance.name): \(reason)")
        }
        func step(_ instance: Instance) {
            do {
                try instance.loop.step()
            } catch {
                crash(instance, because: "\(error)")
            }
        }
        var produced = 0
        func produce() {
            let partition = Int32(dice.int(0..<Int(partitions)))
            let kind = dice.int(0..<20)
            var id: String?
            switch kind {
            case 0:  // no enriched tweet: counted and skipped
                id = nil
            case 1:  // a row the database refuses
                id = "poison-\(produced)"
                store.refusedIds.insert(id!)
            case 2 where !expected.isEmpty:  // redelivered: an id sent before
                id = expected.sorted()[dice.int(0..<expected.count)]
            default:
                id = "t\(produced)"
            }
            if let id {
                let tags = content[id] ?? (0..<dice.int(0..<4)).map { _ in dice.pick(Self.tags) }
                content[id] = tags
                let tweet = EnrichedTweet(
                    id: id, createdAt: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000 + Int64(produced) * 1000), text: "sim",
                    lang: "en", authorId: nil, authorName: nil, retweetOf: nil, format: .minimal,
                    hashtags: tags.map { Hashtag(display: $0, key: $0) }, mentions: [], categories: [],
                    hashtagRules: HashtagExtractor.version, categoryRules: "sim")
                let offset = broker.produce(topic: topic, partition: partition, key: Array(id.utf8), value: tweet.encoded())
                if !store.refusedIds.contains(id) {
                    expected.insert(id)
                    validAt[TopicPartition(topic: topic, partition: partition), default: [:]][offset] = id
                }
            } else {
                broker.produce(topic: topic, partition: partition, key: nil, value: Array("not an enriched record".utf8))
            }
            produced += 1
        }
        func checkOffsetsBehindRows(_ when: String) {
            for (partition, next) in store.offsets[group] ?? [:] {
                for (offset, id) in validAt[partition] ?? [:] where offset < next && store.tweets[id] == nil {
                    outcome.failures.append("\(when): the database stores offset \(next) for \(partition) but tweet \(id) at offset \(offset) is not loaded")
                    return
                }
            }
        }

        start()
        let target = dice.int(20..<80)
        while outcome.steps < maxSteps, outcome.failures.isEmpty {
            outcome.steps += 1
            let roll = dice.int(0..<100)
            switch roll {
            case 0..<20 where produced < target:
                for _ in 0..<dice.int(1..<6) { produce() }
                outcome.trace.append("produced \(produced)")
            case 20..<24 where !instances.isEmpty:
                crash(dice.pick(instances), because: "killed")
            case 24..<28 where instances.count < 3:
                start()
            case 28..<30 where instances.count > 1:
                let instance = dice.pick(instances)
                instance.stop.stop()
                do { try instance.loop.finish() } catch { crash(instance, because: "stopping: \(error)"); break }
                broker.leave(instance.consumer, graceful: true)
                instances.removeAll { $0 === instance }
                outcome.trace.append("stopped \(instance.name)")
            case 30..<32 where !instances.isEmpty:
                let instance = dice.pick(instances)
                broker.leave(instance.consumer, graceful: false)  // the group gives up on it; it runs on
                outcome.trace.append("evicted \(instance.name)")
            case 32..<40 where store.asynchronousCommit:
                if dice.chance(serverCrash * 12) {
                    store.crash()
                    outcome.trace.append("database server crashed")
                } else {
                    store.flush()
                }
            default:
                if instances.isEmpty { start() }
                step(dice.pick(instances))
            }
            checkOffsetsBehindRows("step \(outcome.steps)")
        }
        while produced < target { produce() }
        outcome.records = produced

        // The faults stop; whatever runs must now load everything.
        broker.faults = MemoryBroker.Faults()
        for instance in instances { instance.sink.faults = MemorySink.Faults() }
        sinkFaults = MemorySink.Faults()
        if instances.isEmpty { start() }
        var rounds = 0
        func caughtUp() -> Bool {
            broker.partitions(of: topic).allSatisfy { (store.offsets[group]?[$0] ?? 0) == broker.endOffset($0) }
        }
        while !caughtUp(), rounds < 500, outcome.failures.isEmpty {
            rounds += 1
            if instances.isEmpty { start() }
            for instance in instances { step(instance) }
            checkOffsetsBehindRows("catching up, round \(rounds)")
        }
        for instance in instances { try? instance.loop.finish() }
        if !caughtUp() {
            let behind = broker.partitions(of: topic).map { "\($0)@\(store.offsets[group]?[$0] ?? 0)/\(broker.endOffset($0))" }
            outcome.failures.append("not caught up after \(rounds) rounds without faults: \(behind.joined(separator: " "))")
        }
        let loaded = Set(store.tweets.keys)
        if loaded != expected {
            let missing = expected.subtracting(loaded).sorted().prefix(5)
            let extra = loaded.subtracting(expected).sorted().prefix(5)
            outcome.failures.append("loaded \(loaded.count) of \(expected.count) tweets; missing \(Array(missing)), unexpected \(Array(extra))")
        }
        if store.rollups.filter({ $0.value != 0 }) != store.recount {
            outcome.failures.append("rollups \(store.rollups.sorted { $0.key < $1.key }) differ from the recount \(store.recount.sorted { $0.key < $1.key })")
        }
        outcome.trace.append("end: loaded \(loaded.count), transactions \(store.transactions), crashes \(outcome.crashes), t=\(clock.now)")
        return outcome
    }
}
