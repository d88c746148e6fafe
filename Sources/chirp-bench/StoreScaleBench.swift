import ChirpCore
import ChirpPostgres
import ChirpStore
import Foundation

/// `chirp-bench store-scale POSTGRES_URL` (`make bench-store`): how the store's costs grow with
/// what it holds. Loads generated tweets spread over the last 24 hours, a million at a time,
/// through the loader's statements, and at each size in BENCH_STORE_SIZES reports the load rate
/// against the empty store's, p50 and p99 of every question the CLI and the dashboard ask (each
/// checked exact against the facts where it reads them), and the bytes on disk per tweet by table
/// and index. At the largest size it also times `chirp recompute` of the last day, `chirp verify`,
/// and dropping a day of raw payloads while a loader loads. Then the same store anew with
/// BENCH_STORE_DENSE tweets within the last 90 minutes, as a stream of ~2 000 tweets/s leaves it
/// (loaded in event-time order, a million after another).
enum StoreScaleBench {
    static let hour: Int64 = 3_600_000

    static func run(url: String) {
        let environment = ProcessInfo.processInfo.environment
        let sizes = (environment["BENCH_STORE_SIZES"] ?? "1000000,3000000,10000000").split(separator: ",").compactMap { Int($0) }
        let dense = Int(environment["BENCH_STORE_DENSE"] ?? "") ?? 10_000_000
        let runs = max(10, Int(environment["BENCH_STORE_RUNS"] ?? "") ?? 50)
        let connections = max(1, Int(environment["BENCH_STORE_LOADERS"] ?? "") ?? 2)
        // The dense store is loaded in event-time order, as the stream that leaves it writes it;
        // BENCH_STORE_DENSE_INTERLEAVED=1 spreads every million over the whole 90 minutes instead.
        let interleaved = environment["BENCH_STORE_DENSE_INTERLEAVED"] == "1"
        // How many distinct hashtags the generated tweets draw from (Zipf): 300 unless set. A
        // wide vocabulary puts nearly a rollup row per use in the minutes and slots.
        let vocabulary = Int(environment["BENCH_STORE_VOCABULARY"] ?? "")
        // The questions are asked as the CLI and Superset ask them: as chirp_reader, with its
        // role's settings, when the stack's reader URL is given.
        let store: AnalyticsStore, reader: AnalyticsStore
        do {
            store = try AnalyticsStore(url: url)
            _ = try store.migrate()
            reader = try environment["CHIRP_POSTGRES_URL"].map { try AnalyticsStore(url: $0) } ?? store
        } catch { StoreBench.fail("\(error)") }
        let nowMs = Int64(Date().timeIntervalSince1970) * 1000
        let now = Timestamp(millisecondsSinceEpoch: nowMs)
        print("analytics store at scale (PostgreSQL alone, \(connections) loader connections, \(runs) runs per question, \(vocabulary ?? 300) distinct hashtags):")

        var bench = Grower(url: url, connections: connections, nowMs: nowMs, vocabulary: vocabulary)
        for size in sizes {
            bench.grow(to: size, start: Timestamp(millisecondsSinceEpoch: nowMs - 24 * hour), spanSeconds: 86_400 - 1)
            checkpoint(store, reader: reader, "\(size.formatted()) tweets over the last 24 h", nowMs: nowMs, runs: runs, payloadBytes: bench.payloadBytes, tweets: bench.loaded)
        }
        if let largest = sizes.max(), largest > 0 {
            maintenance(store, url: url, nowMs: nowMs, connections: connections)
        }
        if dense > 0 {
            do {
                try store.connection.execute("""
                    TRUNCATE tweets, tweet_hashtags, raw_tweets, raw_documents, hashtag_counts_hourly, hashtag_counts_minutely, hashtag_counts_10s, tweet_counts_minutely,
                             category_counts_minutely, language_counts_hourly, kafka_offsets
                    """)
            } catch { StoreBench.fail("truncate: \(error)") }
            var denseBench = Grower(url: url, connections: connections, nowMs: nowMs, seedBase: 90_000, vocabulary: vocabulary)
            denseBench.grow(to: dense, start: Timestamp(millisecondsSinceEpoch: nowMs - 90 * 60_000), spanSeconds: 90 * 60 - 1, inOrder: !interleaved)
            checkpoint(store, reader: reader, "\(dense.formatted()) tweets within the last 90 minutes (dense, \(interleaved ? "every million over all of them" : "loaded in time order"))",
                       nowMs: nowMs, runs: runs,
                       payloadBytes: denseBench.payloadBytes, tweets: denseBench.loaded)
        }
        _ = now
    }

    /// Loads a million at a time, so the rate can be followed as the store grows.
    struct Grower {
        var url: String
        var connections: Int
        var nowMs: Int64
        var seedBase: UInt64 = 10_000
        var vocabulary: Int?
        var loaded = 0
        var payloadBytes = 0
        var firstRate: Double?

        /// Each million is spread over the whole span (the store grows denser), or, `inOrder`,
        /// over its own share of it after the previous million's, as a stream fills a store.
        mutating func grow(to size: Int, start: Timestamp, spanSeconds: Int, inOrder: Bool = false) {
            while loaded < size {
                let count = min(1_000_000, size - loaded)
                // In order: seconds [span·loaded/size, span·(loaded+count)/size) of the span, so
                // the slices meet, and the last ends where the span does.
                let sliceStart = inOrder ? spanSeconds * loaded / size : 0, sliceEnd = inOrder ? spanSeconds * (loaded + count) / size : spanSeconds
                let load = StoreLoad(url: url, connections: connections, start: Timestamp(millisecondsSinceEpoch: start.millisecondsSinceEpoch + Int64(sliceStart) * 1000),
                                     spanSeconds: max(1, sliceEnd - sliceStart),
                                     receivedAt: Timestamp(millisecondsSinceEpoch: nowMs), seedBase: seedBase, vocabulary: vocabulary, firstOffset: Int64(loaded))
                let outcome = load.load(count)
                seedBase += UInt64(connections)
                let first = firstRate ?? outcome.rate
                firstRate = first
                print(String(format: "  load %@ → %@: %.0f tweets/s (%.0f %% of the empty store's), per connection in the database %@",
                             loaded.formatted(), (loaded + count).formatted(), outcome.rate, outcome.rate / first * 100,
                             outcome.perConnection.map { String(format: "%.0f", $0) }.joined(separator: ", ")))
                loaded += count
                payloadBytes += outcome.payloadBytes
            }
        }
    }

    static func window(_ from: Int64, _ to: Int64) -> TimeWindow {
        TimeWindow(from: Timestamp(millisecondsSinceEpoch: from), to: Timestamp(millisecondsSinceEpoch: to))
    }

    /// A moving question's window ends this much earlier on each run, so that over 50 runs its
    /// edges take every position within their minutes: what reading a window costs depends on
    /// where its ends fall (how much of their minutes is read from the facts).
    static let stepMs: Int64 = 1_237

    /// Every question at this size: p50, p99, and whether the answer equals the facts'.
    static func checkpoint(_ store: AnalyticsStore, reader: AnalyticsStore, _ label: String, nowMs: Int64, runs: Int, payloadBytes: Int, tweets: Int) {
        print("\n  \(label) (moving windows end up to \(Int64(runs - 1) * stepMs / 1000) s before now, one every \(stepMs) ms):")
        do {
            try store.connection.execute("VACUUM ANALYZE tweets, tweet_hashtags, raw_tweets, raw_documents, hashtag_counts_hourly, hashtag_counts_minutely, hashtag_counts_10s, tweet_counts_minutely, category_counts_minutely, language_counts_hourly")
        } catch { StoreBench.fail("vacuum: \(error)") }
        let todayMidnight = nowMs / 86_400_000 * 86_400_000
        func top(_ window: TimeWindow) -> (Query, TimeWindow?) { (TrendQueries.topHashtags(window, limit: 10), window) }
        let questions: [(name: String, moves: Bool, make: (Int64) -> (Query, TimeWindow?))] = [
            ("trends --last 1h (sliding)", true, { end in top(window(end - hour, end)) }),
            ("trends, a past clock hour", false, { _ in (TrendQueries.topHashtags(window(todayMidnight - 17 * hour, todayMidnight - 16 * hour), limit: 10), nil) }),
            ("trends, ragged window (2h20m)", true, { end in top(window(end - 10 * hour - 20 * 60_000 - 7_123, end - 8 * hour + 31_456)) }),
            ("trends, ragged window (30m)", true, { end in top(window(end - 50 * 60_000 - 7_123, end - 20 * 60_000 + 31_456)) }),
            ("trends --hourly --last 24h", false, { end in (TrendQueries.hourlyTopHashtags(window(end - 24 * hour, end), limit: 10), nil) }),
            ("trends --last 7d", true, { end in (TrendQueries.topHashtags(window(end - 7 * 24 * hour, end), limit: 10), nil) }),
            ("categories --last 1h --by minute", false, { end in (TrendQueries.categories(window(end - hour, end), by: .minute), nil) }),
            ("languages --last 24h", false, { end in (TrendQueries.languages(window(end - 24 * hour, end)), nil) }),
            ("totals --last 24h", false, { end in (TrendQueries.totals(window(end - 24 * hour, end)), nil) }),
            ("tail, first page (500)", false, { end in (TrendQueries.tail(afterMicroseconds: (end - 60_000) * 1000, afterId: "", limit: 500), nil) }),
        ]
        for (name, moves, make) in questions {
            let timed = timeRuns(runs, moves: moves, name: name, nowMs: nowMs) { end in
                let (query, _) = make(end)
                return try reader.connection.execute(query.sql, query.parameters)
            } exact: { end, answer in
                guard let window = make(end).1 else { return nil }
                return try Self.matchesFacts(store, answer, window)
            }
            report(name, timed)
        }
        dashboard(reader, runs: runs, nowMs: nowMs)
        sizes(store, payloadBytes: payloadBytes, tweets: tweets)
    }

    /// The top 10 counted from the facts alone, as a reference for the planned query.
    static func matchesFacts(_ store: AnalyticsStore, _ answer: PostgresRows, _ window: TimeWindow) throws -> Bool {
        let reference = try store.connection.execute("""
            SELECT tag_key, count(*)::bigint AS count FROM tweet_hashtags
            WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz
            GROUP BY tag_key ORDER BY count DESC, tag_key LIMIT 10
            """, [window.from.iso8601, window.to.iso8601])
        return sameAnswer(answer, reference)
    }

    struct Timed {
        var p50: Double, p99: Double, rows: Int
        /// nil: no reference; else whether the answers at the first and the slowest end were exact.
        var exact: Bool?
        /// Why a run failed (a statement timeout, say): reported in place of the times, and the
        /// bench goes on to the next question.
        var failure: String?
    }

    /// Runs a question `runs` times, its window ending `stepMs` earlier each time when it moves,
    /// and checks its answer at the first end and at the slowest run's.
    static func timeRuns(_ runs: Int, moves: Bool, name: String, nowMs: Int64,
                         _ ask: (Int64) throws -> PostgresRows, exact: (Int64, PostgresRows) throws -> Bool?) -> Timed {
        let clock = ContinuousClock()
        var times: [(ms: Double, end: Int64)] = []
        var rows = 0
        for run in 0..<runs {
            let end = nowMs - (moves ? Int64(run) * stepMs : 0)
            let t = clock.now
            do { rows = try ask(end).rows.count } catch {
                return Timed(p50: 0, p99: 0, rows: 0, exact: nil, failure: "run \(run + 1) of \(runs) failed after \(String(format: "%.0f", StoreBench.seconds(clock.now - t) * 1000)) ms: \(error)")
            }
            times.append((StoreBench.seconds(clock.now - t) * 1000, end))
        }
        let slowest = times.max { $0.ms < $1.ms }!.end
        var verdict: Bool?
        for end in Set([nowMs, slowest]) {
            do {
                if let same = try exact(end, try ask(end)) { verdict = (verdict ?? true) && same }
            } catch { StoreBench.fail("\(name), checking: \(error)") }
        }
        let sorted = times.map(\.ms).sorted()
        return Timed(p50: sorted[sorted.count / 2], p99: sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)],
                     rows: rows, exact: verdict)
    }

    static func report(_ name: String, _ timed: Timed) {
        let verdict = timed.exact.map { $0 ? ", exact" : ", DIFFERS FROM THE FACTS" } ?? ""
        if let failure = timed.failure {
            print("    " + name.padding(toLength: 44, withPad: " ", startingAt: 0) + "FAILED: " + failure)
            return
        }
        print("    " + name.padding(toLength: 44, withPad: " ", startingAt: 0)
              + String(format: "p50 %7.1f ms, p99 %7.1f ms (%d rows%@)", timed.p50, timed.p99, timed.rows, verdict))
    }

    /// The facts-only answers of the dashboard's datasets that read rollups (`$1` is now).
    static let dashboardReferences = [
        "chirp_top_hashtags_last_hour": """
            SELECT tag_key, count(*) AS tweets
            FROM tweet_hashtags
            WHERE created_at >= $1::timestamptz - interval '1 hour' AND created_at < $1::timestamptz
            GROUP BY tag_key
            ORDER BY tweets DESC, tag_key
            LIMIT 10
            """,
        "chirp_totals": """
            SELECT (SELECT count(*) FROM tweets) AS tweets_stored,
                   (SELECT count(*) FROM tweets
                     WHERE created_at >= $1::timestamptz - interval '1 hour' AND created_at < $1::timestamptz) AS tweets_last_hour,
                   (SELECT count(DISTINCT tag_key) FROM tweet_hashtags
                     WHERE created_at >= $1::timestamptz - interval '1 hour' AND created_at < $1::timestamptz) AS hashtags_last_hour
            """,
    ]

    /// The SQL of every dataset the provisioned dashboard asks (BENCH_DASHBOARD_DATASETS, the
    /// files Superset is given), with `now()` the moving end (the generated tweets end at the
    /// bench's now, as a live stream's reach the present), checked against the facts where a
    /// reference exists.
    static func dashboard(_ store: AnalyticsStore, runs: Int, nowMs: Int64) {
        let directory = ProcessInfo.processInfo.environment["BENCH_DASHBOARD_DATASETS"] ?? "deploy/superset/dashboard/datasets/Chirpstream"
        let files: [String]
        do { files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted() } catch {
            StoreBench.fail("dashboard datasets in \(directory): \(error)")
        }
        for file in files {
            guard let text = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8), let sql = datasetSQL(text) else {
                StoreBench.fail("\(file): no sql block")
            }
            let name = String(file.dropLast(".yaml".count))
            let moves = sql.contains("now()")
            let atEnd = sql.replacingOccurrences(of: "now()", with: "$1::timestamptz")
            func iso(_ ms: Int64) -> String { Timestamp(millisecondsSinceEpoch: ms).iso8601 }
            let timed = timeRuns(runs, moves: moves, name: name, nowMs: nowMs) { end in
                try store.connection.execute(atEnd, moves ? [iso(end)] : [])
            } exact: { end, answer in
                guard let reference = dashboardReferences[name] else { return nil }
                return sameAnswer(answer, try store.connection.execute(reference, [iso(end)]))
            }
            report("dashboard " + name, timed)
        }
    }

    /// The `sql: |` block of a dataset file, unindented.
    static func datasetSQL(_ yaml: String) -> String? {
        var lines: [Substring] = []
        var inside = false
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if inside {
                if line.hasPrefix("  ") || line.isEmpty { lines.append(line.dropFirst(min(2, line.count))); continue }
                break
            }
            inside = line.hasPrefix("sql: |")
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }

    /// Whether an answer holds the reference's rows (its columns: a display column may differ).
    static func sameAnswer(_ answer: PostgresRows, _ expected: PostgresRows) -> Bool {
        guard answer.rows.count == expected.rows.count else { return false }
        return (0..<answer.rows.count).allSatisfy { row in expected.columns.allSatisfy { answer[row, $0] == expected[row, $0] } }
    }

    /// Bytes on disk per tweet, per table (heap, TOAST, maps) and per index, partitions summed
    /// into their parent, against the JSON the pipeline received.
    static func sizes(_ store: AnalyticsStore, payloadBytes: Int, tweets: Int) {
        let rows: PostgresRows
        do {
            rows = try store.connection.execute("""
                SELECT tbl, idx, sum(bytes)::bigint AS bytes FROM (
                    SELECT coalesce(pg_partition_root(t.oid), t.oid)::regclass::text AS tbl, '' AS idx, pg_table_size(t.oid) AS bytes
                    FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
                    WHERE t.relkind = 'r'
                    UNION ALL
                    SELECT coalesce(pg_partition_root(t.oid), t.oid)::regclass::text, coalesce(pg_partition_root(c.oid), c.oid)::regclass::text,
                           pg_relation_size(c.oid)
                    FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
                    JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE t.relkind = 'r'
                ) parts GROUP BY 1, 2 ORDER BY 1, 2
                """)
        } catch { StoreBench.fail("sizes: \(error)") }
        let perTweet = { (bytes: Int) in String(format: "%.0f", Double(bytes) / Double(max(tweets, 1))) }
        print("    bytes on disk per tweet (the received JSON: \(perTweet(payloadBytes)) B):")
        var total = 0
        var table = ""
        for index in 0..<rows.rows.count {
            let bytes = Int(rows[index, "bytes"] ?? "0") ?? 0
            total += bytes
            let name = rows[index, "tbl"] ?? "?", indexName = rows[index, "idx"] ?? ""
            if name != table { table = name }
            guard bytes * 2 >= tweets else { continue }  // less than half a byte per tweet
            print("      " + (indexName.isEmpty ? name : "  index \(indexName)").padding(toLength: 44, withPad: " ", startingAt: 0)
                  + perTweet(bytes).leftPadded(6) + " B" + String(format: "%10.0f MB", Double(bytes) / 1e6))
        }
        print("      " + "all".padding(toLength: 44, withPad: " ", startingAt: 0) + perTweet(total).leftPadded(6) + " B"
              + String(format: "%10.0f MB", Double(total) / 1e6))
    }

    /// `chirp recompute` of the last day, `chirp verify`, and raw retention dropping a day of
    /// raw payloads while a loader keeps loading.
    static func maintenance(_ store: AnalyticsStore, url: String, nowMs: Int64, connections: Int) {
        let clock = ContinuousClock()
        do {
            let t0 = clock.now
            let changed = try CategoryTableFile.parse(try JSONParser.parse(
                #"{"mode": "extend", "categories": {"technology": ["kafka", "postgres", "swift"], "news": ["breaking", "news", "election"]}}"#))
            let result = try store.recompute(since: Timestamp(millisecondsSinceEpoch: nowMs - 24 * hour), enricher: Enricher(table: changed), batchSize: 5000)
            let elapsed = StoreBench.seconds(clock.now - t0)
            print(String(format: "\n  chirp recompute of the last day: %d tweets rewritten in %.1f s (%.0f tweets/s)", result.updated, elapsed, Double(result.read) / elapsed))
            let v0 = clock.now
            let mismatches = try store.checkRollups().reduce(0) { $0 + $1.mismatches }
            print(String(format: "  chirp verify (every rollup against the facts): %.1f s, %d mismatches", StoreBench.seconds(clock.now - v0), mismatches))
        } catch { StoreBench.fail("recompute: \(error)") }

        // A day of raw payloads received three days ago (half a million), then dropped by the
        // retention while a loader loads 5 000-tweet batches of new tweets on its own connection.
        let old = nowMs - 3 * 86_400_000
        _ = StoreLoad(url: url, connections: connections, start: Timestamp(millisecondsSinceEpoch: old), spanSeconds: 3_600,
                      receivedAt: Timestamp(millisecondsSinceEpoch: old), seedBase: 70_000).load(500_000)
        let latencies = Latencies()
        let loader = Thread {
            let loaderStore: AnalyticsStore
            do { loaderStore = try AnalyticsStore(url: url) } catch { StoreBench.fail("\(error)") }
            var generator = SyntheticTweets(.init(count: 200_000, seed: 80_000, start: Timestamp(millisecondsSinceEpoch: nowMs - 60_000), spanSeconds: 59))
            let enricher = Enricher()
            let now = Timestamp(millisecondsSinceEpoch: nowMs)
            var batch = TweetBatch()
            var offset: Int64 = 0
            while let payload = generator.next(), !latencies.stopped {
                guard StoreLoad.append(payload, to: &batch, enricher: enricher, receivedAt: now, partition: 99, offset: offset) else { continue }
                offset += 1
                if batch.count == 5000 {
                    let t = ContinuousClock.now
                    do { _ = try loaderStore.load(batch, consumerGroup: "bench-retention") } catch { StoreBench.fail("load: \(error)") }
                    latencies.add(start: t, seconds: StoreBench.seconds(ContinuousClock.now - t))
                    batch = TweetBatch()
                }
            }
            latencies.finish()
        }
        loader.start()
        while latencies.count < 5 { Thread.sleep(forTimeInterval: 0.05) }
        let d0 = ContinuousClock.now
        let dropped: Int
        do { dropped = try store.dropRawPartitions(olderThanDays: 2) } catch { StoreBench.fail("drop: \(error)") }
        let d1 = ContinuousClock.now
        Thread.sleep(forTimeInterval: 2)
        latencies.stop()
        latencies.waitFinished()
        let (before, during) = latencies.split(from: d0, to: d1)
        print(String(format: "  raw retention: %d partition(s) of 500 000 payloads dropped in %.0f ms while loading; 5000-tweet batches took median %.0f ms before, at most %.0f ms overlapping the drop",
                     dropped, StoreBench.seconds(d1 - d0) * 1000, before.sorted()[before.count / 2] * 1000, (during.max() ?? 0) * 1000))
    }
}

/// Batch latencies of the retention test's loader. `@unchecked`: every field is behind `lock`.
final class Latencies: @unchecked Sendable {
    private let lock = NSCondition()
    private var items: [(start: ContinuousClock.Instant, seconds: Double)] = []
    private var stopFlag = false
    private var done = false
    var count: Int { lock.withLock { items.count } }
    var stopped: Bool { lock.withLock { stopFlag } }
    func add(start: ContinuousClock.Instant, seconds: Double) { lock.withLock { items.append((start, seconds)) } }
    func stop() { lock.withLock { stopFlag = true } }
    func finish() { lock.withLock { done = true; lock.broadcast() } }
    func waitFinished() { lock.lock(); while !done { lock.wait() }; lock.unlock() }
    /// Batches that ended before `from`, and those that overlapped [from, to].
    func split(from: ContinuousClock.Instant, to: ContinuousClock.Instant) -> (before: [Double], during: [Double]) {
        lock.withLock {
            let before = items.filter { $0.start + .seconds($0.seconds) < from }.map(\.seconds)
            let during = items.filter { $0.start <= to && $0.start + .seconds($0.seconds) >= from }.map(\.seconds)
            return (before.isEmpty ? [0] : before, during)
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
