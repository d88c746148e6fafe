import ChirpCore

/// A statement and its parameters (text, as libpq sends them).
public struct Query: Sendable, Equatable {
    public var sql: String
    public var parameters: [String?]

    public init(sql: String, parameters: [String?]) {
        self.sql = sql
        self.parameters = parameters
    }
}

/// The read side: SQL for the questions the `chirp` CLI and the dashboards ask. Pure: builds
/// statements, never runs them. Time columns come back as milliseconds since the epoch.
public enum TrendQueries {
    static let hourMs: Int64 = 3_600_000

    /// How a window is answered from the hourly rollup plus the exact rows at its ragged ends:
    /// the whole hours inside `[from, to)` come from `hashtag_counts_hourly`, the partial hours at
    /// either end from `tweet_hashtags` (indexed by time), so a sliding "last hour" is exact.
    public struct HashtagPlan: Sendable, Equatable {
        /// Whole hours answered by the rollup (empty when the window holds none).
        public var rollup: TimeWindow?
        /// Partial hours answered by the facts (zero, one or two pieces).
        public var edges: [TimeWindow]
    }

    public static func plan(_ window: TimeWindow) -> HashtagPlan {
        let from = window.from.millisecondsSinceEpoch, to = window.to.millisecondsSinceEpoch
        let firstWhole = ceilDiv(from, hourMs) * hourMs
        let lastWhole = floorDiv(to, hourMs) * hourMs
        guard firstWhole < lastWhole else { return HashtagPlan(rollup: nil, edges: from < to ? [window] : []) }
        var edges: [TimeWindow] = []
        if from < firstWhole { edges.append(TimeWindow(from: window.from, to: Timestamp(millisecondsSinceEpoch: firstWhole))) }
        if lastWhole < to { edges.append(TimeWindow(from: Timestamp(millisecondsSinceEpoch: lastWhole), to: window.to)) }
        return HashtagPlan(rollup: TimeWindow(from: Timestamp(millisecondsSinceEpoch: firstWhole), to: Timestamp(millisecondsSinceEpoch: lastWhole)), edges: edges)
    }

    /// Top `limit` hashtags in the window: columns `tag`, `tag_key`, `count`, most frequent first
    /// (ties by key). Counts are occurrences (a tweet with a tag twice counts it twice).
    public static func topHashtags(_ window: TimeWindow, limit: Int) -> Query {
        let plan = plan(window)
        let rollup = plan.rollup.map { [$0.from.iso8601, $0.to.iso8601] } ?? [epoch, epoch]
        var edges: [String?] = []
        for index in 0..<2 {
            if index < plan.edges.count { edges += [plan.edges[index].from.iso8601, plan.edges[index].to.iso8601] }
            else { edges += [epoch, epoch] }
        }
        return Query(sql: """
            WITH counts AS (
                SELECT tag_key, min(tag) AS tag, sum(count)::bigint AS n FROM hashtag_counts_hourly
                WHERE hour >= $1::timestamptz AND hour < $2::timestamptz GROUP BY tag_key
                UNION ALL
                SELECT tag_key, min(tag), count(*) FROM tweet_hashtags
                WHERE (created_at >= $3::timestamptz AND created_at < $4::timestamptz)
                   OR (created_at >= $5::timestamptz AND created_at < $6::timestamptz)
                GROUP BY tag_key
            )
            SELECT min(tag) AS tag, tag_key, sum(n)::bigint AS count FROM counts
            GROUP BY tag_key ORDER BY count DESC, tag_key LIMIT $7::integer
            """, parameters: rollup + edges + [String(limit)])
    }

    /// Per clock hour overlapping the window (UTC hours), the top `limit` hashtags: columns
    /// `hour_ms`, `rank`, `tag`, `tag_key`, `count`, `hour_total`.
    public static func hourlyTopHashtags(_ window: TimeWindow, limit: Int) -> Query {
        let from = floorDiv(window.from.millisecondsSinceEpoch, hourMs) * hourMs
        return Query(sql: """
            SELECT (extract(epoch FROM hour) * 1000)::bigint AS hour_ms, rank, tag, tag_key, count, hour_total FROM (
                SELECT hour, tag, tag_key, count,
                       row_number() OVER (PARTITION BY hour ORDER BY count DESC, tag_key) AS rank,
                       sum(count) OVER (PARTITION BY hour)::bigint AS hour_total
                FROM hashtag_counts_hourly WHERE hour >= $1::timestamptz AND hour < $2::timestamptz
            ) ranked WHERE rank <= $3::integer ORDER BY hour, rank
            """, parameters: [Timestamp(millisecondsSinceEpoch: from).iso8601, window.to.iso8601, String(limit)])
    }

    public enum Bucket: String, Sendable, CaseIterable {
        case minute, hour
        var milliseconds: Int64 { self == .minute ? 60_000 : 3_600_000 }
    }

    /// Tweets per category per bucket in the window (whole minutes: the minute `from` falls in
    /// counts fully): columns `bucket_ms`, `category`, `count`.
    public static func categories(_ window: TimeWindow, by bucket: Bucket) -> Query {
        let from = floorDiv(window.from.millisecondsSinceEpoch, 60_000) * 60_000
        return Query(sql: """
            SELECT (extract(epoch FROM date_trunc('\(bucket.rawValue)', minute)) * 1000)::bigint AS bucket_ms,
                   category, sum(count)::bigint AS count
            FROM category_counts_minutely WHERE minute >= $1::timestamptz AND minute < $2::timestamptz
            GROUP BY 1, 2 ORDER BY 1, 2
            """, parameters: [Timestamp(millisecondsSinceEpoch: from).iso8601, window.to.iso8601])
    }

    /// Tweets per language in the whole hours overlapping the window: columns `lang`, `count`.
    public static func languages(_ window: TimeWindow) -> Query {
        let from = floorDiv(window.from.millisecondsSinceEpoch, hourMs) * hourMs
        return Query(sql: """
            SELECT lang, sum(count)::bigint AS count FROM language_counts_hourly
            WHERE hour >= $1::timestamptz AND hour < $2::timestamptz
            GROUP BY lang ORDER BY count DESC, lang
            """, parameters: [Timestamp(millisecondsSinceEpoch: from).iso8601, window.to.iso8601])
    }

    /// Totals over the whole hours overlapping the window, from the rollups, and the store's
    /// extent from the facts: columns `tweets`, `hashtags`, `distinct_hashtags`, `first_ms`,
    /// `last_ms`, `loaded_ms`.
    public static func totals(_ window: TimeWindow) -> Query {
        let from = floorDiv(window.from.millisecondsSinceEpoch, hourMs) * hourMs
        return Query(sql: """
            SELECT (SELECT coalesce(sum(count), 0)::bigint FROM language_counts_hourly WHERE hour >= $1::timestamptz AND hour < $2::timestamptz) AS tweets,
                   (SELECT coalesce(sum(count), 0)::bigint FROM hashtag_counts_hourly WHERE hour >= $1::timestamptz AND hour < $2::timestamptz) AS hashtags,
                   (SELECT count(DISTINCT tag_key) FROM hashtag_counts_hourly WHERE hour >= $1::timestamptz AND hour < $2::timestamptz) AS distinct_hashtags,
                   (SELECT (extract(epoch FROM min(created_at)) * 1000)::bigint FROM tweets) AS first_ms,
                   (SELECT (extract(epoch FROM max(created_at)) * 1000)::bigint FROM tweets) AS last_ms,
                   (SELECT (extract(epoch FROM max(loaded_at)) * 1000)::bigint FROM tweets) AS loaded_ms
            """, parameters: [Timestamp(millisecondsSinceEpoch: from).iso8601, window.to.iso8601])
    }

    /// The next tweets loaded after a position (`loaded_at` in microseconds since the epoch, id),
    /// oldest first. Rows loaded in the last second are left for the next call, so a transaction
    /// that commits a little after a concurrent one is not skipped. Columns `loaded_us`, `id`,
    /// `created_ms`, `lang`, `author`, `categories`, `hashtags`, `text`.
    public static func tail(afterMicroseconds: Int64, afterId: String, limit: Int) -> Query {
        Query(sql: """
            SELECT (extract(epoch FROM loaded_at) * 1000000)::bigint AS loaded_us, id,
                   (extract(epoch FROM created_at) * 1000)::bigint AS created_ms, lang, author,
                   array_to_string(categories, ',') AS categories, array_to_string(hashtags, ',') AS hashtags, text
            FROM tweets
            WHERE (loaded_at, id) > (timestamptz 'epoch' + $1::bigint * interval '1 microsecond', $2::text)
              AND loaded_at < clock_timestamp() - interval '1 second'
            ORDER BY loaded_at, id LIMIT $3::integer
            """, parameters: [String(afterMicroseconds), afterId, String(limit)])
    }

    /// The newest event time and load time in the store (for "the window is empty" hints).
    public static let extent = """
        SELECT (extract(epoch FROM min(created_at)) * 1000)::bigint AS first_ms,
               (extract(epoch FROM max(created_at)) * 1000)::bigint AS last_ms
        FROM tweets
        """

    static let epoch = "1970-01-01T00:00:00Z"

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    static func ceilDiv(_ a: Int64, _ b: Int64) -> Int64 { -floorDiv(-a, b) }
}
