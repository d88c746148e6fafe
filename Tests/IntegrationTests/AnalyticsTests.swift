import ChirpCore
import ChirpPostgres
import ChirpStore
import Foundation
import Testing

/// The analytics store through the `chirp` CLI on a live pipeline: every answer compared with
/// counts computed from the input file, the read-only role, clear errors, raw payloads kept as
/// received, and a recompute with new rules beside a running loader that ends equal to a rebuild.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct AnalyticsTests {
    static let t0: Int64 = 1_714_557_600_000  // 2024-05-01T10:00:00Z

    static func ms(_ iso: String) throws -> Int64 { try #require(Timestamp(parsing: iso)).millisecondsSinceEpoch }

    /// `chirp …` with the stack's environment; returns status and output.
    static func chirp(_ stack: LocalStack, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        try run(try Paths.binary("chirp"), arguments, environment: stack.environment.merging(environment) { _, new in new })
    }

    static func json(_ stack: LocalStack, _ arguments: [String]) throws -> JSONValue {
        let result = try chirp(stack, arguments + ["--json"])
        try #require(result.status == 0, "chirp \(arguments.joined(separator: " ")): \(result.output)")
        return try JSONParser.parse(result.output)
    }

    static func counts(_ entries: JSONValue?, key: String = "key") -> [String: Int] {
        var result: [String: Int] = [:]
        for entry in entries?.arrayValue ?? [] {
            result[entry[key]?.stringValue ?? "?"] = Int(entry["count"]?.idValue ?? "")
        }
        return result
    }

    @Test func trendsCategoriesAndRecomputeMatchTheInput() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let (bridge, categorizer, loader) = try stack.startPipeline()
        let services = [bridge, categorizer, loader]
        defer { for service in services { service.stop() } }

        let sender = try Paths.binary("chirp-sender")
        let first = stack.state.appendingPathComponent("first.jsonl").path
        #expect(try run(sender, ["generate", "--count", "4000", "--seed", "21", "--start", "2024-05-01T10:00:00Z",
                                 "--span-seconds", "10800", "--output", first]).status == 0)
        #expect(try run(sender, ["--file", first, "--http-port", "0", "--log-format", "text"], environment: stack.environment).status == 0)
        // A payload jsonb could not hold (\u0000) loads like any other; its text has every byte
        // COPY framing could trip on.
        let nulPath = stack.state.appendingPathComponent("nul.json").path
        let nulPayload = #"{"id": "nul-1", "text": "nul \u0000 inside #zero\ttab \\ \"q\" line\nbreak 🙂 #Über", "created_at": "2024-05-01T08:00:00Z"}"#
        try nulPayload.write(toFile: nulPath, atomically: true, encoding: .utf8)
        #expect(try stack.mosquittoPublish(["-f", nulPath]).status == 0)
        let database = try PostgresConnection(stack.ownerURL)
        try eventually(timeout: .seconds(90), "4001 tweets loaded") { try database.tweetCount() >= 4001 }
        let truth = try GroundTruth(files: [first])
        #expect(truth.records.count == 4000)

        // Top hashtags in a past window, given in UTC and in another zone: exact, ragged ends included.
        let from = try Self.ms("2024-05-01T10:20:00Z"), to = try Self.ms("2024-05-01T11:50:00Z")
        let window = try Self.json(stack, ["trends", "--from", "2024-05-01T10:20:00Z", "--to", "2024-05-01 11:50", "--top", "1000"])
        #expect(Self.counts(window["hashtags"]) == truth.hashtags(from: from, to: to))
        #expect((window["hashtags"]?.arrayValue ?? []).count > 100)
        let kolkata = try Self.json(stack, ["trends", "--from", "2024-05-01 15:50", "--to", "2024-05-01 17:20", "--tz", "Asia/Kolkata", "--top", "1000"])
        #expect(Self.counts(kolkata["hashtags"]) == truth.hashtags(from: from, to: to))
        #expect(kolkata["tz"]?.stringValue == "Asia/Kolkata")

        // The sliding last hour, and the default top 10 in order.
        let now = "2024-05-01T12:10:30Z"
        let lastHour = try Self.json(stack, ["trends", "--last", "1h", "--now", now, "--top", "1000"])
        let lastHourTruth = truth.hashtags(from: try Self.ms(now) - 3_600_000, to: try Self.ms(now))
        #expect(Self.counts(lastHour["hashtags"]) == lastHourTruth)
        let top10 = try Self.json(stack, ["trends", "--now", now])
        let top10Counts = (top10["hashtags"]?.arrayValue ?? []).compactMap { Int($0["count"]?.idValue ?? "") }
        #expect(top10Counts == Array(lastHourTruth.values.sorted(by: >).prefix(10)))
        let table = try Self.chirp(stack, ["trends", "--now", now, "--top", "3"])
        #expect(table.status == 0)
        #expect(table.output.contains("Top 3 hashtags, 2024-05-01 11:10:30 – 2024-05-01 12:10:30 UTC"), "\(table.output)")
        #expect(table.output.contains("█"))

        // Hour by hour for the last 24 hours.
        let hourly = try Self.json(stack, ["trends", "--hourly", "--last", "4h", "--now", "2024-05-01T13:00:00Z", "--top", "1000"])
        var hourlyCounts: [Int64: [String: Int]] = [:]
        for hour in hourly["hours"]?.arrayValue ?? [] {
            hourlyCounts[try Self.ms(hour["hour"]?.stringValue ?? "")] = Self.counts(hour["hashtags"])
        }
        #expect(hourlyCounts == truth.hashtagsPerHour(from: try Self.ms("2024-05-01T09:00:00Z"), to: try Self.ms("2024-05-01T13:00:00Z")))
        #expect(hourlyCounts.count == 3)
        let hourlyText = try Self.chirp(stack, ["trends", "--hourly", "--now", "2024-05-01T13:00:00Z", "--top", "2", "--tz", "+02:00"])
        #expect(hourlyText.output.contains("2024-05-01 14:00  ("), "\(hourlyText.output)")

        // Categories per minute and per hour, languages, totals.
        for (by, bucket) in [("minute", Int64(60_000)), ("hour", Int64(3_600_000))] {
            let categories = try Self.json(stack, ["categories", "--by", by, "--from", "2024-05-01T10:00:00Z", "--to", "2024-05-01T13:00:00Z"])
            var perBucket: [Int64: [String: Int]] = [:]
            for entry in categories["buckets"]?.arrayValue ?? [] {
                var counts: [String: Int] = [:]
                for member in entry["counts"]?.objectValue?.members ?? [] { counts[member.key] = Int(member.value.idValue ?? "") }
                perBucket[try Self.ms(entry["start"]?.stringValue ?? "")] = counts
            }
            #expect(perBucket == truth.categories(from: Self.t0, to: Self.t0 + 3 * 3_600_000, bucket: bucket), "by \(by)")
        }
        let languages = try Self.json(stack, ["languages", "--from", "2024-05-01T10:00:00Z", "--to", "2024-05-01T13:00:00Z"])
        #expect(Self.counts(languages["languages"], key: "lang") == truth.languages(from: Self.t0, to: Self.t0 + 3 * 3_600_000))
        let totals = try Self.json(stack, ["totals", "--now", "2024-05-01T13:00:00Z"])
        #expect(totals["tweets"]?.idValue == "4001")
        #expect(totals["first_tweet"]?.stringValue == "2024-05-01T08:00:00.000Z")

        // tail: the first tweets loaded, then it stops at --count.
        let tail = try Self.chirp(stack, ["tail", "--since", "2000-01-01", "--count", "3", "--json"])
        #expect(tail.status == 0)
        let tailed = try tail.output.split(separator: "\n").map { try JSONParser.parse(String($0))["id"]?.stringValue ?? "" }
        #expect(tailed.count == 3)
        #expect(Set(tailed).isSubset(of: truth.ids.union(["nul-1"])))

        // Clear errors.
        let bad = try Self.chirp(stack, ["trends", "--from", "the day before"])
        #expect(bad.status == 64)
        #expect(bad.output.contains("bad time expression 'the day before'"), "\(bad.output)")
        let empty = try Self.chirp(stack, ["trends", "--from", "2020-01-01", "--to", "2020-01-02"])
        #expect(empty.status == 3)
        #expect(empty.output.contains("no hashtags between 2020-01-01 00:00 – 2020-01-02 00:00 UTC; the store holds tweets from 2024-05-01 08:00"), "\(empty.output)")
        let unreachable = try Self.chirp(stack, ["totals", "--postgres-url", "postgresql://chirp_reader@127.0.0.1:1/chirp"])
        #expect(unreachable.status == 1)
        #expect(unreachable.output.contains("cannot connect to PostgreSQL at postgresql://chirp_reader@127.0.0.1:1/chirp"), "\(unreachable.output)")
        for role in ["CHIRP_POSTGRES_URL", "POSTGRES_URL"] {
            let notOwner = try Self.chirp(stack, ["recompute", "--since", "2024-05-01", "--postgres-url", stack.environment[role]!])
            #expect(notOwner.status == 1)
            #expect(notOwner.output.contains("connect as the schema's owner"), "\(role): \(notOwner.output)")
        }

        // Raw payloads: byte for byte as published (spacing, key order and escapes kept).
        let raw = try database.execute("SELECT payload IS NULL AS as_text, payload_text FROM raw_tweets WHERE tweet_id = 'nul-1'")
        #expect(raw[0, "as_text"] == "t")
        #expect(raw[0, "payload_text"] == nulPayload)
        let nul = try database.execute("SELECT text, hashtags, created_at = '2024-05-01T08:00:00Z' AS at FROM tweets WHERE id = 'nul-1'")
        #expect(nul[0, "text"] == "nul  inside #zero\ttab \\ \"q\" line\nbreak 🙂 #Über", "NUL dropped, the rest as sent")
        #expect(nul[0, "hashtags"] == "{zero,über}")
        #expect(nul[0, "at"] == "t")

        // Twenty tweets as an older hashtag extractor might have left them: only their first
        // hashtag, ten more with none (facts and rollups changed together, so the store is
        // consistent, just different from the rules). Recompute must remove the first hashtag's
        // row before writing them all again.
        let admin = try PostgresConnection(stack.environment["POSTGRES_ADMIN_URL"]!)
        try admin.execute("""
            WITH victims AS (SELECT id, row_number() OVER (ORDER BY id) <= 20 AS keep_first FROM tweets
                             WHERE created_at >= '2024-05-01T11:00:00Z' AND cardinality(hashtags) > 1 ORDER BY id LIMIT 30),
            gone AS (DELETE FROM tweet_hashtags h USING victims v WHERE h.tweet_id = v.id AND (h.position > 1 OR NOT v.keep_first)
                     RETURNING h.tag_key, date_trunc('hour', h.created_at) AS hour),
            lowered AS (UPDATE hashtag_counts_hourly r SET count = r.count - g.n FROM (SELECT hour, tag_key, count(*) AS n FROM gone GROUP BY 1, 2) g
                        WHERE r.hour = g.hour AND r.tag_key = g.tag_key)
            UPDATE tweets t SET hashtags = CASE WHEN v.keep_first THEN t.hashtags[1:1] ELSE '{}' END FROM victims v WHERE t.id = v.id
            """)
        #expect(try Self.chirp(stack, ["verify"]).status == 0)
        let stripped = try Self.json(stack, ["trends", "--from", "2024-05-01T10:00:00Z", "--to", "2024-05-01T13:00:00Z", "--top", "1000"])
        #expect(Self.counts(stripped["hashtags"]) != truth.hashtags(from: Self.t0, to: Self.t0 + 3 * 3_600_000))

        // Tweets without hashtags moved 20 s later within their hour, their category minutes with
        // them (the tweet minutes follow by themselves): recompute moves them back to the time
        // their payloads hold, across minutes, while a loader loads.
        try database.execute("SET TimeZone = 'UTC'")
        try database.execute("""
            CREATE TEMP TABLE moved AS SELECT id FROM tweets
            WHERE created_at >= '2024-05-01T11:00:00Z' AND hashtags = '{}' AND extract(minute FROM created_at) < 59 AND id LIKE '%3'
            """)
        let categoryMinutes = """
            SELECT date_trunc('minute', created_at) AS minute, c AS category, count(*) AS n
            FROM tweets, unnest(categories) AS c WHERE id IN (SELECT id FROM moved) GROUP BY 1, 2
            """
        try database.execute("""
            UPDATE category_counts_minutely r SET count = r.count - g.n FROM (\(categoryMinutes)) g
            WHERE r.minute = g.minute AND r.category = g.category
            """)
        try database.execute("DELETE FROM category_counts_minutely WHERE count = 0")
        let moved = try database.execute("UPDATE tweets SET created_at = created_at + interval '20 seconds' WHERE id IN (SELECT id FROM moved)").affected
        try database.execute("""
            INSERT INTO category_counts_minutely AS r (minute, category, count) SELECT minute, category, n FROM (\(categoryMinutes)) g
            ON CONFLICT (minute, category) DO UPDATE SET count = r.count + EXCLUDED.count
            """)
        #expect(moved > 10)
        #expect(try Self.chirp(stack, ["verify"]).status == 0)

        // Recompute with a new category table since 11:00, while a second file is being loaded.
        let rules = stack.state.appendingPathComponent("rules.yaml").path
        try "mode: replace\ncategories:\n  headlines: [breaking, news]\n  machines: [ai, robot]\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let second = stack.state.appendingPathComponent("second.jsonl").path
        #expect(try run(sender, ["generate", "--count", "4000", "--seed", "22", "--start", "2024-05-01T11:30:00Z",
                                 "--span-seconds", "3600", "--output", second]).status == 0)
        let replay = try stack.replayInBackground(second, arguments: ["--rate", "1000"])
        Thread.sleep(forTimeInterval: 1)
        let recompute = try Self.chirp(stack, ["recompute", "--since", "2024-05-01 11:00", "--categories-file", rules, "--batch-size", "300", "--json"])
        #expect(recompute.status == 0, "\(recompute.output)")
        #expect(replay.wait() == 0)
        try eventually(timeout: .seconds(90), "8001 tweets loaded") { try database.tweetCount() >= 8001 }
        Thread.sleep(forTimeInterval: 1)
        let verify = try Self.chirp(stack, ["verify"])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(try database.execute("""
            SELECT count(*) AS n FROM tweets t JOIN raw_tweets r ON r.tweet_id = t.id WHERE t.created_at <> r.created_at
            """)[0, "n"] == "0")

        // Once more after the load: every tweet since 11:00 now follows the new table.
        let again = try Self.chirp(stack, ["recompute", "--since", "2024-05-01 11:00", "--categories-file", rules])
        #expect(again.status == 0, "\(again.output)")
        #expect(again.output.contains("recomputed"))
        #expect(try Self.chirp(stack, ["verify"]).status == 0)
        let newRules = try GroundTruth(files: [first, second], enricher: Enricher(table: try CategoryTableFile.parse(
            JSONParser.parse(#"{"mode": "replace", "categories": {"headlines": ["breaking", "news"], "machines": ["ai", "robot"]}}"#))))
        let oldRules = try GroundTruth(files: [first, second])
        var expected = oldRules.categories(from: Self.t0, to: Self.t0 + 3_600_000, bucket: 60_000)
        expected.merge(newRules.categories(from: Self.t0 + 3_600_000, to: Self.t0 + 3 * 3_600_000, bucket: 60_000)) { _, new in new }
        var stored: [Int64: [String: Int]] = [:]
        for row in try database.execute("SELECT (extract(epoch FROM minute) * 1000)::bigint, category, count FROM category_counts_minutely WHERE minute >= '2024-05-01T10:00:00Z'").rows {
            stored[Int64(row[0] ?? "") ?? 0, default: [:]][row[1] ?? ""] = Int(row[2] ?? "")
        }
        #expect(stored == expected)
        let versions = try database.execute("""
            SELECT count(DISTINCT category_rules) FILTER (WHERE created_at >= '2024-05-01T11:00:00Z') AS after,
                   count(*) FILTER (WHERE created_at < '2024-05-01T11:00:00Z' AND category_rules = (SELECT category_rules FROM tweets WHERE created_at >= '2024-05-01T11:00:00Z' LIMIT 1)) AS before_changed
            FROM tweets
            """)
        #expect(versions[0, "after"] == "1")
        #expect(versions[0, "before_changed"] == "0")
        // The stripped tweets have their hashtags back: the hashtag rollup equals the input's again.
        let hashtagsNow = try Self.json(stack, ["trends", "--from", "2024-05-01T10:00:00Z", "--to", "2024-05-01T13:00:00Z", "--top", "1000"])
        #expect(Self.counts(hashtagsNow["hashtags"]) == newRules.hashtags(from: Self.t0, to: Self.t0 + 3 * 3_600_000))
        // No key guards the hashtag rows any more: each (tweet, position) once, each tweet's rows its keys.
        let facts = try database.execute("""
            SELECT (SELECT count(*) FROM (SELECT 1 FROM tweet_hashtags GROUP BY tweet_id, position HAVING count(*) > 1) d) AS repeated,
                   (SELECT count(*) FROM tweet_hashtags) = (SELECT sum(cardinality(hashtags)) FROM tweets) AS rows_match
            """)
        #expect(facts[0, "repeated"] == "0")
        #expect(facts[0, "rows_match"] == "t")
    }

    @Test func rawPartitionsPastTheRetentionAreDropped() throws {
        let stack = try LocalStack(migrated: false)
        defer { stack.stop() }
        #expect(try Self.chirp(stack, ["migrate"]).output.contains("schema version \(Migrations.all.count)"))
        let writer = try PostgresConnection(stack.ownerURL)
        for day in ["2020-01-01", "2020-01-02"] { try writer.execute("SELECT chirp_raw_partition($1::date)", [day]) }
        try writer.execute("SELECT chirp_raw_partition((now() AT TIME ZONE 'UTC')::date)")
        #expect(try writer.execute("SELECT chirp_drop_raw_partitions('30 days') AS n")[0, "n"] == "2")
        let left = try writer.execute("""
            SELECT (SELECT count(*) FROM pg_inherits WHERE inhparent = 'raw_tweets'::regclass) AS tweets,
                   (SELECT count(*) FROM pg_inherits WHERE inhparent = 'raw_documents'::regclass) AS documents
            """)
        #expect(left[0, "tweets"] == "1")
        #expect(left[0, "documents"] == "1")
        #expect(try Self.chirp(stack, ["migrate"]).output.contains("up to date"))

        // Two loaders: one has loaded raw payloads of an old day, the other's retention drops
        // that day's partition. The first one's next batch of that day must still load whole.
        let loaderA = try AnalyticsStore(url: stack.postgresURL)
        let loaderB = try AnalyticsStore(url: stack.postgresURL)
        func batch(_ ids: [String]) -> TweetBatch {
            var batch = TweetBatch()
            for (index, id) in ids.enumerated() {
                let tweet = Tweet(id: id, createdAt: Timestamp(parsing: "2020-03-01T10:00:00Z"), text: "old #day", format: .minimal)
                let raw = RawPayload(bytes: Array(#"{"id":"\#(id)"}"#.utf8), receivedAt: Timestamp(parsing: "2020-03-01T10:00:00Z")!,
                                     topic: "tweets.raw", partition: 0, offset: Int64(index))
                batch.append(Enricher().enrich(tweet, fallbackTime: Timestamp(millisecondsSinceEpoch: 0)),
                             provenance: LoadProvenance(topic: "e", partition: 1, offset: Int64(index), publishedAt: nil, raw: raw))
            }
            return batch
        }
        #expect(try loaderA.load(batch(["old-1"]), consumerGroup: "g") == 1)
        #expect(try loaderB.dropRawPartitions(olderThanDays: 30) == 1)
        let next = batch(["old-2", "old-3"])
        #expect { try loaderA.load(next, consumerGroup: "g") } throws: { ($0 as? PostgresError)?.sqlState == "23514" }
        let rows = try loaderA.loadRowByRow(next, consumerGroup: "g")
        #expect(rows.inserted == 2)
        #expect(rows.refused.isEmpty)
        #expect(try PostgresConnection(stack.ownerURL).execute("SELECT count(*) AS n FROM raw_tweets WHERE tweet_id IN ('old-2', 'old-3')")[0, "n"] == "2")
    }

    /// A payload of several tweets is kept once, in raw_documents, whatever order its tweets
    /// arrive in and even when its first tweet is already known; recompute reads it for each of
    /// them. Starts from a store at schema 3, which the migration to 4 upgrades in place.
    @Test func aDocumentIsKeptOnceAndServesEachOfItsTweets() throws {
        let stack = try LocalStack(migrated: false)
        defer { stack.stop() }
        let writer = try PostgresConnection(stack.ownerURL)
        try writer.execute(Migrations.createLedger)
        for migration in Migrations.all.prefix(3) {
            try writer.execute(migration.sql)
            try writer.execute("INSERT INTO chirp_migrations (version, name) VALUES ($1::integer, $2)", [String(migration.version), migration.name])
        }
        try writer.execute("SELECT chirp_raw_partition('2020-03-01')")
        let store = try AnalyticsStore(url: stack.ownerURL)
        #expect(try store.migrate() == Array(Migrations.all.map(\.version).dropFirst(3)))
        #expect(try writer.execute("SELECT to_regclass('raw_documents_20200301') IS NOT NULL AS made")[0, "made"] == "t")

        let at = Timestamp(parsing: "2020-03-01T10:00:00Z")!
        let document = Array(#"{"id": "x", "tweets": ["a good band", "a long flight"]}"#.utf8)
        var offset: Int64 = 0
        func batch(_ rows: [(id: String, text: String, storage: RawPayload.Storage, rawOffset: Int64)]) -> TweetBatch {
            var batch = TweetBatch()
            for row in rows {
                let tweet = Tweet(id: row.id, createdAt: at, text: row.text, format: .minimal)
                let raw = RawPayload(storage: row.storage, receivedAt: at, topic: "tweets.raw", partition: 0, offset: row.rawOffset)
                batch.append(Enricher().enrich(tweet, fallbackTime: at),
                             provenance: LoadProvenance(topic: "tweets.enriched", partition: 0, offset: offset, publishedAt: nil, raw: raw))
                offset += 1
            }
            return batch
        }
        // x-0 known already from a payload of its own; the document's second tweet arrives before
        // its first (they are keyed apart and travel on different partitions).
        #expect(try store.load(batch([("x-0", "a good band", .own(Array(#"{"id":"x-0","text":"a good band"}"#.utf8)), 5)]), consumerGroup: "g") == 1)
        #expect(try store.load(batch([("x-1", "a long flight", .inDocument, 9)]), consumerGroup: "g") == 1)
        let first = batch([("x-0", "a good band", .document(document), 9)])
        #expect(try store.load(first, consumerGroup: "g") == 0)
        #expect(try store.load(first, consumerGroup: "g") == 0, "delivered again")
        let kept = try writer.execute("""
            SELECT (SELECT count(*) FROM raw_documents) AS documents,
                   (SELECT payload_text FROM raw_documents WHERE source_offset = 9) AS payload,
                   (SELECT count(*) FROM raw_tweets) AS rows,
                   (SELECT count(*) FROM raw_tweets WHERE tweet_id = 'x-1' AND payload_text IS NULL AND payload IS NULL AND source_offset = 9) AS pointing
            """)
        #expect(kept[0, "documents"] == "1")
        #expect(kept[0, "payload"] == String(decoding: document, as: UTF8.self))
        #expect(kept[0, "rows"] == "2")
        #expect(kept[0, "pointing"] == "1")

        // The database refuses a document's first tweet: the batch goes row by row, and the
        // document is still kept for the second, which loads.
        try writer.execute("ALTER TABLE tweets ADD CONSTRAINT it_refuse CHECK (id <> 'y-0')")
        let refused = batch([("y-0", "a good band", .document(Array(#"{"id": "y", "tweets": ["a good band", "a long flight"]}"#.utf8)), 12),
                             ("y-1", "a long flight", .inDocument, 12)])
        #expect { try store.load(refused, consumerGroup: "g") } throws: { ($0 as? PostgresError)?.sqlState == "23514" }
        let rows = try store.loadRowByRow(refused, consumerGroup: "g")
        #expect(rows.inserted == 1)
        #expect(rows.refused.map(\.id) == ["y-0"])
        #expect(try writer.execute("SELECT count(*) AS n FROM raw_documents WHERE source_offset = 12")[0, "n"] == "1")

        // Recompute finds a document by one lookup per row, never by reading the table.
        try writer.execute("ANALYZE raw_documents")
        let plan = try writer.execute("EXPLAIN " + RecomputeBatch.selectRaw, [at.iso8601, "0", "", "500"]).rows.compactMap { $0[0] }.joined(separator: "\n")
        #expect(plan.contains("Nested Loop Left Join") && !plan.contains("Hash") && !plan.contains("Merge"), "\(plan)")

        // New rules: every tweet re-derived, x-1 and y-1 from their documents.
        let table = CategoryTable([.init(name: "bands", keywords: ["band"]), .init(name: "flights", keywords: ["flight"])])
        let result = try store.recompute(since: at, enricher: Enricher(table: table), batchSize: 100)
        #expect(result.read == 3)
        #expect(result.undecodable.isEmpty, "\(result.undecodable)")
        let categories = try writer.execute("SELECT string_agg(id || '=' || array_to_string(categories, ','), ' ' ORDER BY id) AS c FROM tweets")
        #expect(categories[0, "c"] == "x-0=bands x-1=flights y-1=flights")
        #expect(try store.checkRollups().allSatisfy { $0.mismatches == 0 })
    }

    /// The loader's half-way loads: a batch in flight while the connection takes nothing else, a
    /// look at whether the server is done that does not wait, an error in what was sent rolls it back and leaves the connection usable, a batch loaded again
    /// adds nothing.
    @Test func loadsInFlightCommitOrRollBackWhole() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let connection = try PostgresConnection(stack.ownerURL)
        try connection.send("SELECT 1 AS x; SELECT 1 / 0; SELECT 2 AS y")
        #expect(connection.state == .awaitingResults)
        #expect { try connection.awaitResults() } throws: { ($0 as? PostgresError)?.sqlState == "22012" }
        #expect(connection.state == .idle)
        #expect(try connection.execute("SELECT 3 AS z")[0, "z"] == "3")
        // Whether the server is done, without waiting: not while it sleeps, then yes.
        try connection.send("SELECT pg_sleep(0.4); SELECT 4 AS w")
        #expect(!connection.hasResults())
        let deadline = ContinuousClock.now + .seconds(10)
        while !connection.hasResults(), ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(connection.hasResults())
        #expect(try connection.awaitResults().last?[0, "w"] == "4")

        let store = try AnalyticsStore(url: stack.postgresURL)
        let enricher = Enricher()
        var batch = TweetBatch()
        for (offset, text) in ["first #one", "second #one #two"].enumerated() {
            let tweet = Tweet(id: "t\(offset)", createdAt: Timestamp(parsing: "2024-05-01T10:00:00Z"), text: text, format: .minimal)
            batch.append(enricher.enrich(tweet, fallbackTime: Timestamp(millisecondsSinceEpoch: 0)),
                         provenance: LoadProvenance(topic: "e", partition: 0, offset: Int64(offset), publishedAt: nil))
        }
        #expect(store.isFree)
        try store.beginLoad(batch, consumerGroup: "g")
        #expect(store.isLoading)
        let reader = try PostgresConnection(stack.ownerURL)
        #expect(try reader.tweetCount() <= 2)
        #expect(try store.finishLoad() == 2)
        #expect(!store.isLoading)
        #expect(store.isFree)
        #expect(try store.load(batch, consumerGroup: "g") == 0, "loaded again: nothing new")
        let counts = try reader.execute("SELECT string_agg(tag_key || '=' || count, ',' ORDER BY tag_key) AS c FROM hashtag_counts_hourly")
        #expect(counts[0, "c"] == "one=2,two=1")
        #expect(try store.storedOffsets(consumerGroup: "g").map(\.offset) == [2])

        // A statement that fails after the COPY: nothing of the batch stays, offsets included.
        try connection.execute("ALTER TABLE tweet_hashtags ADD CONSTRAINT no_three CHECK (tag_key <> 'three')")
        var refused = TweetBatch()
        let tweet = Tweet(id: "t9", createdAt: Timestamp(parsing: "2024-05-01T10:00:00Z"), text: "bad #three", format: .minimal)
        refused.append(enricher.enrich(tweet, fallbackTime: Timestamp(millisecondsSinceEpoch: 0)),
                       provenance: LoadProvenance(topic: "e", partition: 0, offset: 9, publishedAt: nil))
        try store.beginLoad(refused, consumerGroup: "g")
        #expect { try store.finishLoad() } throws: { ($0 as? PostgresError)?.sqlState == "23514" }
        #expect(try reader.tweetCount() == 2)
        #expect(try store.storedOffsets(consumerGroup: "g").map(\.offset) == [2])
        #expect(try store.load(batch, consumerGroup: "g") == 0, "the store's connection is usable again")
    }
}
