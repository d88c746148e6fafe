import ChirpCore
import ChirpPostgres
import Foundation
import Testing

/// At-least-once upstream plus idempotent loading downstream: whatever rebalances and crashes do
/// in between, the stored ids are exactly the published ids.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ScalingTests {
    /// A generated file of `count` tweets in the stack's folder, and its tweet ids.
    static func generate(_ count: Int, seed: Int, start: String, in stack: LocalStack) throws -> (path: String, ids: Set<String>) {
        let file = stack.state.appendingPathComponent("tweets.jsonl").path
        let generated = try run(try Paths.binary("chirp-sender"), ["generate", "--count", String(count), "--seed", String(seed), "--start", start, "--output", file])
        guard generated.status == 0 else { throw HarnessError("generate failed: \(generated.output)") }
        let ids = Set(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONParser.parse(String($0))["data"]?["id"]?.stringValue)
        })
        return (file, ids)
    }

    @Test func aCrashedCategorizerAndRebalancesLoseNothing() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let bridge = try ServiceProcess("chirp-bridge", stack: stack)
        let categorizerA = try ServiceProcess("chirp-categorizer", stack: stack, environment: ["INSTANCE_ID": "a"])
        let loaderA = try ServiceProcess("chirp-loader", stack: stack, environment: ["INSTANCE_ID": "a"])
        var services = [bridge, categorizerA, loaderA]
        defer { for service in services { service.stop() } }
        try stack.start(services)

        let count = 20_000
        let (file, expected) = try Self.generate(count, seed: 77, start: "2024-06-01T00:00:00Z", in: stack)

        // Replay at 2 500 tweets/s (8 s) while the pipeline changes under it.
        let replay = try stack.replayInBackground(file, arguments: ["--rate", "2500"])
        Thread.sleep(forTimeInterval: 1.5)
        // Crash the categorizer and restart it under the same identity, as a container restart
        // would: what it consumed but had not committed is processed again.
        categorizerA.process.signal(SIGKILL)
        #expect(categorizerA.process.wait() == 128 + SIGKILL)
        let categorizerA2 = try ServiceProcess("chirp-categorizer", stack: stack, environment: ["INSTANCE_ID": "a"])
        services.append(categorizerA2)
        try stack.start([categorizerA2])
        // Scale out: a second categorizer and loader join their groups (rebalances).
        let categorizerB = try ServiceProcess("chirp-categorizer", stack: stack, environment: ["INSTANCE_ID": "b"])
        let loaderB = try ServiceProcess("chirp-loader", stack: stack, environment: ["INSTANCE_ID": "b"])
        services += [categorizerB, loaderB]
        try stack.start([categorizerB, loaderB])

        #expect(replay.wait() == 0)
        let database = try PostgresConnection(stack.ownerURL)
        try eventually(timeout: .seconds(120), "\(count) tweets loaded") {
            try database.tweetCount() >= count
        }
        Thread.sleep(forTimeInterval: 2)
        let stored = try database.execute("SELECT id FROM tweets").rows.compactMap { $0[0] }
        #expect(stored.count == count)
        #expect(Set(stored) == expected)
        let rollups = try database.execute("""
            SELECT (SELECT sum(count) FROM category_counts_minutely) = (SELECT sum(cardinality(categories)) FROM tweets) AS categories_ok,
                   (SELECT sum(count) FROM hashtag_counts_hourly) = (SELECT count(*) FROM tweet_hashtags) AS hashtags_ok
            """)
        #expect(rollups[0, "categories_ok"] == "t")
        #expect(rollups[0, "hashtags_ok"] == "t")
        // The second members took part once their groups were rebalanced.
        #expect(try loaderB.metric("chirp_loader_consumed_total") ?? 0 > 0)
        #expect(try categorizerB.metric("chirp_categorizer_consumed_total") ?? 0 > 0)
    }

    /// The bridge acknowledges a message to MQTT only once Kafka holds it: killed mid-stream again
    /// and again, it loses nothing (what it held unacknowledged comes again from its session).
    /// Every other kill comes while the Kafka broker is frozen, when the bridge holds messages
    /// Kafka has not confirmed: a bridge that had acknowledged them would lose them there.
    @Test func killingTheBridgeRepeatedlyLosesNothing() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        var bridge = try ServiceProcess("chirp-bridge", stack: stack)
        var services = [bridge, try ServiceProcess("chirp-categorizer", stack: stack), try ServiceProcess("chirp-loader", stack: stack)]
        defer { for service in services { service.stop() } }
        try stack.start(services)

        let count = 20_000
        let (file, expected) = try Self.generate(count, seed: 55, start: "2024-09-01T00:00:00Z", in: stack)
        let replay = try stack.replayInBackground(file, arguments: ["--rate", "4000"])
        for round in 0..<4 {
            Thread.sleep(forTimeInterval: Double.random(in: 0.4...1.0))
            let freeze = round % 2 == 0
            if freeze {
                try stack.signalKafka(SIGSTOP)
                Thread.sleep(forTimeInterval: 0.5)
            }
            bridge.process.signal(SIGKILL)
            #expect(bridge.process.wait() == 128 + SIGKILL)
            if freeze { try stack.signalKafka(SIGCONT) }
            bridge = try ServiceProcess("chirp-bridge", stack: stack)
            services.append(bridge)
            try stack.start([bridge])
        }
        #expect(replay.wait() == 0)

        let database = try PostgresConnection(stack.ownerURL)
        // A loss shows as a count that stops short: wait, then say how many.
        try? eventually(timeout: .seconds(90), "\(count) tweets loaded") { try database.tweetCount() >= count }
        Thread.sleep(forTimeInterval: 2)
        let stored = try database.execute("SELECT id FROM tweets").rows.compactMap { $0[0] }
        #expect(stored.count == count)
        #expect(Set(stored) == expected, "lost: \(expected.subtracting(stored).count)")
    }

    /// The sender runs its MQTT connection on its own thread (no libmosquitto network thread), so
    /// reconnecting is its own code; the bridge's persistent session must survive the restart.
    @Test func senderAndBridgeRideOutAnMQTTBrokerRestart() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let services = [
            try ServiceProcess("chirp-bridge", stack: stack), try ServiceProcess("chirp-categorizer", stack: stack),
            try ServiceProcess("chirp-loader", stack: stack),
        ]
        defer { for service in services { service.stop() } }
        try stack.start(services)

        let count = 6000
        let (file, expected) = try Self.generate(count, seed: 66, start: "2024-08-01T00:00:00Z", in: stack)
        let sender = try Paths.binary("chirp-sender")

        // 1 500 tweets/s for 4 s; the broker goes away 1.5 s in and is back a moment later.
        let log = stack.state.appendingPathComponent("sender.log").path
        let replay = try ChildProcess(sender, ["--file", file, "--rate", "1500", "--http-port", "0", "--log-format", "text"],
                                      environment: ProcessInfo.processInfo.environment.merging(stack.environment) { _, new in new },
                                      output: log)
        Thread.sleep(forTimeInterval: 1.5)
        try stack.restartMQTT()
        #expect(replay.wait() == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let senderLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(senderLog.contains("mqtt disconnected; reconnecting"), "\(senderLog)")
        #expect(senderLog.components(separatedBy: "mqtt connected").count - 1 == 2, "\(senderLog)")

        let database = try PostgresConnection(stack.ownerURL)
        try eventually(timeout: .seconds(90), "\(count) tweets loaded") { try database.tweetCount() >= count }
        Thread.sleep(forTimeInterval: 2)
        let stored = try database.execute("SELECT id FROM tweets").rows.compactMap { $0[0] }
        #expect(stored.count == count)
        #expect(Set(stored) == expected)
    }

    @Test func killingTheLoaderRepeatedlyKeepsFactsAndRollupsExact() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let bridge = try ServiceProcess("chirp-bridge", stack: stack)
        let categorizer = try ServiceProcess("chirp-categorizer", stack: stack)
        var loader = try ServiceProcess("chirp-loader", stack: stack, environment: ["INSTANCE_ID": "k"])
        var services = [bridge, categorizer, loader]
        defer { for service in services { service.stop() } }
        try stack.start(services)

        let count = 30_000
        let file = stack.state.appendingPathComponent("tweets.jsonl").path
        let sender = try Paths.binary("chirp-sender")
        #expect(try run(sender, ["generate", "--count", String(count), "--seed", "88", "--start", "2024-07-01T00:00:00Z",
                                 "--span-seconds", "7200", "--output", file]).status == 0)

        // Ground truth from the input file.
        var ids = Set<String>()
        var categoriesPerMinute: [String: Int] = [:]
        var hashtagsPerHour: [String: Int] = [:]
        var languages: [String: Int] = [:]
        let enricher = Enricher()
        for line in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n") {
            for tweet in try TweetDecoder.decode(bytes: Array(line.utf8)) {
                let record = enricher.enrich(tweet, fallbackTime: Timestamp(millisecondsSinceEpoch: 0))
                ids.insert(record.id)
                let seconds = record.createdAt.millisecondsSinceEpoch / 1000
                for category in record.categories { categoriesPerMinute["\(seconds / 60 * 60)|\(category)", default: 0] += 1 }
                for tag in record.hashtags { hashtagsPerHour["\(seconds / 3600 * 3600)|\(tag.key)", default: 0] += 1 }
                languages[record.lang ?? "und", default: 0] += 1
            }
        }

        let replay = try stack.replayInBackground(file, arguments: ["--rate", "2500"])
        let database = try PostgresConnection(stack.ownerURL)
        for _ in 0..<3 {
            // Kill at a random moment after this instance has committed a batch (or everything is
            // loaded already), so every restarted loader finds offsets stored in PostgreSQL.
            try eventually(timeout: .seconds(60), "the loader committing a batch") {
                try loader.metric("chirp_loader_inserted_total") ?? 0 > 0 || database.tweetCount() >= count
            }
            Thread.sleep(forTimeInterval: Double.random(in: 0.2...1.0))
            loader.process.signal(SIGKILL)
            #expect(loader.process.wait() == 128 + SIGKILL)
            loader = try ServiceProcess("chirp-loader", stack: stack, environment: ["INSTANCE_ID": "k"])
            services.append(loader)
            try loader.waitForHTTP()
        }
        #expect(replay.wait() == 0)

        try eventually(timeout: .seconds(150), "\(count) tweets loaded") {
            try database.tweetCount() >= count
        }
        Thread.sleep(forTimeInterval: 2)
        let stored = try database.execute("SELECT id FROM tweets").rows.compactMap { $0[0] }
        #expect(stored.count == count)
        #expect(Set(stored) == ids)

        func counts(_ sql: String) throws -> [String: Int] {
            var result: [String: Int] = [:]
            for row in try database.execute(sql).rows {
                result[row[0] ?? ""] = Int(row[1] ?? "")
            }
            return result
        }
        #expect(try counts("SELECT extract(epoch FROM minute)::bigint || '|' || category, count FROM category_counts_minutely") == categoriesPerMinute)
        #expect(try counts("SELECT extract(epoch FROM hour)::bigint || '|' || tag_key, count FROM hashtag_counts_hourly") == hashtagsPerHour)
        #expect(try counts("SELECT lang, sum(count) FROM language_counts_hourly GROUP BY lang") == languages)
        // A restarted loader started from the offsets stored with the data.
        #expect(services.contains { $0.name == "chirp-loader" && $0.logText.contains("starting from the offsets stored with the rows") })
    }
}
