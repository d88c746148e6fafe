import ChirpCore
import Foundation

/// chirp-bench FILE [SHARED_DATA_DIR]: throughput of the categorizer's pure logic on one core —
/// parse (JSON → normalized tweet), hashtags, categories, and the enriched record's encoding —
/// over a generated file and, when given, the shared real-tweet samples.
@main
struct BenchMain {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "store-scale", let url = arguments.dropFirst().first {
            StoreScaleBench.run(url: url)
            return
        }
        if arguments.first == "store", let url = arguments.dropFirst().first {
            StoreBench.run(url: url, tweets: Int(ProcessInfo.processInfo.environment["BENCH_STORE_TWEETS"] ?? "") ?? 1_000_000)
            return
        }
        guard let file = arguments.first else {
            FileHandle.standardError.write(Data("usage: chirp-bench TWEETS_FILE [SHARED_DATA_DIR] | chirp-bench store POSTGRES_URL | chirp-bench store-scale POSTGRES_URL\n".utf8))
            exit(64)
        }
        var sets: [(String, [[UInt8]])] = [("generated", payloads(file, limit: 50_000))]
        if let shared = arguments.dropFirst().first {
            sets.append(("shared v1.1 sample", payloads("\(shared)/sample-v11.jsonl")))
            sets.append(("shared v2 pages (split per tweet)", payloads("\(shared)/sample-v2-kpop.jsonl") + payloads("\(shared)/sample-v2-brexit.jsonl")))
        }
        if ProcessInfo.processInfo.environment["BENCH_STAGE"] != nil {
            return stages(sets[0].1, enricher: Enricher())
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
        if let generated = sets.first?.1, !generated.isEmpty {
            stages(generated, enricher: enricher)
        }
    }

    /// Time per tweet of each step alone over the generated set, so a regression points at its stage.
    static func stages(_ messages: [[UInt8]], enricher: Enricher) {
        let tweets = messages.compactMap { try? TweetDecoder.decode(bytes: $0) }.flatMap { $0 }
        let fallback = Timestamp(millisecondsSinceEpoch: 0)
        let enriched = tweets.map { enricher.enrich($0, fallbackTime: fallback) }
        print("  stages over the generated set, ns per tweet:")
        // BENCH_STAGE=name runs only that stage, a fixed 20 rounds: for profilers (callgrind counts
        // instructions, which a shared machine's noise does not move).
        let only = ProcessInfo.processInfo.environment["BENCH_STAGE"]
        func measure(_ name: String, _ count: Int, _ body: () -> Int) {
            if let only {
                guard name.hasPrefix(only) else { return }
                var sink = 0
                for _ in 0..<20 { sink &+= body() }
                print("    \(name): 20 rounds of \(count) (sink \(sink % 10))")
                return
            }
            let clock = ContinuousClock()
            var sink = 0
            var rounds = 0
            let start = clock.now
            while clock.now - start < .milliseconds(700) {
                sink &+= body()
                rounds += 1
            }
            let elapsed = clock.now - start
            let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            let label = name + String(repeating: " ", count: max(0, 28 - name.count))
            print("    " + label + String(format: " %7.0f  (sink %d)", nanoseconds / Double(rounds * count), sink % 10))
        }
        measure("decode (parse + normalize)", messages.count) {
            messages.reduce(0) { $0 &+ ((try? TweetDecoder.decode(bytes: $1))?.count ?? 0) }
        }
        measure("hashtags", tweets.count) { tweets.reduce(0) { $0 &+ HashtagExtractor.extract($1.text).count } }
        measure("mentions", tweets.count) { tweets.reduce(0) { $0 &+ MentionExtractor.extract($1.text).count } }
        measure("categories", tweets.count) {
            tweets.reduce(0) { $0 &+ enricher.matcher.categories(for: $1.text, lang: $1.lang).count }
        }
        measure("encode", enriched.count) { enriched.reduce(0) { $0 &+ $1.encoded().count } }
    }

    /// Per-tweet payloads as the sender publishes them.
    static func payloads(_ path: String, limit: Int = .max) -> [[UInt8]] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return TweetFile.read(Array(data)).tweets.prefix(limit).map(\.payloadBytes)
    }
}
