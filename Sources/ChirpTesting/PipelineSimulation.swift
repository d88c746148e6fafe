import ChirpCore
import ChirpPipeline
import ChirpService
import ChirpStore
import Logging

/// One seed drives the whole pipeline over the in-memory brokers and store: a sender publishing
/// to MQTT, bridge, categorizer and loader instances, and records written straight to the raw
/// topic. Payloads are tweets, v2 pages, records that are no tweet, payloads whose enriched
/// records Kafka would refuse for their size, and rows the store refuses. Faults: crashes of every
/// service (what a process held is lost with it), the bridge's MQTT connection cut, the MQTT
/// broker restarted, Kafka slow to confirm or refusing the raw topic for a while, output refused
/// now and then, a dead-letter topic that refuses for a while, and the loader's database faults.
/// At the end, faults off: every payload the MQTT broker acknowledged to the sender is in the raw
/// topic, every raw record has reached the store (each tweet once; refused rows aside) or the
/// dead letters with its position, and the loader's invariants hold.
public struct PipelineSimulation {
    static let raw = "tweets.raw"
    static let enriched = "tweets.enriched"
    static let dlq = "tweets.dlq"
    static let tags = ["brexit", "kpop", "music", "food"]
    /// Small limits, so that size faults are cheap to make.
    static let maxRecordBytes = 3000
    static let maxPayloadBytes = 1500

    final class Categorizer {
        let name: String
        let consumer: MemoryConsumer
        let producer: MemoryProducer
        let loop: CategorizerLoop<MemoryConsumer, MemoryProducer>

        init(name: String, broker: MemoryBroker, clock: ManualClock, faults: MemoryProducer.Faults) {
            self.name = name
            consumer = broker.consumer(group: "chirp-categorizer", topic: PipelineSimulation.raw)
            producer = MemoryProducer(broker: broker, maximumRecordBytes: PipelineSimulation.maxRecordBytes)
            producer.faults = faults
            let router = RecordRouter(enrichedTopic: PipelineSimulation.enriched, maxPayloadBytes: PipelineSimulation.maxPayloadBytes,
                                      maxTweetsPerPayload: 5, enricher: Enricher())
            let settings = CategorizerSettings(rawTopic: PipelineSimulation.raw, dlqTopic: PipelineSimulation.dlq, router: router, batchSize: 4)
            loop = CategorizerLoop(settings: settings, consumer: consumer, producer: producer, clock: clock,
                                   metrics: CategorizerMetrics(MetricsRegistry()),
                                   logger: Logger(label: "sim", factory: { _ in SwiftLogNoOpLogHandler() }),
                                   wallClock: { 1_700_000_000_000 + Int64(clock.now.components.seconds) * 1000 })
        }
    }

    static let mqttTopic = "tweets"
    static let bridgeClient = "chirp-bridge"

    final class Bridge {
        let name: String
        let subscriber: MemorySubscriber
        let producer: MemoryProducer
        let loop: BridgeLoop<MemorySubscriber, MemoryProducer>

        init(name: String, mqtt: MemoryMQTTBroker, kafka: MemoryBroker, dice: Dice, clock: ManualClock, metrics: BridgeMetrics, faults: MemoryProducer.Faults) {
            self.name = name
            subscriber = MemorySubscriber(broker: mqtt, clientId: PipelineSimulation.bridgeClient, topic: PipelineSimulation.mqttTopic,
                                          receiveMaximum: dice.int(1..<20), dice: dice)
            producer = MemoryProducer(broker: kafka, maximumRecordBytes: PipelineSimulation.maxRecordBytes)
            producer.faults = faults
            loop = BridgeLoop(settings: BridgeSettings(rawTopic: PipelineSimulation.raw), subscriber: subscriber, producer: producer, clock: clock,
                              metrics: metrics, logger: Logger(label: "sim", factory: { _ in SwiftLogNoOpLogHandler() }))
        }
    }

    public static func run(seed: UInt64, maxSteps: Int = 150) -> LoaderSimulation.Outcome {
        var outcome = LoaderSimulation.Outcome(seed: seed)
        let dice = Dice(seed: seed)
        let clock = ManualClock()
        let broker = MemoryBroker(clock: clock, dice: dice)
        let partitions = Int32(dice.int(1..<4))
        for topic in [raw, enriched, dlq] { broker.createTopic(topic, partitions: partitions) }

        // The truth: what each payload must become, wherever it lands in the raw topic (the
        // bridge may forward one twice).
        enum Fate { case tweets([String]), deadLetter }
        var fates: [[UInt8]: Fate] = [:]
        var content: [String: [String]] = [:]
        func rawRecords(before committed: [TopicPartition: Int64]? = nil) -> [(position: TopicPartitionOffset, fate: Fate)] {
            broker.partitions(of: raw).flatMap { partition -> [(position: TopicPartitionOffset, fate: Fate)] in
                let end = committed.map { $0[partition] ?? 0 } ?? Int64.max
                return (broker.logs[partition] ?? []).filter { $0.offset < end }
                    .map { (TopicPartitionOffset(topic: raw, partition: $0.partition, offset: $0.offset), fates[$0.value] ?? .deadLetter) }
            }
        }

        // MQTT: the sender's payloads not yet acknowledged by the broker, and those acknowledged.
        let mqtt = MemoryMQTTBroker()
        mqtt.createSession(clientId: bridgeClient, topic: mqttTopic)
        var unpublished: [[UInt8]] = []
        var acknowledged: [[UInt8]] = []
        var mqttDownUntil = 0
        let store = MemoryStore { content[$0] ?? [] }

        var producerFaults = MemoryProducer.Faults()
        producerFaults.refuse = dice.chance(0.4) ? Double(dice.int(0..<20)) / 100 : 0
        let dlqRefusesUntil = dice.chance(0.2) ? dice.int(10..<100) : 0
        var bridgeFaults = MemoryProducer.Faults()
        bridgeFaults.stall = dice.chance(0.5) ? Double(dice.int(0..<60)) / 100 : 0
        let rawRefused = dice.chance(0.2) ? dice.int(0..<100) ..< dice.int(100..<150) : 0..<0
        let bridgeMetrics = BridgeMetrics(MetricsRegistry())
        var sinkFaults = MemorySink.Faults()
        sinkFaults.lostBeforeCommit = dice.chance(0.3) ? Double(dice.int(0..<10)) / 100 : 0
        sinkFaults.lostAfterCommit = dice.chance(0.3) ? Double(dice.int(0..<10)) / 100 : 0
        broker.faults.seekNotYet = dice.chance(0.3) ? Double(dice.int(0..<50)) / 100 : 0
        broker.faults.autoCommit = Double(dice.int(10..<100)) / 100
        outcome.trace.append("partitions=\(partitions) refuse=\(producerFaults.refuse) dlq-refuses-until=\(dlqRefusesUntil) bridge-stall=\(bridgeFaults.stall) raw-refused=\(rawRefused) \(sinkFaults)")

        var bridges: [Bridge] = []
        var categorizers: [Categorizer] = []
        var loaders: [LoaderSimulation.Instance] = []
        var started = 0
        func startBridge() {
            started += 1
            var faults = bridgeFaults
            if rawRefused.contains(outcome.steps) { faults.refusingTopics = [raw] }
            bridges.append(Bridge(name: "bridge-\(started)", mqtt: mqtt, kafka: broker, dice: dice, clock: clock, metrics: bridgeMetrics, faults: faults))
            outcome.trace.append("start bridge-\(started)")
        }
        func crashBridge(_ instance: Bridge, _ why: String) {
            instance.producer.crash()
            instance.subscriber.crash()
            bridges.removeAll { $0 === instance }
            outcome.crashes += 1
            outcome.trace.append("crash \(instance.name): \(why)")
        }
        func stepBridge(_ instance: Bridge) {
            do { try instance.loop.step() } catch { crashBridge(instance, "\(error)") }
        }
        func publish() {
            while let payload = unpublished.first, mqtt.publish(MQTTMessage(topic: mqttTopic, payload: payload)) {
                acknowledged.append(payload)
                unpublished.removeFirst()
            }
        }
        func startCategorizer() {
            started += 1
            var faults = producerFaults
            if outcome.steps < dlqRefusesUntil { faults.refusingTopics = [dlq] }
            categorizers.append(Categorizer(name: "categorizer-\(started)", broker: broker, clock: clock, faults: faults))
            outcome.trace.append("start categorizer-\(started)")
        }
        func startLoader() {
            started += 1
            let loader = LoaderSimulation.Instance(name: "loader-\(started)", broker: broker, store: store, dice: dice, clock: clock,
                                                   faults: sinkFaults, batchSize: dice.int(1..<10), topic: enriched)
            loader.loop.start()
            loaders.append(loader)
            outcome.trace.append("start loader-\(started)")
        }
        func crashCategorizer(_ instance: Categorizer, _ why: String) {
            instance.producer.crash()
            broker.leave(instance.consumer, graceful: false)
            categorizers.removeAll { $0 === instance }
            outcome.crashes += 1
            outcome.trace.append("crash \(instance.name): \(why)")
        }
        func crashLoader(_ instance: LoaderSimulation.Instance, _ why: String) {
            instance.sink.crash()
            broker.leave(instance.consumer, graceful: false)
            loaders.removeAll { $0 === instance }
            outcome.crashes += 1
            outcome.trace.append("crash \(instance.name): \(why)")
        }
        func stepCategorizer(_ instance: Categorizer) {
            do { try instance.loop.step() } catch { crashCategorizer(instance, "\(error)") }
        }
        func stepLoader(_ instance: LoaderSimulation.Instance) {
            do { try instance.loop.step() } catch { crashLoader(instance, "\(error)") }
        }

        var produced = 0
        func produce() {
            produced += 1
            let partition = Int32(dice.int(0..<Int(partitions)))
            func tweet(_ id: String, _ text: String) -> String {
                let tags = (0..<dice.int(0..<3)).map { _ in dice.pick(Self.tags) }
                content[id] = tags.map { $0 }
                return #"{"id":"\#(id)","text":"\#(text)\#(tags.map { " #" + $0 }.joined())"}"#
            }
            let payload: String
            var fate: Fate
            switch dice.int(0..<10) {
            case 0:
                payload = "no tweet \(produced)"
                fate = .deadLetter
            case 1:  // the enriched record would exceed Kafka's limit: raw payload plus text
                payload = tweet("big\(produced)", String(repeating: "x", count: 1400))
                fate = .deadLetter
            case 2:  // a v2 page
                let ids = (0..<dice.int(2..<4)).map { "p\(produced)-\($0)" }
                payload = #"{"data":[\#(ids.map { tweet($0, "page") }.joined(separator: ","))]}"#
                fate = .tweets(ids)
            case 3:
                let id = "poison-\(produced)"
                store.refusedIds.insert(id)
                payload = tweet(id, "refused")
                fate = .tweets([])
            default:
                payload = tweet("r\(produced)", "hello")
                fate = .tweets(["r\(produced)"])
            }
            let bytes = Array(payload.utf8)
            fates[bytes] = fate
            // Most come through MQTT; some are written straight to the raw topic.
            if dice.chance(0.7) {
                unpublished.append(bytes)
                publish()
            } else {
                broker.produce(topic: raw, partition: partition, key: nil, value: bytes)
            }
        }

        func deadLetteredPositions() -> Set<TopicPartitionOffset> {
            Set(broker.partitions(of: dlq).flatMap { broker.logs[$0] ?? [] }.compactMap { letter -> TopicPartitionOffset? in
                guard let partition = letter.headerInt64(Wire.dlqSourcePartition), let offset = letter.headerInt64(Wire.dlqSourceOffset) else { return nil }
                return TopicPartitionOffset(topic: raw, partition: Int32(partition), offset: offset)
            })
        }
        // The categorizer's committed raw offsets never run ahead of its confirmed output: every
        // raw record before one is in the enriched topic (all its tweets) or among the dead letters.
        func checkCommittedBehindOutput() {
            guard let committed = broker.committed["chirp-categorizer"] else { return }
            let written = Set(broker.partitions(of: enriched).flatMap { broker.logs[$0] ?? [] }.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } })
            let letters = deadLetteredPositions()
            do {
                for (position, fate) in rawRecords(before: committed) {
                    guard !letters.contains(position) else { continue }
                    let missing: [String]
                    switch fate {
                    case .deadLetter: missing = ["its dead letter"]
                    case .tweets(let ids): missing = ids.filter { !written.contains($0) && !store.refusedIds.contains($0) }
                    }
                    if !missing.isEmpty {
                        let next = committed[TopicPartition(topic: raw, partition: position.partition)] ?? 0
                        outcome.failures.append("step \(outcome.steps): the categorizer committed \(position.partition)@\(next) before \(position) produced \(missing)")
                        return
                    }
                }
            }
        }

        startBridge()
        startCategorizer()
        startLoader()
        let target = dice.int(10..<50)
        while outcome.steps < maxSteps, outcome.failures.isEmpty {
            outcome.steps += 1
            defer { checkCommittedBehindOutput() }
            if outcome.steps == dlqRefusesUntil {
                for instance in categorizers { instance.producer.faults.refusingTopics = [] }
            }
            if outcome.steps == rawRefused.lowerBound, !rawRefused.isEmpty {
                for instance in bridges { instance.producer.faults.refusingTopics = [raw] }
            }
            if outcome.steps == rawRefused.upperBound {
                for instance in bridges { instance.producer.faults.refusingTopics = [] }
            }
            if outcome.steps == mqttDownUntil {
                mqtt.start()
                outcome.trace.append("mqtt up")
            }
            publish()
            switch dice.int(0..<130) {
            case 0..<20 where produced < target:
                for _ in 0..<dice.int(1..<5) { produce() }
            case 100..<103 where !bridges.isEmpty:
                crashBridge(dice.pick(bridges), "killed")
            case 103..<106:
                mqtt.disconnect(clientId: bridgeClient)
                outcome.trace.append("mqtt connection cut")
            case 106..<108 where mqtt.isUp:
                mqtt.stop()
                mqttDownUntil = outcome.steps + dice.int(1..<10)
                outcome.trace.append("mqtt down until step \(mqttDownUntil)")
            case 108..<130:
                if bridges.isEmpty { startBridge() }
                stepBridge(dice.pick(bridges))
            case 20..<23 where !categorizers.isEmpty:
                crashCategorizer(dice.pick(categorizers), "killed")
            case 23..<26 where !loaders.isEmpty:
                crashLoader(dice.pick(loaders), "killed")
            case 26..<29 where categorizers.count < 2:
                startCategorizer()
            case 29..<32 where loaders.count < 2:
                startLoader()
            case 32..<66:
                if categorizers.isEmpty { startCategorizer() }
                stepCategorizer(dice.pick(categorizers))
            default:
                if loaders.isEmpty { startLoader() }
                stepLoader(dice.pick(loaders))
            }
        }
        while produced < target { produce() }
        outcome.records = produced

        // Faults off: everything must arrive.
        mqtt.start()
        publish()
        for instance in bridges { instance.producer.faults = MemoryProducer.Faults() }
        bridgeFaults = MemoryProducer.Faults()
        broker.faults = MemoryBroker.Faults()
        for instance in categorizers { instance.producer.faults = MemoryProducer.Faults() }
        for instance in loaders { instance.sink.faults = MemorySink.Faults() }
        producerFaults = MemoryProducer.Faults()
        sinkFaults = MemorySink.Faults()
        if bridges.isEmpty { startBridge() }
        if categorizers.isEmpty { startCategorizer() }
        if loaders.isEmpty { startLoader() }
        func deadLettered() -> Set<TopicPartitionOffset> { deadLetteredPositions() }
        func unmet() -> [String] {
            let letters = deadLettered()
            var missing: [String] = []
            let records = rawRecords()
            let inRaw = Set(broker.partitions(of: raw).flatMap { broker.logs[$0] ?? [] }.map(\.value))
            for payload in acknowledged where !inRaw.contains(payload) {
                missing.append("acknowledged to the sender, not in the raw topic: \(String(decoding: payload.prefix(40), as: UTF8.self))")
            }
            for (position, fate) in records {
                switch fate {
                case .deadLetter:
                    if !letters.contains(position) { missing.append("\(position) not dead-lettered") }
                case .tweets(let ids):
                    let absent = ids.filter { store.tweets[$0] == nil }
                    if !absent.isEmpty && !letters.contains(position) { missing.append("\(position): \(absent) neither loaded nor dead-lettered") }
                }
            }
            return missing
        }
        var rounds = 0
        while rounds < 300, !unmet().isEmpty || categorizers.contains(where: { $0.loop.pending > 0 }) || mqtt.backlog(clientId: bridgeClient) > 0 {
            rounds += 1
            if bridges.isEmpty { startBridge() }
            if categorizers.isEmpty { startCategorizer() }
            if loaders.isEmpty { startLoader() }
            for instance in bridges { stepBridge(instance) }
            for instance in categorizers { stepCategorizer(instance) }
            for instance in loaders { stepLoader(instance) }
        }
        let missing = unmet()
        if !missing.isEmpty {
            let state = categorizers.map { "\($0.name): positions \($0.consumer.positions.sorted { $0.key.partition < $1.key.partition }.map { "\($0.key)@\($0.value)" }), pending \($0.loop.pending)" }
            outcome.failures.append("after \(rounds) rounds without faults: \(missing.prefix(5).joined(separator: "; ")); committed \(broker.committed["chirp-categorizer"]?.sorted { $0.key.partition < $1.key.partition }.map { "\($0.key)@\($0.value)" } ?? []); \(state.joined(separator: "; "))")
        }
        if bridgeMetrics.rejected.value(label: RejectReason.undeliverable.rawValue) > 0 {
            outcome.failures.append("the bridge gave messages up although Kafka refused only for a while")
        }
        if store.rollups.filter({ $0.value != 0 }) != store.recount {
            outcome.failures.append("rollups differ from the recount")
        }
        let unexpected = store.tweets.keys.filter { content[$0] == nil }
        if !unexpected.isEmpty { outcome.failures.append("tweets nobody sent: \(unexpected.sorted().prefix(5))") }
        outcome.trace.append("end: \(store.tweets.count) loaded, \(deadLettered().count) dead letters, crashes \(outcome.crashes)")
        return outcome
    }
}
