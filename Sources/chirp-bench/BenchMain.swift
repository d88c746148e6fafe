import ChirpCore
import Foundation

/// chirp-bench FILE [SHARED_DATA_DIR]: throughput of the categorizer's pure logic on one core —
/// parse (JSON → normalized tweet), hashtags, categories, and the enriched record's encoding —
/// over a generated file and, when given, the shared real-tweet samples.
@main
struct BenchMain {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "store", let url = arguments.dropFirst().first {
            StoreBench.run(url: url, tweets: Int(ProcessInfo.processInfo.environment["BENCH_STORE_TWEETS"] ?? "") ?? 1_000_000)
            return
        }
        guard let file = arguments.first else {
            FileHandle.standardError.write(Data("usage: chirp-bench TWEETS_FILE [SHARED_DATA_DIR] | chirp-bench store POSTGRES_URL\n".utf8))
            exit(64)
        }
        var sets: [(String, [[UInt8]])] = [("generated", payloads(file, limit: 50_000))]
        if let shared = arguments.dropFirst().first {
            sets.append(("shared v1.1 sample", payloads("\(shared)/sample-v11.jsonl")))
            sets.append(("shared v2 pages (split per tweet)", payloads("\(shared)/sample-v2-kpop.jsonl") + payloads("\(shared)/sample-v2-brexit.jsonl")))
        }
        print("pure logic, one core (parse + hashtags + categories + encode):")
        let enricher = Enricher()
        let fallback = Timestamp(millisecondsSinceEpoch: 0)
        for (name, messages) in sets where !messages.isEmpty {
            let bytes = messages.reduce(0) { $0 + $1.count }
            var sink = 0
            let clock = ContinuousClock()
            var rounds = 0
            var tweets = 0
            let start = clock.now
            while clock.now - start < .seconds(2) {
                for message in messages {
                    guard let decoded = try? TweetDecoder.decode(bytes: message) else { continue }
                    for tweet in decoded {
                        sink &+= enricher.enrich(tweet, fallbackTime: fallback).encoded().count
                        tweets += 1
                    }
                }
                rounds += 1
            }
            let seconds = Double((clock.now - start).components.attoseconds) / 1e18 + Double((clock.now - start).components.seconds)
            let label = name.count < 40 ? name + String(repeating: " ", count: 40 - name.count) : name
            print(label.isEmpty ? "" : "  " + label + String(format: " %9.0f tweets/s  %6.1f MB/s  (%d tweets, avg %d B, sink %d)",
                         Double(tweets) / seconds, Double(bytes * rounds) / seconds / 1e6, messages.count, bytes / messages.count, sink % 10))
        }
    }

    /// Per-tweet payloads as the sender publishes them.
    static func payloads(_ path: String, limit: Int = .max) -> [[UInt8]] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return TweetFile.read(Array(data)).tweets.prefix(limit).map(\.payloadBytes)
    }
}
