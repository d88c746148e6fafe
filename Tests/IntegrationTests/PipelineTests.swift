import ChirpCore
import ChirpKafka
import ChirpPostgres
import Foundation
import Logging
import Testing

/// The whole pipeline on real servers: mosquitto, Kafka (Tansu), PostgreSQL; the four services as
/// processes; the shared samples, a generated file and a hand-written file replayed through it.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct PipelineTests {
    /// Ids each input file must produce, computed from the files directly (not through the sender).
    static func expectedIds(v11 file: String) throws -> [String] {
        try String(contentsOf: Paths.sharedData.appendingPathComponent(file), encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONParser.parse(String($0))["id_str"]?.stringValue)
        }
    }

    static func expectedIds(v2Pages file: String) throws -> [String] {
        try String(contentsOf: Paths.sharedData.appendingPathComponent(file), encoding: .utf8).split(separator: "\n").flatMap {
            try #require(try JSONParser.parse(String($0))["data"]?.arrayValue).compactMap { $0["id"]?.idValue }
        }
    }

    static let handWritten = """
        [
          {"id": "it-food", "text": "Best #Pizza and coffee in town", "created_at": "2023-03-03T10:15:00Z", "lang": "en"},
          {"id": "it-none", "text": "nothing to see here", "created_at": "2023-03-03T10:16:00Z"},
          {"id": "it-refused", "text": "the database refuses this one", "created_at": "2023-03-03T10:17:00Z"},
          {"id": "it-user", "tweets": ["new #Album out, what a band", "#東京 trip: flight booked"], "created_at": "2023-03-03T10:20:00Z"},
          {"id_str": "it-v1", "created_at": "Fri Mar 03 10:30:00 +0000 2023", "text": "cut…", "truncated": true,
           "extended_tweet": {"full_text": "Long v1.1 text about #Tennis and #tennis"}, "user": {"id_str": "77", "screen_name": "ace"}}
        ]
        """
    static let handWrittenIds = ["it-food", "it-none", "it-user-0", "it-user-1", "it-v1"]
    static let document = #"{"id": "it-doc", "tweets": ["what a band", "flight booked", "neither"], "created_at": "2023-03-03T10:40:00Z"}"#
    static let documentIds = ["it-doc-0", "it-doc-1", "it-doc-2"]

    /// A CSV export with its own column names (mapped with the column flags).
    static let csvExport = "tweet_id,posted,body\ncsv-1,2023-03-04T08:00:00Z,\"Sushi, then #Concert\"\ncsv-2,2023-03-04T08:01:00Z,\"quote \"\"this\"\"\"\n"
    static let csvIds = ["csv-1", "csv-2"]

    /// One payload per dead-letter reason code.
    static let badPayloads: [(RejectReason, [UInt8])] = [
        (.invalidJSON, Array("not json at all".utf8)),
        (.invalidUTF8, Array(#"{"id": "u", "text": "bad "#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)),
        (.tooDeep, Array((String(repeating: "[", count: 300) + String(repeating: "]", count: 300)).utf8)),
        (.tooLarge, Array(#"{"id": "big", "text": ""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 70_000) + Array(#""}"#.utf8)),
        (.missingId, Array(#"{"text": "no id"}"#.utf8)),
        (.missingText, Array(#"{"id": "no-text"}"#.utf8)),
        (.wrongType, Array(#"{"id": true, "text": "x"}"#.utf8)),
        (.unknownFormat, Array(#"{"hello": "world"}"#.utf8)),
        (.empty, Array(#"{"data": []}"#.utf8)),
    ]

    /// Reads `tweets.dlq` back: one record per reason, original bytes, reason and source headers.
    static func checkDeadLetterTopic(stack: LocalStack) throws {
        var configuration = KafkaConfiguration.consumer(brokers: stack.environment["KAFKA_BROKERS"]!, groupId: "it-dlq-reader",
                                                        clientId: "it-dlq-reader")
        configuration["enable.auto.commit"] = "false"
        let consumer = try KafkaConsumer(configuration: configuration, logger: Logger(label: "it"))
        defer { consumer.close() }
        try consumer.subscribe([Wire.deadLetterTopic])
        var records: [ConsumedRecord] = []
        let deadline = ContinuousClock.now + .seconds(40)
        while records.count < badPayloads.count, ContinuousClock.now < deadline {
            records += consumer.poll(maxMessages: 100, timeout: .milliseconds(500))
        }
        #expect(records.count == badPayloads.count)
        for (reason, payload) in badPayloads {
            let record = records.first { $0.headerString(Wire.dlqReason) == reason.rawValue }
            #expect(record != nil, "no dead letter with reason \(reason.rawValue)")
            guard let record else { continue }
            #expect(record.value == payload, "\(reason.rawValue): original bytes changed")
            #expect(record.headerString(Wire.dlqSourceTopic) == Wire.rawTopic)
            #expect(record.headerString(Wire.dlqSourceOffset).flatMap { Int64($0) } != nil)
            #expect(!(record.headerString(Wire.dlqMessage) ?? "").isEmpty)
        }
    }

    @Test func tweetsFlowFromFilesToPostgresExactlyOnce() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let (bridge, categorizer, loader) = try stack.startPipeline(categorizer: ["MAX_PAYLOAD_BYTES": "65536"])
        let services = [bridge, categorizer, loader]
        defer { for service in services { service.stop() } }
        // The database will refuse one tweet (a data error): the loader must skip just that one.
        let admin = try PostgresConnection(stack.environment["POSTGRES_ADMIN_URL"]!)
        try admin.execute("ALTER TABLE tweets ADD CONSTRAINT it_refuse CHECK (id <> 'it-refused')")

        // Inputs: the shared samples in place, a generated file, a hand-written JSON array.
        let generated = stack.state.appendingPathComponent("generated.jsonl").path
        let sender = try Paths.binary("chirp-sender")
        let generatedRun = try run(sender, ["generate", "--count", "3000", "--seed", "11", "--start", "2024-05-01T10:00:00Z",
                                            "--span-seconds", "3600", "--output", generated])
        #expect(generatedRun.status == 0, "\(generatedRun.output)")
        let handWrittenPath = stack.state.appendingPathComponent("hand-written.json").path
        try Self.handWritten.write(toFile: handWrittenPath, atomically: true, encoding: .utf8)

        var expected: [String] = try Self.expectedIds(v11: "sample-v11.jsonl")
        for file in ["sample-v2-brexit.jsonl", "sample-v2-kpop.jsonl", "twarc-hashtags-tweets1.jsonl"] {
            expected += try Self.expectedIds(v2Pages: file)
        }
        expected += try String(contentsOfFile: generated, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONParser.parse(String($0))["data"]?["id"]?.stringValue)
        }
        expected += Self.handWrittenIds + Self.csvIds
        var expectedSet = Set(expected)
        #expect(expected.count == 3579)
        #expect(expectedSet.count == 3578)  // sample-v11 repeats one tweet
        let sent = expected.count + 1  // and it-refused

        let inputs = ["sample-v11.jsonl", "sample-v2-brexit.jsonl", "sample-v2-kpop.jsonl", "twarc-hashtags-tweets1.jsonl"]
            .map { Paths.sharedData.appendingPathComponent($0).path } + [generated, handWrittenPath]
        for input in inputs {
            let replay = try run(sender, ["--file", input, "--http-port", "0", "--log-format", "text"], environment: stack.environment)
            #expect(replay.status == 0, "\(input): \(replay.output)")
            #expect(replay.output.contains("failed 0"), "\(replay.output)")
        }
        let csvPath = stack.state.appendingPathComponent("export.csv").path
        try Self.csvExport.write(toFile: csvPath, atomically: true, encoding: .utf8)
        let csvReplay = try run(sender, ["--file", csvPath, "--id-column", "tweet_id", "--text-column", "body", "--time-column", "posted",
                                         "--http-port", "0", "--log-format", "text"], environment: stack.environment)
        #expect(csvReplay.status == 0, "\(csvReplay.output)")

        // Payloads that are no tweet, one per dead-letter reason, straight onto MQTT: they become
        // dead letters with their original bytes; nothing else stops.
        for (index, (_, payload)) in Self.badPayloads.enumerated() {
            let path = stack.state.appendingPathComponent("bad-\(index)").path
            FileManager.default.createFile(atPath: path, contents: Data(payload))
            let published = try stack.mosquittoPublish(["-f", path])
            #expect(published.status == 0, "\(published.output)")
        }

        // A payload of several tweets straight onto MQTT (the sender would split it): the
        // categorizer makes three records of it, and only the first carries the payload.
        let documentPath = stack.state.appendingPathComponent("document.json").path
        try Self.document.write(toFile: documentPath, atomically: true, encoding: .utf8)
        #expect(try stack.mosquittoPublish(["-f", documentPath]).status == 0)
        expectedSet.formUnion(Self.documentIds)

        let database = try PostgresConnection(stack.ownerURL)
        try eventually(timeout: .seconds(120), "all \(expectedSet.count) tweets in PostgreSQL") {
            try database.tweetCount() >= expectedSet.count
        }
        try eventually(timeout: .seconds(30), "one dead letter per reason") {
            try Self.badPayloads.allSatisfy { reason, _ in try categorizer.metric("chirp_dlq_total{reason=\"\(reason.rawValue)\"}") == 1 }
        }
        try Self.checkDeadLetterTopic(stack: stack)
        Thread.sleep(forTimeInterval: 1)  // anything extra would show up now

        // Exactly once: the stored ids are exactly the input ids.
        let stored = try database.execute("SELECT id FROM tweets").rows.compactMap { $0[0] }
        #expect(stored.count == expectedSet.count)
        #expect(Set(stored) == expectedSet)
        #expect(try loader.metric("chirp_loader_duplicates_total") ?? 0 >= 1)  // the repeated v1.1 tweet

        // Known tweets: hashtags (display and key, in order) and categories.
        func row(_ id: String) throws -> [String: String?] {
            let rows = try database.execute(
                "SELECT categories::text, hashtags::text, is_retweet::text, author, format, published_at IS NOT NULL AS stamped FROM tweets WHERE id = $1", [id])
            try #require(rows.rows.count == 1, "tweet \(id) missing")
            return Dictionary(uniqueKeysWithValues: zip(rows.columns, rows.rows[0]))
        }
        #expect(try row("it-food")["categories"] == "{food}")
        #expect(try row("it-food")["hashtags"] == "{pizza}")
        #expect(try row("it-none")["categories"] == "{uncategorized}")
        #expect(try row("it-user-0")["categories"] == "{music}")
        #expect(try row("it-user-1")["categories"] == "{travel}")
        #expect(try row("it-user-1")["hashtags"] == "{東京}")
        #expect(try row("it-v1")["hashtags"] == "{tennis,tennis}")
        #expect(try row("it-v1")["categories"] == "{sports}")
        #expect(try row("it-v1")["author"] == "ace")
        let retweet = try row("1440717170493689866")
        #expect(retweet["is_retweet"] == "true")
        #expect(retweet["hashtags"] == "{topkpopecuador,butter,lisa,charts,kpop,bts,blackpink,straykids}")
        #expect(try row("972472958596866048")["hashtags"] == "{quran}")
        #expect(try row("csv-1")["categories"] == "{food,music}")
        #expect(try row("csv-1")["format"] == "csv")
        #expect(try row("csv-2")["categories"] == "{uncategorized}")
        let displays = try database.execute("SELECT tag FROM tweet_hashtags WHERE tweet_id = '1440716895355764743' ORDER BY position")
        #expect(displays.rows.map { $0[0] } == ["PeoplesVote", "Brexit"])

        // Every row the sender published carries its publish time and a load time after it.
        let timing = try database.execute("SELECT count(*) FILTER (WHERE published_at IS NULL) AS unstamped, count(*) FILTER (WHERE loaded_at < published_at) AS backwards FROM tweets WHERE id NOT LIKE 'it-doc-%'")
        #expect(timing[0, "unstamped"] == "0")
        #expect(timing[0, "backwards"] == "0")

        // Rollups agree with the facts.
        let rollups = try database.execute("""
            SELECT (SELECT sum(count) FROM hashtag_counts_hourly) = (SELECT count(*) FROM tweet_hashtags) AS hashtags_ok,
                   (SELECT sum(count) FROM category_counts_minutely) = (SELECT sum(cardinality(categories)) FROM tweets) AS categories_ok,
                   (SELECT sum(count) FROM language_counts_hourly) = (SELECT count(*) FROM tweets) AS languages_ok,
                   (SELECT count FROM hashtag_counts_hourly WHERE tag_key = 'tennis' AND hour = '2023-03-03T10:00:00Z') AS tennis
            """)
        #expect(rollups[0, "hashtags_ok"] == "t")
        #expect(rollups[0, "categories_ok"] == "t")
        #expect(rollups[0, "languages_ok"] == "t")
        #expect(rollups[0, "tennis"] == "2")

        // Raw master data: one raw row per loaded tweet with its raw-topic position, in a partition
        // of the day the bridge received it; the payload as received in the row, or, for the one
        // payload that yielded three tweets, once in raw_documents, where all three rows point.
        let raw = try database.execute("""
            SELECT (SELECT count(*) FROM raw_tweets) AS raw,
                   (SELECT count(*) FROM tweets t JOIN raw_tweets r ON r.tweet_id = t.id AND r.created_at = t.created_at) AS matched,
                   (SELECT count(*) FROM raw_tweets r WHERE payload IS NOT NULL OR source_topic <> 'tweets.raw'
                        OR (payload_text IS NULL) <> (tweet_id LIKE 'it-doc-%')
                        OR (payload_text IS NULL) <> EXISTS (SELECT 1 FROM raw_documents d WHERE (d.source_topic, d.source_partition, d.source_offset, d.received_at)
                                                                                           = (r.source_topic, r.source_partition, r.source_offset, r.received_at))) AS odd,
                   (SELECT count(*) FROM raw_documents) AS documents,
                   (SELECT left(payload_text, 17) FROM raw_documents) AS document_start,
                   (SELECT count(DISTINCT (source_partition, source_offset)) FROM raw_tweets) AS positions,
                   (SELECT count(*) FROM pg_inherits WHERE inhparent = 'raw_tweets'::regclass) AS partitions,
                   (SELECT count(*) FROM pg_inherits WHERE inhparent = 'raw_documents'::regclass) AS document_partitions,
                   (SELECT payload_text::jsonb->'extended_tweet'->>'full_text' FROM raw_tweets WHERE tweet_id = 'it-v1') AS v1_text,
                   (SELECT left(payload_text, 33) FROM raw_tweets WHERE tweet_id = 'it-v1') AS v1_start
            """)
        #expect(raw[0, "raw"] == String(expectedSet.count))
        #expect(raw[0, "matched"] == String(expectedSet.count))
        #expect(raw[0, "odd"] == "0")
        #expect(raw[0, "documents"] == "1")
        #expect(raw[0, "document_start"] == #"{"id": "it-doc", "#)
        #expect(raw[0, "positions"] == String(expectedSet.count - 2))
        #expect(raw[0, "partitions"] == "1")
        #expect(raw[0, "document_partitions"] == "1")
        #expect(raw[0, "v1_text"] == "Long v1.1 text about #Tennis and #tennis")
        #expect(raw[0, "v1_start"] == #"{"id_str": "it-v1", "created_at":"#, "spacing and key order as sent")

        // Recompute reads the document for both of its tweets: new rules, new categories.
        let rules = stack.state.appendingPathComponent("rules.yaml").path
        try "mode: replace\ncategories:\n  bands: [band]\n  flights: [flight]\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let recompute = try AnalyticsTests.chirp(stack, ["recompute", "--since", "2023-03-03T10:40:00Z", "--categories-file", rules])
        #expect(recompute.status == 0, "\(recompute.output)")
        #expect(!recompute.output.contains("no longer decode"), "\(recompute.output)")
        #expect(try row("it-doc-0")["categories"] == "{bands}")
        #expect(try row("it-doc-1")["categories"] == "{flights}")
        #expect(try row("it-doc-2")["categories"] == "{uncategorized}")

        // Health and metrics on every service.
        for service in services {
            #expect(try service.get("/healthz").status == 200)
            #expect(try service.get("/readyz").status == 200)
            #expect(try service.get("/metrics").body.contains("# TYPE"))
        }
        let published = Double(sent + Self.badPayloads.count + 1)  // and the document
        #expect(try bridge.metric("chirp_bridge_received_total") == published)
        #expect(try bridge.metric("chirp_bridge_delivered_total") == published)
        #expect(try bridge.metric("chirp_bridge_unconfirmed") == 0)
        #expect(try categorizer.metric("chirp_categorizer_consumed_total") == published)
        #expect(try loader.metric("chirp_loader_consumed_total") == Double(sent + Self.documentIds.count))
        #expect(try loader.metric("chirp_loader_rejected_total{reason=\"database\"}") == 1)
        #expect(loader.logText.contains("tweet refused by the database; skipped"))
        #expect(try loader.metric("chirp_loader_inserted_total") == Double(expectedSet.count))

        // Graceful stop: SIGTERM ends each service with status 0.
        for service in services.reversed() {
            #expect(service.stop() == 0, "\(service.name) exit status\n\(service.logText.suffix(2000))")
        }
    }

    @Test func usageErrorsAreClearAndExit64() throws {
        let sender = try Paths.binary("chirp-sender")
        let missing = try run(sender, ["--file", "/nonexistent/tweets.json", "--http-port", "0"])
        #expect(missing.status == 64)
        #expect(missing.output.contains("cannot read tweets file '/nonexistent/tweets.json'"))
        let unknown = try run(try Paths.binary("chirp-loader"), ["--no-such-flag"])
        #expect(unknown.status == 64)
        #expect(unknown.output.contains("unknown option --no-such-flag"))
        let help = try run(try Paths.binary("chirp-bridge"), ["--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("$KAFKA_BROKERS"))
        #expect(help.output.contains("healthcheck"))
    }

    /// Secrets never reach the log: URL passwords and secret Kafka settings are masked in the
    /// start-up line, and a placeholder secret stops the service before it starts.
    @Test func secretsNeverReachTheLog() throws {
        let loader = try Paths.binary("chirp-loader")
        let started = try run(loader, ["--postgres-url", "postgresql://chirp:S3cretPW@127.0.0.1:1/chirp", "--kafka-config", "sasl.password=KafkaPW",
                                       "--connect-timeout-seconds", "1", "--http-port", "0"])
        #expect(started.status != 0)
        #expect(started.output.contains("postgresql://chirp:***@127.0.0.1:1/chirp"), "\(started.output)")
        #expect(started.output.contains("sasl.password=***"))
        #expect(!started.output.contains("S3cretPW") && !started.output.contains("KafkaPW"), "\(started.output)")

        let placeholder = try run(loader, ["--http-port", "0"], environment: ["POSTGRES_URL": "postgresql://chirp:change-me@127.0.0.1:1/chirp"])
        #expect(placeholder.status == 64)
        #expect(placeholder.output.contains("--postgres-url (POSTGRES_URL) is a placeholder ('change-me…'): set a real secret"), "\(placeholder.output)")
    }

    /// The docs' option tables are generated from the same specs as `--help`; they must match.
    @Test(arguments: ["chirp-sender", "chirp-bridge", "chirp-categorizer", "chirp-loader", "chirp"])
    func docsDocumentEveryOption(service: String) throws {
        let file = service == "chirp" ? "docs/cli.md" : "docs/operations.md"
        let docs = try String(contentsOf: Paths.repository.appendingPathComponent(file), encoding: .utf8)
        let table = try run(try Paths.binary(service), ["--help-markdown"])
        #expect(table.status == 0)
        let expected = table.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(docs.contains(expected), "\(file) lacks the current table of \(service) (run scripts/update-option-tables.py)")
    }

    @Test func classifyEnrichesWithoutKafka() throws {
        let input = Data(#"{"id":"c1","text":"Sushi and #Wine tonight","created_at":"2024-01-01T00:00:00Z"}"# .utf8 + Array("\nbroken\n".utf8))
        let result = try run(try Paths.binary("chirp-categorizer"), ["classify"], input: input)
        #expect(result.status == 1)  // one rejected document
        let lines = result.output.split(separator: "\n")
        let enriched = try #require(lines.first { $0.hasPrefix("{") })
        let record = try EnrichedTweet.decode(Array(enriched.utf8))
        #expect(record.id == "c1")
        #expect(record.categories == ["food", "drinks"])
        #expect(record.hashtags.map(\.key) == ["wine"])
        #expect(lines.contains { $0.hasPrefix("line 2: invalid_json:") })

        // A YAML category file: per-language lists, and scalars that YAML 1.1 would read as
        // Booleans or numbers stay keywords.
        let yamlPath = FileManager.default.temporaryDirectory.appendingPathComponent("chirp-categories-\(UUID().uuidString).yaml").path
        try """
            mode: replace
            categories:
              answers:
                keywords: [yes, "1984"]
              sweets:
                keywords: [cake]
                es: [helado]
            """.write(toFile: yamlPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: yamlPath) }
        let yamlInput = Data((#"{"id":"y1","text":"yes, 1984 again","lang":"en"}"# + "\n" + #"{"id":"y2","text":"un helado","lang":"es"}"# + "\n"
            + #"{"id":"y3","text":"un helado","lang":"pt"}"#).utf8)
        let yaml = try run(try Paths.binary("chirp-categorizer"), ["classify", "--categories-file", yamlPath], input: yamlInput)
        #expect(yaml.status == 0, "\(yaml.output)")
        let yamlRecords = try yaml.output.split(separator: "\n").map { try EnrichedTweet.decode(Array($0.utf8)) }
        #expect(yamlRecords.map(\.categories) == [["answers"], ["sweets"], ["uncategorized"]])
        let badYaml = try run(try Paths.binary("chirp-categorizer"), ["classify", "--categories-file", "/nonexistent.yaml"], input: Data())
        #expect(badYaml.status == 64)
        #expect(badYaml.output.contains("cannot read categories file '/nonexistent.yaml'"))

        let csv = try run(try Paths.binary("chirp-categorizer"), ["classify", "--format", "csv"],
                          input: Data("id,text\nx1,\"Wine, beer\"\n".utf8))
        #expect(csv.status == 0, "\(csv.output)")
        let csvRecord = try EnrichedTweet.decode(Array(try #require(csv.output.split(separator: "\n").first).utf8))
        #expect(csvRecord.categories == ["drinks"])
        #expect(csvRecord.format == .csv)
    }
}
