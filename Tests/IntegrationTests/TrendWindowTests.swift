import ChirpCore
import ChirpPostgres
import ChirpStore
import Foundation
import Testing

/// The top hashtags of any window, from the rollups plus at most two partial 10-second slots of
/// facts counted for the tags that can still make the top, equal a count of the facts alone:
/// over hundreds of random windows (millisecond ends, from a second to three hours) and limits,
/// on skewed tags with bursts straddling minute and slot boundaries, where the edges decide the
/// ranking. And the per-minute and per-slot rollups the database keeps follow inserts, deletes
/// and updates, and the dashboard's sliding-hour datasets, which read them, equal the facts.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct TrendWindowTests {
    /// The hourly rollup from the facts, as the loader keeps it (the tests write facts directly).
    static func fillHourlyRollup(_ database: PostgresConnection) throws {
        try database.execute("""
            INSERT INTO hashtag_counts_hourly (hour, tag_key, tag, count)
            SELECT date_bin('1 hour', created_at, timestamptz 'epoch'), tag_key, min(tag), count(*) FROM tweet_hashtags GROUP BY 1, 2
            """)
    }

    /// Whether a top-hashtags statement ran its whole count (the `whole` CTE), from its plan: not
    /// when the hours' lists decided.
    static func wholeCountRan(_ connection: PostgresConnection, _ sql: String, _ parameters: [String?]) throws -> Bool {
        let lines = try connection.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, parameters).rows.compactMap { $0.first ?? nil }
        let cte = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "CTE whole" })
        return !lines[cte + 1].contains("never executed")
    }

    @Test func topHashtagsEqualTheFactsForAnyWindow() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let database = try PostgresConnection(stack.ownerURL)
        try database.execute("SELECT setseed(0.42)")
        // 40 000 occurrences of 40 tags over three hours, the low-numbered ones most frequent.
        try database.execute("""
            INSERT INTO tweet_hashtags (tweet_id, position, tag_key, tag, created_at)
            SELECT 'r' || g, 1, k, '#' || upper(k), timestamptz '2026-01-01 10:00:00+00' + random() * interval '3 hours'
            FROM (SELECT g, 't' || lpad(floor(40 * power(random(), 2))::int::text, 2, '0') AS k FROM generate_series(1, 40000) g) drawn
            """)
        #expect(try database.execute("SELECT count(DISTINCT tag_key) AS n FROM tweet_hashtags")[0, "n"] == "40")
        // Bursts of rare tags a few seconds either side of minute boundaries: within a window's
        // partial minute they overtake the regulars, just outside it they must not count.
        try database.execute("""
            INSERT INTO tweet_hashtags (tweet_id, position, tag_key, tag, created_at)
            SELECT 'b' || m || '-' || g, 1, 'burst' || (m % 7), '#Burst' || (m % 7),
                   timestamptz '2026-01-01 10:00:00+00' + m * interval '1 minute' + (random() * 8 - 4) * interval '1 second'
            FROM generate_series(1, 180, 3) m, generate_series(1, 400) g
            """)
        // And a few seconds either side of slot boundaries inside minutes.
        try database.execute("""
            INSERT INTO tweet_hashtags (tweet_id, position, tag_key, tag, created_at)
            SELECT 's' || m || '-' || g, 1, 'slot' || (m % 5), '#Slot' || (m % 5),
                   timestamptz '2026-01-01 10:00:00+00' + m * interval '1 minute' + (10 * (1 + m % 5) + random() * 6 - 3) * interval '1 second'
            FROM generate_series(2, 180, 3) m, generate_series(1, 300) g
            """)
        try Self.fillHourlyRollup(database)
        try database.execute("ANALYZE tweet_hashtags, hashtag_counts_minutely, hashtag_counts_10s, hashtag_counts_hourly")

        let base: Int64 = 1_767_261_600_000  // 2026-01-01T10:00:00Z
        var random = SplitMix64(seed: 7)
        var compared = 0, decidedAtTheEdges = 0
        for round in 0..<150 {
            let length = [1_000, 59_999, 61_500, 3_600_000, 3_600_000 + 45_250, 10_800_000][round % 6] - Int64(random.next() % 700)
            let from = base - 120_000 + Int64(random.next() % UInt64(10_800_000 + 240_000 - max(length, 1)))
            let window = TimeWindow(from: Timestamp(millisecondsSinceEpoch: from), to: Timestamp(millisecondsSinceEpoch: from + length))
            // Lists of each hour's top 30 (the default), 3 or 1 tags: the shorter, the more often
            // the lists cannot decide and the whole count answers; lists of 60 hold all of an
            // hour's 52 tags, and always decide (a limit above the depth skips the lists).
            let depth = [TrendQueries.listDepth, 3, 1, 60][(round / 6) % 4]
            for limit in [1, 3, 10, 1000] {
                let query = TrendQueries.topHashtags(window, limit: limit, depth: depth)
                let planned = try database.execute(query.sql, query.parameters)
                let facts = try database.execute("""
                    SELECT tag_key, count(*)::bigint AS count FROM tweet_hashtags
                    WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz
                    GROUP BY tag_key ORDER BY count DESC, tag_key LIMIT $3::integer
                    """, [window.from.iso8601, window.to.iso8601, String(limit)])
                let got = (0..<planned.rows.count).map { "\(planned[$0, "tag_key"] ?? "?")=\(planned[$0, "count"] ?? "?")" }
                let want = (0..<facts.rows.count).map { "\(facts[$0, "tag_key"] ?? "?")=\(facts[$0, "count"] ?? "?")" }
                #expect(got == want, "window \(window.from.iso8601) – \(window.to.iso8601), top \(limit)")
                compared += 1
                if limit == 10, want.contains(where: { $0.hasPrefix("burst") }) { decidedAtTheEdges += 1 }
            }
        }
        #expect(compared == 600)
        #expect(decidedAtTheEdges > 10, "the windows hardly exercised the edges (\(decidedAtTheEdges))")

        // Which way a window is answered: three hours' top 10 is decided by the hours' lists and
        // the whole count never runs; a second's top 10 is not (its tenth count is far below
        // what an unlisted tag may have over the hour), nor is a top 10 from lists of one tag
        // (the lists are skipped); lists holding every tag of their hours decide even a second.
        func wholeCountRan(_ from: Int64, _ to: Int64, depth: Int = TrendQueries.listDepth) throws -> Bool {
            let query = TrendQueries.topHashtags(TimeWindow(from: Timestamp(millisecondsSinceEpoch: base + from), to: Timestamp(millisecondsSinceEpoch: base + to)),
                                                 limit: 10, depth: depth)
            return try Self.wholeCountRan(database, query.sql, query.parameters)
        }
        #expect(try !wholeCountRan(0, 10_800_000))
        #expect(try !wholeCountRan(1_234, 3_601_234))
        #expect(try wholeCountRan(61_000, 62_000))
        #expect(try wholeCountRan(0, 10_800_000, depth: 1))
        #expect(try !wholeCountRan(61_000, 62_000, depth: 60))

        // The per-minute rollup follows every change to the facts, whoever makes it.
        try database.execute("DELETE FROM tweet_hashtags WHERE tag_key = 't05' AND created_at < timestamptz '2026-01-01 11:30:00+00'")
        try database.execute("UPDATE tweet_hashtags SET created_at = created_at + interval '90 seconds' WHERE tag_key = 'burst3'")
        try database.execute("DELETE FROM tweet_hashtags WHERE tag_key = 'burst4'")
        // A writer whose session is in a zone whose offset is not whole minutes (Monrovia was
        // 44 min 30 s behind UTC until 1972) still fills UTC minutes.
        try database.execute("SET TimeZone = 'Africa/Monrovia'")
        try database.execute("""
            INSERT INTO tweet_hashtags (tweet_id, position, tag_key, tag, created_at)
            VALUES ('z1', 1, 'zoned', '#zoned', timestamptz '1971-06-01 11:59:50+00')
            """)
        try database.execute("SET TimeZone = 'UTC'")
        // Before the epoch, slots still start at whole multiples of 10 s (as TrendQueries floors).
        try database.execute("""
            INSERT INTO tweet_hashtags (tweet_id, position, tag_key, tag, created_at)
            VALUES ('z0', 1, 'early', '#early', timestamptz '1969-12-31 23:59:55.5+00')
            """)
        #expect(try database.execute("SELECT slot::text FROM hashtag_counts_10s WHERE tag_key = 'early'")[0, "slot"] == "1969-12-31 23:59:50+00")
        for rollup in ["hashtag_counts_minutely", "hashtag_counts_10s"] {
            let check = try #require(RollupCheck.statements.first { $0.rollup == rollup })
            #expect(try database.execute(check.sql)[0, "mismatches"] == "0", "\(rollup)")
            #expect(try database.execute("SELECT count(*) AS n FROM \(rollup) WHERE tag_key = 'burst4' OR count <= 0")[0, "n"] == "0", "\(rollup)")
        }
        #expect(try database.execute("SELECT count(*) AS n FROM hashtag_counts_10s WHERE slot = timestamptz '1971-06-01 11:59:50+00'")[0, "n"] == "1")
        try database.execute("TRUNCATE tweet_hashtags")
        #expect(try database.execute("SELECT (SELECT count(*) FROM hashtag_counts_minutely) + (SELECT count(*) FROM hashtag_counts_10s) AS n")[0, "n"] == "0")
        // One TRUNCATE of both, as a reset of the whole store names them.
        try database.execute("""
            INSERT INTO tweet_hashtags (tweet_id, position, tag_key, tag, created_at)
            VALUES ('z2', 1, 'again', '#again', timestamptz '2026-01-01 00:00:00+00')
            """)
        try database.execute("TRUNCATE tweet_hashtags, hashtag_counts_minutely, hashtag_counts_10s")
        #expect(try database.execute("SELECT (SELECT count(*) FROM hashtag_counts_minutely) + (SELECT count(*) FROM hashtag_counts_10s) AS n")[0, "n"] == "0")
    }

    /// The dashboard's sliding-hour datasets read whole minutes and slots from rollups and only
    /// the rest from the facts: their answers equal the facts-only count at any moment (`now()`
    /// set to instants with microseconds, on minute and 10-second boundaries, and past the data).
    /// And the tweets-per-minute rollup the database keeps follows every change to `tweets`.
    @Test func dashboardDatasetsEqualTheFactsAtAnyMoment() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let database = try PostgresConnection(stack.ownerURL)
        try database.execute("SELECT setseed(0.17)")
        // 12 000 tweets over three hours, a third of them within four seconds of a minute
        // boundary; up to three hashtags each from skewed tags, one tag in two display forms.
        try database.execute("""
            INSERT INTO tweets (id, created_at, text, lang, is_retweet, format, categories, hashtags, mentions, hashtag_rules, category_rules)
            SELECT 'd' || g,
                   CASE WHEN g % 3 = 0
                        THEN timestamptz '2026-01-01 10:00:00+00' + floor(random() * 180) * interval '1 minute' + (random() * 8 - 4) * interval '1 second'
                        ELSE timestamptz '2026-01-01 10:00:00+00' + random() * interval '3 hours' END,
                   'text', CASE WHEN g % 5 = 0 THEN 'fr' ELSE 'en' END, false, 'v2', '{}', '{}', '{}', 'r', 'r'
            FROM generate_series(1, 12000) g
            """)
        try database.execute("""
            INSERT INTO tweet_hashtags (tweet_id, position, tag_key, tag, created_at)
            SELECT id, p, k, CASE WHEN k = 'tag03' AND p = 2 THEN '#TAG03' ELSE '#' || k END, created_at FROM (
                SELECT t.id, p, t.created_at, 'tag' || lpad(floor(30 * power(random(), 2))::int::text, 2, '0') AS k
                FROM tweets t, generate_series(1, 1 + (hashtext(t.id) & 3) % 3) p
            ) drawn
            """)
        // Tweets on minute and slot boundaries and a microsecond either side, each with its own tag.
        try database.execute("""
            INSERT INTO tweets (id, created_at, text, lang, is_retweet, format, categories, hashtags, mentions, hashtag_rules, category_rules)
            SELECT 'e' || m || '/' || s || '/' || d,
                   timestamptz '2026-01-01 10:00:00+00' + m * interval '1 minute' + s * interval '1 second' + d * interval '1 microsecond',
                   'text', 'en', false, 'v2', '{}', '{}', '{}', 'r', 'r'
            FROM generate_series(1, 179, 2) m, unnest(ARRAY[0, 20, 50]) s, generate_series(-1, 1) d
            """)
        try database.execute("""
            INSERT INTO tweet_hashtags (tweet_id, position, tag_key, tag, created_at)
            SELECT id, 1, 'at' || replace(substr(id, 2), '/', '_'), '#at', created_at FROM tweets WHERE id LIKE 'e%'
            """)
        // A tag only seen a few seconds either side of one minute boundary: a window's edge may
        // hold it while its whole minutes do not, or its edge minute hold it outside the edge.
        try database.execute("""
            INSERT INTO tweet_hashtags (tweet_id, position, tag_key, tag, created_at)
            SELECT id, 9, 'rare' || extract(epoch FROM date_trunc('minute', created_at + interval '5 seconds'))::bigint,
                   '#rare', created_at
            FROM tweets WHERE id ~ '^d.*[05]$' AND abs(extract(second FROM created_at + interval '30 seconds') - 30) < 4
            """)
        // The hourly rollup, as the loader keeps it (the top 10 reads each hour's most used tags first).
        try Self.fillHourlyRollup(database)
        try database.execute("ANALYZE tweets, tweet_hashtags, tweet_counts_minutely, hashtag_counts_minutely, hashtag_counts_10s, hashtag_counts_hourly")

        let datasets = Paths.repository.appendingPathComponent("deploy/superset/dashboard/datasets/Chirpstream")
        func datasetSQL(_ name: String) throws -> String {
            let yaml = try String(contentsOf: datasets.appendingPathComponent("\(name).yaml"), encoding: .utf8)
            let block = yaml.components(separatedBy: "\nsql: |\n")[1].components(separatedBy: "\ncolumns:")[0]
            #expect(block.contains("now()"))
            return block.replacingOccurrences(of: "now()", with: "$1::timestamptz")
        }
        let top = try datasetSQL("chirp_top_hashtags_last_hour"), totals = try datasetSQL("chirp_totals")
        // The top 10 with lists of each hour's 400 most used tags, which hold every tag of these
        // hours (the lists always decide, and the whole count never runs), and with lists of 2,
        // which hardly ever decide.
        #expect(top.components(separatedBy: "LIMIT 31)").count == 2 && top.components(separatedBy: "count(*) <= 30 ").count == 2)
        func withLists(_ depth: Int) -> String {
            top.replacingOccurrences(of: "LIMIT 31)", with: "LIMIT \(depth + 1))").replacingOccurrences(of: "count(*) <= 30 ", with: "count(*) <= \(depth) ")
        }
        let topFromLists = withLists(400), topFromShortLists = withLists(2)
        // Asked as Superset asks them: as chirp_reader (its grants and settings), here in a zone
        // whose offset is not whole hours.
        let reader = try PostgresConnection(stack.environment["CHIRP_POSTGRES_URL"]!)
        #expect(try reader.execute("SHOW jit")[0, "jit"] == "off")
        try reader.execute("SET TimeZone = 'Asia/Kathmandu'")
        #expect(try !Self.wholeCountRan(reader, topFromLists, ["2026-01-01 12:00:00.5+00"]))
        #expect(try Self.wholeCountRan(reader, topFromShortLists, ["2026-01-01 12:00:00.5+00"]))
        let topFromFacts = """
            SELECT '#' || min(tag) AS hashtag, tag_key, count(*) AS tweets FROM tweet_hashtags
            WHERE created_at >= $1::timestamptz - interval '1 hour' AND created_at < $1::timestamptz
            GROUP BY tag_key ORDER BY tweets DESC, tag_key LIMIT 10
            """
        let totalsFromFacts = """
            SELECT (SELECT count(*) FROM tweets) AS tweets_stored,
                   (SELECT count(*) FROM tweets WHERE created_at >= $1::timestamptz - interval '1 hour' AND created_at < $1::timestamptz) AS tweets_last_hour,
                   (SELECT count(DISTINCT tag_key) FROM tweet_hashtags
                     WHERE created_at >= $1::timestamptz - interval '1 hour' AND created_at < $1::timestamptz) AS hashtags_last_hour
            """
        func rows(_ result: PostgresRows) -> [String] { result.rows.map { $0.map { $0 ?? "null" }.joined(separator: "|") } }
        let base: Int64 = 1_767_261_600_000_000  // 2026-01-01T10:00:00Z in microseconds
        var random = SplitMix64(seed: 11)
        var moments: [Int64] = [base + 91 * 60_000_000, base + 121 * 60_000_000 + 1, base + 121 * 60_000_000 - 1, base + 123 * 60_000_000 + 2,
                                base + 125 * 60_000_000 + 20_000_000, base + 127 * 60_000_000 + 50_000_000 + 1, base + 129 * 60_000_000 + 20_000_000 - 1,
                                base + 131 * 60_000_000 + 5_000_000, base + 200 * 60_000_000 - 1, base + 250 * 60_000_000]
        for _ in 0..<120 { moments.append(base + 30 * 60_000_000 + Int64(random.next() % (180 * 60_000_000))) }
        var nonEmpty = 0
        for moment in moments {
            let now = "epoch + \(moment) microseconds"
            let at = try database.execute("SELECT (timestamptz 'epoch' + $1::bigint * interval '1 microsecond')::text AS at", [String(moment)])[0, "at"]
            let expected = rows(try database.execute(topFromFacts, [at]))
            #expect(rows(try reader.execute(top, [at])) == expected, "top at \(now)")
            #expect(rows(try reader.execute(topFromLists, [at])) == expected, "top from complete lists at \(now)")
            #expect(rows(try reader.execute(topFromShortLists, [at])) == expected, "top from lists of 2 at \(now)")
            let answer = try reader.execute(totals, [at])
            #expect(rows(answer) == rows(try database.execute(totalsFromFacts, [at])), "totals at \(now)")
            if answer[0, "tweets_last_hour"] != "0" { nonEmpty += 1 }
        }
        #expect(nonEmpty > 100)

        // The datasets of the last 24 hours start at a UTC hour whatever the session's zone (in
        // this one, rounding in the session's zone would start them at a quarter past, and leave
        // out the data's first hour).
        try database.execute("""
            INSERT INTO language_counts_hourly (hour, lang, count)
            SELECT date_trunc('hour', created_at), coalesce(lang, 'und'), count(*) FROM tweets GROUP BY 1, 2
            """)
        let dayLater = "2026-01-02 09:30:00+00"  // its last 24 hours start at 10:00 UTC, the data's first hour
        let languages = try datasetSQL("chirp_languages_24h"), byHour = try datasetSQL("chirp_hashtags_by_hour")
        let inDay = try reader.execute("SELECT * FROM (\(languages)) d ORDER BY lang", [dayLater])
        let fromFacts = try database.execute("""
            SELECT lang, count(*) AS tweets FROM tweets WHERE created_at >= timestamptz '2026-01-01 10:00:00+00' GROUP BY lang ORDER BY lang
            """)
        #expect(rows(inDay) == rows(fromFacts), "\(rows(inDay)) against \(rows(fromFacts))")
        #expect(try reader.execute("SELECT count(DISTINCT hour) AS n FROM (\(byHour)) d", [dayLater])[0, "n"] == "3")
        // Each hour's ten, as ranking every tag of the hour would give them.
        let byHourRanked = """
            SELECT hour, '#' || tag AS hashtag, count AS tweets FROM (
                SELECT hour, tag, count, row_number() OVER (PARTITION BY hour ORDER BY count DESC, tag_key) AS rank
                FROM hashtag_counts_hourly
                WHERE hour >= date_bin('1 hour', $1::timestamptz, timestamptz 'epoch') - interval '23 hours'
                  AND hour <= date_bin('1 hour', $1::timestamptz, timestamptz 'epoch')
            ) ranked WHERE rank <= 10
            """
        for at in [dayLater, "2026-01-01 12:30:00+00", "2026-01-01 11:00:00+00"] {
            let order = " ORDER BY hour, tweets DESC, hashtag"
            let answer = rows(try reader.execute("SELECT * FROM (\(byHour)) d" + order, [at]))
            let ranked = rows(try reader.execute("SELECT * FROM (\(byHourRanked)) d" + order, [at]))
            #expect(answer.count >= 10 && answer == ranked, "\(at)")
        }

        // The rollup follows deletes, updates that move tweets across minutes, inserts from a
        // session in a zone whose offset is not whole minutes, and truncation.
        try database.execute("DELETE FROM tweets WHERE id LIKE 'd1%' AND created_at < timestamptz '2026-01-01 11:30:00+00'")
        try database.execute("UPDATE tweets SET created_at = created_at + interval '50 seconds' WHERE id LIKE 'd2%'")
        try database.execute("UPDATE tweets SET text = 'same minute' WHERE id LIKE 'd3%'")
        try database.execute("SET TimeZone = 'Africa/Monrovia'")
        try database.execute("""
            INSERT INTO tweets (id, created_at, text, is_retweet, format, categories, hashtags, mentions, hashtag_rules, category_rules)
            VALUES ('z1', timestamptz '1971-06-01 11:59:50+00', 'zoned', false, 'v2', '{}', '{}', '{}', 'r', 'r')
            """)
        try database.execute("SET TimeZone = 'UTC'")
        let check = try #require(RollupCheck.statements.first { $0.rollup == "tweet_counts_minutely" })
        #expect(try database.execute(check.sql)[0, "mismatches"] == "0")
        #expect(try database.execute("SELECT count(*) AS n FROM tweet_counts_minutely WHERE count <= 0")[0, "n"] == "0")
        #expect(try database.execute("SELECT count FROM tweet_counts_minutely WHERE minute = timestamptz '1971-06-01 11:59:00+00'")[0, "count"] == "1")
        try database.execute("TRUNCATE tweets, tweet_hashtags, tweet_counts_minutely")
        #expect(try database.execute("SELECT count(*) AS n FROM tweet_counts_minutely")[0, "n"] == "0")
    }
}
