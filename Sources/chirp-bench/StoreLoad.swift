import ChirpCore
import ChirpPostgres
import ChirpStore
import Foundation

/// Generated tweets loaded through the loader's own statements (COPY + one statement per
/// 5 000-tweet batch, raw payloads included), by `connections` connections at once, as
/// `--scale loader=N` would, each with its own share and its own Kafka partition.
struct StoreLoad {
    var url: String
    var connections = 2
    var keepRaw = true
    /// Event times spread evenly from `start` over `spanSeconds`.
    var start: Timestamp
    var spanSeconds: Int
    /// When the pipeline received them (the raw partitions' day).
    var receivedAt: Timestamp
    /// Seeds (and offsets) differ per call, so successive loads add new tweets.
    var seedBase: UInt64 = 4242
    /// Distinct hashtags the generator draws from (its default: 300).
    var vocabulary: Int?
    var firstOffset: Int64 = 0

    struct Outcome {
        var tweets = 0
        var wallSeconds = 0.0
        /// Tweets per second each connection spent in the database.
        var perConnection: [Double] = []
        /// The generated JSON, as the bridge would have received it.
        var payloadBytes = 0
        var rate: Double { Double(tweets) / wallSeconds }
    }

    func load(_ count: Int) -> Outcome {
        let clock = ContinuousClock()
        let results = Results()
        let began = clock.now
        let enricher = Enricher()
        let threads = (0..<connections).map { worker in
            Thread {
                let share = count / connections + (worker < count % connections ? 1 : 0)
                let store: AnalyticsStore
                do { store = try AnalyticsStore(url: url) } catch { StoreBench.fail("\(error)") }
                var settings = SyntheticTweets.Settings(count: share, seed: seedBase + UInt64(worker), start: start, spanSeconds: spanSeconds)
                if let vocabulary { settings.vocabulary = vocabulary }
                var generator = SyntheticTweets(settings)
                var batch = TweetBatch()
                var offset = firstOffset
                var databaseTime = Duration.zero
                var bytes = 0
                func flush() {
                    let t0 = clock.now
                    do { _ = try store.load(batch, consumerGroup: "bench") } catch { StoreBench.fail("load: \(error)") }
                    databaseTime += clock.now - t0
                    batch = TweetBatch()
                }
                while let payload = generator.next() {
                    guard Self.append(payload, to: &batch, enricher: enricher, receivedAt: receivedAt, partition: Int32(worker),
                                      offset: offset, keepRaw: keepRaw) else { continue }
                    bytes += payload.count
                    offset += 1
                    if batch.count == 5000 { flush() }
                }
                if batch.count > 0 { flush() }
                results.withLock { $0.append((share, StoreBench.seconds(databaseTime), bytes)) }
            }
        }
        for thread in threads { thread.start() }
        while results.withLock({ $0.count }) < connections { Thread.sleep(forTimeInterval: 0.05) }
        let finished = results.withLock { $0 }
        return Outcome(tweets: count, wallSeconds: StoreBench.seconds(clock.now - began),
                       perConnection: finished.map { Double($0.tweets) / $0.database },
                       payloadBytes: finished.reduce(0) { $0 + $1.bytes })
    }
}

extension StoreLoad {
    /// One generated payload as the loader would receive its tweet: enriched, with its Kafka
    /// position and (with `keepRaw`) its raw copy. False when it decodes to no tweet.
    static func append(_ payload: [UInt8], to batch: inout TweetBatch, enricher: Enricher, receivedAt: Timestamp,
                       partition: Int32, offset: Int64, keepRaw: Bool = true) -> Bool {
        guard let tweet = try? TweetDecoder.decode(bytes: payload).first else { return false }
        batch.append(enricher.enrich(tweet, fallbackTime: receivedAt), provenance: LoadProvenance(
            topic: "tweets.enriched", partition: partition, offset: offset, publishedAt: receivedAt,
            raw: keepRaw ? RawPayload(bytes: payload, receivedAt: receivedAt, topic: "tweets.raw", partition: partition, offset: offset) : nil))
        return true
    }
}

/// What the loader threads measured. `@unchecked`: `items` is behind `lock`.
final class Results: @unchecked Sendable {
    typealias Item = (tweets: Int, database: Double, bytes: Int)
    private let lock = NSLock()
    private var items: [Item] = []
    func withLock<T>(_ body: (inout [Item]) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&items)
    }
}
