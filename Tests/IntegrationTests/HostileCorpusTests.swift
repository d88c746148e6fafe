import ChirpCore
import ChirpKafka
import ChirpMQTT
import ChirpPipeline
import ChirpPostgres
import Foundation
import Logging
import Testing

/// The hostile corpus (`Tests/hostile/corpus.jsonl`): payloads and headers crafted to break the
/// pipeline, sent through the real services as an outsider would (MQTT, or Kafka records written
/// straight to `tweets.raw` and `tweets.enriched`). Each item says what must become of it: loaded,
/// a dead letter with a reason, or a rejection counted by the bridge or the loader, and which
/// header values are counted as ignored. Afterwards every count must match the corpus exactly,
/// every service must be running and ready, and good tweets sent after it all must be loaded.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct HostileCorpusTests {
    struct Item: Decodable {
        struct Repeat: Decodable {
            var head: String
            var body: String
            var times: Int
            var tail: String
        }

        struct Expect: Decodable {
            var loaded: [String]?
            var dlq: String?
            var bridgeRejected: String?
            var loaderRejected: String?
            var ignored: String?
            var ignoredCategorizer: String?
            var ignoredLoader: String?

            enum CodingKeys: String, CodingKey {
                case loaded, dlq, ignored
                case bridgeRejected = "bridge_rejected", loaderRejected = "loader_rejected", ignoredCategorizer = "ignored_categorizer"
                case ignoredLoader = "ignored_loader"
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                if let one = try? container.decode(String.self, forKey: .loaded) {
                    loaded = [one]
                } else {
                    loaded = try container.decodeIfPresent([String].self, forKey: .loaded)
                }
                dlq = try container.decodeIfPresent(String.self, forKey: .dlq)
                bridgeRejected = try container.decodeIfPresent(String.self, forKey: .bridgeRejected)
                loaderRejected = try container.decodeIfPresent(String.self, forKey: .loaderRejected)
                ignored = try container.decodeIfPresent(String.self, forKey: .ignored)
                ignoredCategorizer = try container.decodeIfPresent(String.self, forKey: .ignoredCategorizer)
                ignoredLoader = try container.decodeIfPresent(String.self, forKey: .ignoredLoader)
            }
        }

        var name: String
        var to: String
        var text: String?
        var b64: String?
        var `repeat`: Repeat?
        var properties: [[String]]?
        var headers: [[String]]?
        var key: String?
        var expect: Expect

        var payload: [UInt8] {
            if let text { return Array(text.utf8) }
            if let b64 { return Array(Data(base64Encoded: b64)!) }
            let r = self.repeat!
            return Array((r.head + String(repeating: r.body, count: r.times) + r.tail).utf8)
        }
    }

    static func corpus() throws -> [Item] {
        let text = try String(contentsOf: Paths.repository.appendingPathComponent("Tests/hostile/corpus.jsonl"), encoding: .utf8)
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").map { try decoder.decode(Item.self, from: Data($0.utf8)) }
    }

    @Test func theCorpusIsLargeAndEachItemSaysWhatBecomesOfIt() throws {
        let items = try Self.corpus()
        #expect(items.count >= 60)
        for item in items {
            let e = item.expect
            #expect(e.loaded != nil || e.dlq != nil || e.bridgeRejected != nil || e.loaderRejected != nil, "\(item.name)")
            #expect(["mqtt", "raw", "enriched"].contains(item.to), "\(item.name)")
        }
        #expect(Set(items.map(\.name)).count == items.count, "names are unique")
    }

    @Test func everyHostileItemIsAccountedForAndGoodTweetsStillFlow() throws {
        let items = try Self.corpus()
        let stack = try LocalStack()
        defer { stack.stop() }
        let (bridge, categorizer, loader) = try stack.startPipeline()
        let services = [bridge, categorizer, loader]
        defer { for service in services { service.stop() } }

        let logger = Logger(label: "it", factory: { _ in SwiftLogNoOpLogHandler() })
        let (username, password) = try stack.senderMQTTCredentials
        let mqtt = try MQTTClient(options: .init(host: "127.0.0.1", port: Int32(stack.environment["MQTT_PORT"]!)!, clientId: "it-hostile", cleanSession: true,
                                                 username: username, password: password),
                                  logger: logger)
        try mqtt.connect()
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration.producer(brokers: stack.environment["KAFKA_BROKERS"]!, clientId: "it-hostile", lingerMilliseconds: 1),
            logger: logger, onDelivery: { _ in })
        for item in items {
            let payload = item.payload
            switch item.to {
            case "mqtt":
                let properties = (item.properties ?? []).map { MQTTMessage.UserProperty($0[0], $0[1]) }
                #expect(try mqtt.publish(topic: "tweets", payload: payload, userProperties: properties, timeout: .seconds(30)), "\(item.name)")
            default:
                var headers = RecordHeaders()
                for header in item.headers ?? [] { headers.append(header[0], header[1]) }
                try producer.send(topic: item.to == "raw" ? Wire.rawTopic : Wire.enrichedTopic, key: item.key.map { Array($0.utf8) },
                                  value: payload, headers: headers, token: 0)
            }
        }
        #expect(mqtt.waitForAcknowledgements(timeout: .seconds(30)))
        #expect(producer.flush(timeout: .seconds(30)) == 0)
        producer.close()
        mqtt.disconnect()

        // Good tweets after all of it.
        let good = (0..<50).map { #"{"id":"good-\#($0)","text":"fine #after","created_at":"2024-01-01T00:00:00Z"}"# }.joined(separator: "\n")
        let goodPath = stack.state.appendingPathComponent("good.jsonl").path
        _ = FileManager.default.createFile(atPath: goodPath, contents: Data(good.utf8))
        let replay = try run(try Paths.binary("chirp-sender"), ["--file", goodPath, "--http-port", "0", "--log-format", "text"], environment: stack.environment)
        #expect(replay.status == 0, "\(replay.output)")

        let expectedIds = Set(items.flatMap { $0.expect.loaded ?? [] } + (0..<50).map { "good-\($0)" })
        func tally(_ key: (Item.Expect) -> String?) -> [String: Int] {
            items.compactMap { key($0.expect) }.reduce(into: [:]) { $0[$1, default: 0] += 1 }
        }
        let dlq = tally(\.dlq), bridgeRejected = tally(\.bridgeRejected), loaderRejected = tally(\.loaderRejected)
        let ignored = tally(\.ignored), ignoredCategorizer = tally(\.ignoredCategorizer), ignoredLoader = tally(\.ignoredLoader)
        let database = try PostgresConnection(stack.ownerURL)
        let settled = { () throws -> Bool in
            try database.tweetCount() >= expectedIds.count
                && dlq.allSatisfy { try categorizer.metric("chirp_dlq_total{reason=\"\($0.key)\"}") ?? 0 >= Double($0.value) }
                && loaderRejected.allSatisfy { try loader.metric("chirp_loader_rejected_total{reason=\"\($0.key)\"}") ?? 0 >= Double($0.value) }
        }
        try? eventually(timeout: .seconds(90), "everything accounted for", settled)
        Thread.sleep(forTimeInterval: 2)

        let stored = Set(try database.execute("SELECT id FROM tweets").rows.compactMap { $0[0] })
        #expect(stored.subtracting(expectedIds).isEmpty, "loaded, not expected: \(stored.subtracting(expectedIds).sorted())")
        #expect(expectedIds.subtracting(stored).isEmpty, "expected, not loaded: \(expectedIds.subtracting(stored).sorted())")
        // A payload that yielded several tweets is stored once, not once per tweet.
        let multi = items.filter { $0.to != "enriched" && ($0.expect.loaded?.count ?? 0) > 1 }
        let documents = try database.execute("SELECT count(*) AS n, coalesce(sum(octet_length(payload_text)), 0) AS bytes FROM raw_documents")
        #expect(documents[0, "n"] == String(multi.count))
        #expect(documents[0, "bytes"] == String(multi.reduce(0) { $0 + $1.payload.count }))
        // Each counter as the services report it, against the corpus: one message lists every difference.
        func counts(_ service: ServiceProcess, _ metric: String) throws -> [String: Int] {
            var result: [String: Int] = [:]
            for line in try service.get("/metrics").body.split(separator: "\n") where line.hasPrefix(metric + "{reason=\"") {
                let reason = line.dropFirst(metric.count + 9).prefix { $0 != "\"" }
                result[String(reason)] = Int(Double(line.split(separator: " ").last ?? "") ?? 0)
            }
            return result
        }
        let observed: [(String, [String: Int], [String: Int])] = [
            ("dead letters", try counts(categorizer, "chirp_dlq_total"), dlq),
            ("bridge rejections", try counts(bridge, "chirp_bridge_rejected_total"), bridgeRejected),
            ("loader rejections", try counts(loader, "chirp_loader_rejected_total"), loaderRejected),
            ("bridge's ignored headers", try counts(bridge, "chirp_bridge_ignored_headers_total"), ignored),
            ("categorizer's ignored headers", try counts(categorizer, "chirp_categorizer_ignored_headers_total"), ignoredCategorizer),
            ("loader's ignored headers", try counts(loader, "chirp_loader_ignored_headers_total"), ignoredLoader),
        ]
        for (what, got, corpus) in observed {
            #expect(got.filter { $0.value != 0 } == corpus, "\(what): the services counted \(got.sorted { $0.key < $1.key }), the corpus says \(corpus.sorted { $0.key < $1.key })")
        }
        for service in services {
            #expect(service.process.isRunning, "\(service.name) stopped:\n\(service.logText)")
            #expect(try service.get("/readyz").status == 200, "\(service.name) not ready")
        }
    }
}
