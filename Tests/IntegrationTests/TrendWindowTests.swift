import ChirpCore
import ChirpPostgres
import ChirpStore
import Foundation
import Testing

/// The top hashtags of any window, from the rollups plus at most two partial minutes of facts
/// counted for the tags that can still make the top, equal a count of the facts alone: over
/// hundreds of random windows (millisecond ends, from a second to three hours) and limits, on
/// skewed tags with bursts straddling minute boundaries, where the edges decide the ranking.
/// And the per-minute rollup the database keeps follows inserts, deletes and updates.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct TrendWindowTests {
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
        try database.execute("""
            INSERT INTO hashtag_counts_hourly (hour, tag_key, tag, count)
            SELECT date_trunc('hour', created_at), tag_key, min(tag), count(*) FROM tweet_hashtags GROUP BY 1, 2
            """)
        try database.execute("ANALYZE tweet_hashtags, hashtag_counts_minutely, hashtag_counts_hourly")

        let base: Int64 = 1_767_261_600_000  // 2026-01-01T10:00:00Z
        var random = SplitMix64(seed: 7)
        var compared = 0, decidedAtTheEdges = 0
        for round in 0..<150 {
            let length = [1_000, 59_999, 61_500, 3_600_000, 3_600_000 + 45_250, 10_800_000][round % 6] - Int64(random.next() % 700)
            let from = base - 120_000 + Int64(random.next() % UInt64(10_800_000 + 240_000 - max(length, 1)))
            let window = TimeWindow(from: Timestamp(millisecondsSinceEpoch: from), to: Timestamp(millisecondsSinceEpoch: from + length))
            for limit in [1, 3, 10, 1000] {
                let query = TrendQueries.topHashtags(window, limit: limit)
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
        let check = try #require(RollupCheck.statements.first { $0.rollup == "hashtag_counts_minutely" })
        #expect(try database.execute(check.sql)[0, "mismatches"] == "0")
        #expect(try database.execute("SELECT count(*) AS n FROM hashtag_counts_minutely WHERE tag_key = 'burst4' OR count <= 0")[0, "n"] == "0")
        try database.execute("TRUNCATE tweet_hashtags")
        #expect(try database.execute("SELECT count(*) AS n FROM hashtag_counts_minutely")[0, "n"] == "0")
        // One TRUNCATE of both, as a reset of the whole store names them.
        try database.execute("""
            INSERT INTO tweet_hashtags (tweet_id, position, tag_key, tag, created_at)
            VALUES ('z2', 1, 'again', '#again', timestamptz '2026-01-01 00:00:00+00')
            """)
        try database.execute("TRUNCATE tweet_hashtags, hashtag_counts_minutely")
        #expect(try database.execute("SELECT count(*) AS n FROM hashtag_counts_minutely")[0, "n"] == "0")
    }
}
