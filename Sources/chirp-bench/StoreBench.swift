import ChirpCore
import ChirpPostgres
import ChirpStore
import Foundation

/// `chirp-bench store POSTGRES_URL`: the analytics store on its own (no Kafka). Loads
/// BENCH_STORE_TWEETS generated tweets spread over the last 24 hours through the loader's path
/// (COPY + one statement per batch, raw payloads included), copies their rollups back over the 29
/// days before (so the rollups hold 30 days, about 30 × as many tweets' worth), then times the
/// CLI's queries and a recompute of every loaded tweet.
enum StoreBench {
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("chirp-bench store: \(message)\n".utf8))
        exit(1)
    }

    static func run(url: String, tweets count: Int) {
        let clock = ContinuousClock()
        let store: AnalyticsStore
        do {
            store = try AnalyticsStore(url: url)
            try store.migrate()
        } catch { fail("\(error)") }
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000) / 1000 * 1000
        let now = Timestamp(millisecondsSinceEpoch: nowMs)
        let start = Timestamp(millisecondsSinceEpoch: nowMs - 86_400_000)
        let keepRaw = ProcessInfo.processInfo.environment["BENCH_STORE_RAW"] != "0"
        let loaders = max(1, Int(ProcessInfo.processInfo.environment["BENCH_STORE_LOADERS"] ?? "") ?? 2)
        print("analytics store (PostgreSQL alone; \(count) generated tweets over the last 24 h):")

        // 1. Loading through the loader's statements, by `loaders` connections at once.
        let loaded = StoreLoad(url: url, connections: loaders, keepRaw: keepRaw, start: start, spanSeconds: 86_400 - 1, receivedAt: now).load(count)
        print(String(format: "  load: %.0f tweets/s with %d loader connections at once (%.1f s wall, parsing and encoding included); per connection %@ tweets/s in the database (COPY + one statement per 5000-tweet batch)",
                     loaded.rate, loaders, loaded.wallSeconds, loaded.perConnection.map { String(format: "%.0f", $0) }.joined(separator: ", ")))

        // 2. Thirty days of rollups: the last 24 h copied back over the 29 days before.
        let t0 = clock.now
        do {
            try store.connection.execute("""
                INSERT INTO hashtag_counts_hourly (hour, tag_key, tag, count)
                SELECT hour - d * interval '1 day', tag_key, tag, count FROM hashtag_counts_hourly, generate_series(1, 29) d
                WHERE hour >= $1::timestamptz ON CONFLICT DO NOTHING
                """, [start.iso8601])
            try store.connection.execute("""
                INSERT INTO category_counts_minutely (minute, category, count)
                SELECT minute - d * interval '1 day', category, count FROM category_counts_minutely, generate_series(1, 29) d
                WHERE minute >= $1::timestamptz ON CONFLICT DO NOTHING
                """, [start.iso8601])
            try store.connection.execute("""
                INSERT INTO language_counts_hourly (hour, lang, count)
                SELECT hour - d * interval '1 day', lang, count FROM language_counts_hourly, generate_series(1, 29) d
                WHERE hour >= $1::timestamptz ON CONFLICT DO NOTHING
                """, [start.iso8601])
            try store.connection.execute("VACUUM ANALYZE tweets, tweet_hashtags, raw_tweets, hashtag_counts_hourly, category_counts_minutely, language_counts_hourly")
            let sizes = try store.connection.execute("""
                SELECT (SELECT count(*) FROM hashtag_counts_hourly) AS hashtag_rows, (SELECT count(*) FROM category_counts_minutely) AS category_rows,
                       (SELECT sum(count) FROM language_counts_hourly) AS tweets, pg_size_pretty(pg_database_size(current_database())) AS size
                """)
            print(String(format: "  rollups: 30 days, %@ tweets' worth (%@ hashtag-hour rows, %@ category-minute rows), database %@; built and vacuumed in %.1f s",
                         sizes[0, "tweets"] ?? "?", sizes[0, "hashtag_rows"] ?? "?", sizes[0, "category_rows"] ?? "?", sizes[0, "size"] ?? "?", seconds(clock.now - t0)))
        } catch { fail("rollups: \(error)") }

        // 3. The CLI's questions: median and worst of 9 runs each.
        let hour: Int64 = 3_600_000
        let todayMidnight = nowMs / 86_400_000 * 86_400_000
        func window(_ from: Int64, _ to: Int64) -> TimeWindow {
            TimeWindow(from: Timestamp(millisecondsSinceEpoch: from), to: Timestamp(millisecondsSinceEpoch: to))
        }
        let questions: [(String, Query)] = [
            ("trends --last 1h (sliding)", TrendQueries.topHashtags(window(nowMs - hour, nowMs), limit: 10)),
            ("trends --hourly --last 24h", TrendQueries.hourlyTopHashtags(window(nowMs - 24 * hour, nowMs), limit: 10)),
            ("trends, a past hour 3 days ago", TrendQueries.topHashtags(window(todayMidnight - 3 * 86_400_000 + 7 * hour, todayMidnight - 3 * 86_400_000 + 8 * hour), limit: 10)),
            ("trends, past ragged window (2h20m)", TrendQueries.topHashtags(window(nowMs - 10 * hour - 20 * 60_000, nowMs - 8 * hour), limit: 10)),
            ("trends --last 7d", TrendQueries.topHashtags(window(nowMs - 7 * 24 * hour, nowMs), limit: 10)),
            ("categories --last 1h --by minute", TrendQueries.categories(window(nowMs - hour, nowMs), by: .minute)),
            ("categories --last 24h --by hour", TrendQueries.categories(window(nowMs - 24 * hour, nowMs), by: .hour)),
            ("languages --last 24h", TrendQueries.languages(window(nowMs - 24 * hour, nowMs))),
            ("totals --last 24h", TrendQueries.totals(window(nowMs - 24 * hour, nowMs))),
        ]
        for (name, query) in questions {
            var times: [Double] = []
            var rows = 0
            for _ in 0..<9 {
                let t = clock.now
                do { rows = try store.connection.execute(query.sql, query.parameters).rows.count } catch { fail("\(name): \(error)") }
                times.append(seconds(clock.now - t) * 1000)
            }
            times.sort()
            print("  " + name.padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: "median %6.1f ms, worst %6.1f ms (%d rows)", times[4], times[8], rows))
        }

        // 4. Recompute every loaded tweet from its raw payload with a changed category table (the
        //    defaults plus a few keywords): every row gets the new rules' version, some new categories.
        let r0 = clock.now
        do {
            let changed = try CategoryTableFile.parse(try JSONParser.parse(
                #"{"mode": "extend", "categories": {"technology": ["kafka", "postgres", "swift"], "news": ["breaking", "news", "election"]}}"#))
            let result = try store.recompute(since: start, enricher: Enricher(table: changed), batchSize: 5000)
            let elapsed = seconds(clock.now - r0)
            print(String(format: "  recompute with a changed category table: %d tweets rewritten in %.1f s, %.0f tweets/s (batches of 5000: read %.1f s, derive %.1f s, write %.1f s)",
                         result.updated, elapsed, Double(result.read) / elapsed, result.readSeconds, result.deriveSeconds, result.writeSeconds))
        } catch { fail("recompute: \(error)") }
    }
}
