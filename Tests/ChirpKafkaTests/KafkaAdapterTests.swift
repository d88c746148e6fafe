import ChirpCore
import ChirpKafka
import ChirpPipeline
import Foundation
import Logging
import Testing

/// The Kafka adapter against librdkafka's mock cluster (brokers inside the test process): the
/// producer's deliveries as the pipeline collects them, a consumer group's rebalance as events
/// after `poll`, storing offsets, and seeking.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct KafkaAdapterTests {
    static let logger = Logger(label: "kafka-test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func consumer(_ cluster: KafkaMockCluster, group: String, instance: String) throws -> KafkaConsumer {
        var configuration = KafkaConfiguration.consumer(brokers: cluster.bootstrapServers, groupId: group, clientId: instance)
        configuration["fetch.min.bytes"] = "1"
        configuration["session.timeout.ms"] = "6000"
        return try KafkaConsumer(configuration: configuration, logger: logger)
    }

    /// Polls until `condition` holds (at most `seconds`), collecting records and events.
    static func poll(_ consumer: KafkaConsumer, seconds: Double, until condition: ([ConsumedRecord], [AssignmentEvent]) -> Bool)
        -> (records: [ConsumedRecord], events: [AssignmentEvent]) {
        var records: [ConsumedRecord] = []
        var events: [AssignmentEvent] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, !condition(records, events) {
            records += consumer.poll(maxMessages: 100, timeout: .milliseconds(100))
            events += consumer.takeAssignmentEvents()
        }
        return (records, events)
    }

    static func assigned(_ events: [AssignmentEvent]) -> Set<TopicPartition> {
        var owned: Set<TopicPartition> = []
        for event in events {
            switch event {
            case .assigned(let partitions): owned.formUnion(partitions)
            case .revoked(let partitions): owned.subtract(partitions)
            }
        }
        return owned
    }

    @Test func deliveriesRebalanceEventsOffsetsAndSeeks() throws {
        let cluster = try KafkaMockCluster(brokers: 3)
        try cluster.createTopic("t", partitions: 4)
        let producer = try KafkaRecordProducer(
            configuration: KafkaConfiguration.producer(brokers: cluster.bootstrapServers, clientId: "p", lingerMilliseconds: 1), logger: Self.logger)
        #expect(producer.maximumRecordBytes == 1_000_000)
        for index in 0..<200 {
            var headers = RecordHeaders()
            headers.append(Wire.publishedAt, Int64(1_700_000_000_000 + index))
            try producer.send(topic: "t", key: Array("k\(index)".utf8), value: Array("v\(index)".utf8), headers: headers, token: UInt64(index))
        }
        #expect(producer.flush(timeout: .seconds(20)) == 0)
        let deliveries = producer.takeDeliveries()
        #expect(deliveries.count == 200)
        #expect(Set(deliveries.map(\.token)) == Set(0..<200))
        #expect(deliveries.allSatisfy { $0.failure == nil && $0.topic == "t" })
        #expect(producer.takeDeliveries().isEmpty)
        // Too large for the client: refused at once, and said to be for its size.
        #expect(throws: ProducerFailure.self) {
            try producer.send(topic: "t", key: nil, value: Array(repeating: 0, count: 1_000_001), headers: RecordHeaders(), token: 999)
        }
        do {
            try producer.send(topic: "t", key: nil, value: Array(repeating: 0, count: 1_000_001), headers: RecordHeaders(), token: 999)
        } catch {
            #expect(error.recordTooLarge)
        }

        // One member gets every partition and every record, headers intact.
        let first = try Self.consumer(cluster, group: "g", instance: "a")
        try first.subscribe(["t"])
        let a = Self.poll(first, seconds: 30) { records, _ in records.count >= 200 }
        #expect(a.records.count == 200)
        #expect(Self.assigned(a.events).count == 4)
        #expect(a.records.first { $0.key == Array("k7".utf8) }?.headers.int64(Wire.publishedAt) == 1_700_000_000_007)
        // Store the offsets of all it read, as a loop does after its work is durable.
        var next: [TopicPartition: Int64] = [:]
        for record in a.records { next[TopicPartition(topic: record.topic, partition: record.partition)] = record.offset + 1 }
        try first.storeOffsets(next.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) })

        // A second member joins: the first hears of the revocation after its poll, and the two
        // end up owning the four partitions between them, none twice.
        let second = try Self.consumer(cluster, group: "g", instance: "b")
        try second.subscribe(["t"])
        var firstEvents: [AssignmentEvent] = a.events
        var secondEvents: [AssignmentEvent] = []
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            _ = first.poll(maxMessages: 10, timeout: .milliseconds(100))
            firstEvents += first.takeAssignmentEvents()
            _ = second.poll(maxMessages: 10, timeout: .milliseconds(100))
            secondEvents += second.takeAssignmentEvents()
            let mine = Self.assigned(firstEvents), theirs = Self.assigned(secondEvents)
            if !theirs.isEmpty, mine.isDisjoint(with: theirs), mine.union(theirs).count == 4 { break }
        }
        #expect(firstEvents.contains { if case .revoked = $0 { true } else { false } })
        let mine = Self.assigned(firstEvents), theirs = Self.assigned(secondEvents)
        #expect(!theirs.isEmpty)
        #expect(mine.isDisjoint(with: theirs))
        #expect(mine.union(theirs).count == 4)

        // A seek moves a partition back; "not yet" answers are tried again, as the loader does.
        let partition = try #require(theirs.sorted { $0.partition < $1.partition }.first)
        var pending = [TopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: 0)]
        var again: [ConsumedRecord] = []
        let seekDeadline = Date().addingTimeInterval(30)
        while Date() < seekDeadline, again.isEmpty || !pending.isEmpty {
            if !pending.isEmpty { pending = try second.seek(pending) }
            let polled = second.poll(maxMessages: 100, timeout: .milliseconds(100))
            if pending.isEmpty { again += polled.filter { $0.partition == partition.partition } }
        }
        #expect(pending.isEmpty)
        #expect(again.first?.offset == 0)
        first.close()
        second.close()
    }
}
