import ChirpCore
import ChirpKafka
import ChirpPostgres
import Foundation
import Logging
import Testing

/// Input crafted to break the services, sent the way an outsider would: MQTT 5 user properties
/// with times at the edges of the 64-bit range, a payload near Kafka's record limit, and records
/// written straight to the Kafka topics. Afterwards every service is still running and ready, each
/// hostile item is loaded or a dead letter or a counted rejection, and good tweets still flow.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct HostileInputTests {
    /// mosquitto_pub with MQTT 5 and one user property.
    static func publish(_ stack: LocalStack, payloadFile: String, property: (String, String)? = nil) throws {
        var arguments = ["-V", "mqttv5", "-f", payloadFile]
        if let (name, value) = property { arguments += ["-D", "publish", "user-property", name, value] }
        let result = try stack.mosquittoPublish(arguments)
        #expect(result.status == 0, "\(result.output)")
    }

    static func file(_ stack: LocalStack, _ name: String, _ bytes: [UInt8]) -> String {
        let path = stack.state.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    @Test func hostileTimesAndSizesNeitherStopNorLoseAnything() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let (bridge, categorizer, loader) = try stack.startPipeline()
        let services = [bridge, categorizer, loader]
        defer { for service in services { service.stop() } }

        // 1. Publish times no store can hold, and one that is no number: the tweets load with a
        //    time of the pipeline's own; the properties are counted and not forwarded.
        let hostileTimes = [("p-min", "-9223372036854775808"), ("p-far", "99999999999999999"), ("p-max", "9223372036854775807"),
                            ("p-text", "soon"), ("p-over", "9223372036854775808")]
        for (id, value) in hostileTimes {
            let path = Self.file(stack, id, Array(#"{"id":"\#(id)","text":"x #edge"}"#.utf8))
            try Self.publish(stack, payloadFile: path, property: (Wire.publishedAt, value))
        }
        // 2. A valid tweet of 997 000 bytes: larger than the payload limit, still within what the
        //    bridge forwards; it becomes a dead letter with its bytes, and nothing waits behind it.
        let bigText = String(repeating: "a", count: 997_000 - #"{"id":"p-big","text":""}"#.utf8.count)
        let big = Array(#"{"id":"p-big","text":"\#(bigText)"}"#.utf8)
        #expect(big.count == 997_000)
        try Self.publish(stack, payloadFile: Self.file(stack, "p-big", big))
        // 3. Over Kafka's limit: the bridge cannot forward it and says so (counted, logged).
        let huge = Array(#"{"id":"p-huge","text":""#.utf8) + Array(repeating: UInt8(ascii: "b"), count: 1_000_000) + Array(#""}"#.utf8)
        try Self.publish(stack, payloadFile: Self.file(stack, "p-huge", huge))
        // 4. A hashtag too long for an index entry (random, so that PostgreSQL cannot compress it
        //    under the limit): that one row is refused, counted, and nothing else waits. An id with
        //    a NUL (it would become another tweet's id) and an enriched record that lands just
        //    over Kafka's limit only once librdkafka's per-record overhead is counted are dead
        //    letters.
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let longTag = String((0..<3000).map { _ in alphabet.randomElement(using: &generator)! })
        try Self.publish(stack, payloadFile: Self.file(stack, "p-longtag", Array(#"{"id":"p-longtag","text":"x #a\#(longTag)"}"#.utf8)))
        try Self.publish(stack, payloadFile: Self.file(stack, "p-nul", Array(#"{"id":"p-nul\u0000","text":"not p-nul"}"#.utf8)))
        let edgeText = String(repeating: "#a ", count: 20_000) + String(repeating: "b", count: 219_774)
        let edge = Array(#"{"id":"p-edge","text":"\#(edgeText)"}"#.utf8)
        try Self.publish(stack, payloadFile: Self.file(stack, "p-edge", edge))
        // 5. Straight to tweets.enriched, as any Kafka client could: edge-of-range header times.
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration.producer(brokers: stack.environment["KAFKA_BROKERS"]!, clientId: "it-hostile"),
            logger: Logger(label: "it"), onDelivery: { _ in })
        let enriched = EnrichedTweet(
            id: "p-direct", createdAt: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000), text: "direct #write", lang: nil,
            authorId: nil, authorName: nil, retweetOf: nil, format: .minimal, hashtags: [Hashtag(display: "write")], mentions: [],
            categories: [], hashtagRules: HashtagExtractor.version, categoryRules: "it")
        var headers = RecordHeaders()
        headers.append(Wire.publishedAt, Int64.min)
        headers.append(Wire.rawPayload, Array(#"{"id":"p-direct"}"#.utf8))
        headers.append(Wire.rawTopicName, Wire.rawTopic)
        headers.append(Wire.rawTimestamp, Int64.max)
        headers.append(Wire.rawPartition, 0)
        headers.append(Wire.rawOffset, 0)
        try producer.send(topic: Wire.enrichedTopic, key: Array("p-direct".utf8), value: enriched.encoded(), headers: headers, token: 0)
        // A raw payload that is no text, or a raw partition number out of range, costs only the
        // raw copy.
        var direct = enriched
        direct.id = "p-badraw"
        var badRaw = RecordHeaders()
        badRaw.append(Wire.rawPayload, [0xFF])
        badRaw.append(Wire.rawTopicName, Wire.rawTopic)
        badRaw.append(Wire.rawTimestamp, 1_700_000_000_000)
        badRaw.append(Wire.rawPartition, 0)
        badRaw.append(Wire.rawOffset, 0)
        try producer.send(topic: Wire.enrichedTopic, key: Array("p-badraw".utf8), value: direct.encoded(), headers: badRaw, token: 0)
        direct.id = "p-rawpart"
        var farPartition = RecordHeaders()
        farPartition.append(Wire.rawPayload, Array(#"{"id":"p-rawpart"}"#.utf8))
        farPartition.append(Wire.rawTopicName, Wire.rawTopic)
        farPartition.append(Wire.rawTimestamp, 1_700_000_000_000)
        farPartition.append(Wire.rawPartition, 99_999_999_999)
        farPartition.append(Wire.rawOffset, 0)
        try producer.send(topic: Wire.enrichedTopic, key: Array("p-rawpart".utf8), value: direct.encoded(), headers: farPartition, token: 0)
        #expect(producer.flush(timeout: .seconds(20)) == 0)
        producer.close()

        // 6. Good tweets after all of it.
        let good = (0..<50).map { #"{"id":"good-\#($0)","text":"fine #after","created_at":"2024-01-01T00:00:00Z"}"# }.joined(separator: "\n")
        let goodPath = Self.file(stack, "good.jsonl", Array(good.utf8))
        let replay = try run(try Paths.binary("chirp-sender"), ["--file", goodPath, "--http-port", "0", "--log-format", "text"],
                             environment: stack.environment)
        #expect(replay.status == 0, "\(replay.output)")

        let database = try PostgresConnection(stack.ownerURL)
        let expected = Set(hostileTimes.map(\.0) + ["p-direct", "p-badraw", "p-rawpart"] + (0..<50).map { "good-\($0)" })
        try eventually(timeout: .seconds(60), "\(expected.count) tweets loaded") { try database.tweetCount() >= expected.count }
        try eventually(timeout: .seconds(30), "the large tweets dead-lettered") {
            try categorizer.metric("chirp_dlq_total{reason=\"too_large\"}") == 2
        }
        try eventually(timeout: .seconds(30), "the refused rows counted") {
            try loader.metric("chirp_loader_rejected_total{reason=\"database\"}") == 1  // the hashtag too long for an index entry
        }
        Thread.sleep(forTimeInterval: 1)
        let stored = Set(try database.execute("SELECT id FROM tweets").rows.compactMap { $0[0] })
        #expect(stored == expected)

        for service in services {
            #expect(service.process.isRunning, "\(service.name) stopped:\n\(service.logText)")
            #expect(try service.get("/readyz").status == 200, "\(service.name) not ready")
        }
        // The hostile times were not trusted: no stored publish time, event times of this century.
        let times = try database.execute("""
            SELECT count(*) FILTER (WHERE published_at IS NOT NULL) AS stamped,
                   count(*) FILTER (WHERE created_at < '2000-01-01' OR created_at > now() + interval '1 day') AS odd
            FROM tweets WHERE id LIKE 'p-%'
            """)
        #expect(times[0, "stamped"] == "0")
        #expect(times[0, "odd"] == "0")
        #expect(try bridge.metric("chirp_bridge_ignored_headers_total{reason=\"chirp-published-ms:out_of_range\"}") == 3)
        #expect(try bridge.metric("chirp_bridge_ignored_headers_total{reason=\"chirp-published-ms:not_a_number\"}") == 2)
        #expect(try bridge.metric("chirp_bridge_rejected_total{reason=\"too_large\"}") == 1)
        #expect(bridge.logText.contains("MQTT message too large for Kafka; not forwarded"))
        #expect(try loader.metric("chirp_loader_ignored_headers_total{reason=\"chirp-published-ms:out_of_range\"}") == 1)
        #expect(try loader.metric("chirp_loader_ignored_headers_total{reason=\"chirp-raw-ms:out_of_range\"}") == 1)
        #expect(try loader.metric("chirp_loader_ignored_headers_total{reason=\"chirp-raw-partition:out_of_range\"}") == 1)
        #expect(try loader.metric("chirp_loader_ignored_headers_total{reason=\"chirp-raw-payload:not_utf8\"}") == 1)
        #expect(try categorizer.metric("chirp_dlq_total{reason=\"wrong_type\"}") == 1)
        #expect(loader.logText.contains("index row size"), "the long hashtag was not refused by the index")
        let rawCopies = try database.execute("SELECT count(*) AS n FROM raw_tweets WHERE tweet_id IN ('p-direct', 'p-badraw', 'p-rawpart')")
        #expect(rawCopies[0, "n"] == "0")

        // The dead letter holds the payload byte for byte, with its reason.
        var configuration = KafkaConfiguration.consumer(brokers: stack.environment["KAFKA_BROKERS"]!, groupId: "it-hostile-dlq",
                                                        clientId: "it-hostile-dlq")
        configuration["enable.auto.commit"] = "false"
        let consumer = try KafkaConsumer(configuration: configuration, logger: Logger(label: "it"))
        defer { consumer.close() }
        try consumer.subscribe([Wire.deadLetterTopic])
        var letters: [ConsumedRecord] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while letters.count < 3, ContinuousClock.now < deadline {
            letters += consumer.poll(maxMessages: 10, timeout: .milliseconds(500))
        }
        try #require(letters.count == 3)
        let bigLetter = try #require(letters.first { $0.value == big })
        #expect(bigLetter.headerString(Wire.dlqReason) == "too_large")
        #expect(bigLetter.headerString(Wire.dlqMessage)?.hasPrefix("payload is 997000 bytes") == true)
        let edgeLetter = try #require(letters.first { $0.value == edge })
        #expect(edgeLetter.headerString(Wire.dlqMessage)?.hasPrefix("an enriched record would take") == true)
        #expect(letters.contains { $0.headerString(Wire.dlqMessage) == "'id' contains a NUL character" }, "\(letters.map { ($0.headerString(Wire.dlqReason) ?? "", $0.headerString(Wire.dlqMessage) ?? "") })")
    }
}
