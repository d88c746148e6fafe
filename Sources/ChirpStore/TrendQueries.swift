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

    static let minuteMs: Int64 = 60_000

    static let slotMs: Int64 = 10_000

    /// How a window is answered exactly: its whole hours from `hashtag_counts_hourly`, the whole
    /// minutes of its partial hours from `hashtag_counts_minutely`, the whole 10-second slots of
    /// its partial minutes from `hashtag_counts_10s`, and only its partial slots (at most one at
    /// each end) from the facts, `tweet_hashtags`.
    public struct HashtagPlan: Sendable, Equatable {
        /// Whole hours (nil when the window holds none).
        public var hours: TimeWindow?
        /// Whole minutes outside the whole hours (zero, one or two pieces).
        public var minutes: [TimeWindow]
        /// What is left outside the whole minutes (zero, one or two pieces).
        public var edges: [TimeWindow]
        /// The whole minutes the edges fall in: what the edges could add at most, per tag, is
        /// their rollup rows' count.
        public var edgeMinutes: [TimeWindow]
        /// Slots read from `hashtag_counts_10s` (at most one run per edge): the edges' whole
        /// slots, and the whole slot of a partial one counted by its complement.
        public var slots: [TimeWindow]
        /// What is counted from the facts (zero, one or two pieces), each added or taken away: a
        /// partial slot longer than half its slot that touches one of the slot's ends is counted
        /// as the slot's rollup row (in `slots`) less the rest of the slot, so that no more than
        /// 5 seconds are read from the facts at either end of a window holding a whole slot.
        public var counted: [SignedPiece]
    }

    public struct SignedPiece: Sendable, Equatable {
        public var window: TimeWindow
        public var sign: Int
    }

    public static func plan(_ window: TimeWindow) -> HashtagPlan {
        let from = window.from.millisecondsSinceEpoch, to = window.to.millisecondsSinceEpoch
        var plan = HashtagPlan(hours: nil, minutes: [], edges: [], edgeMinutes: [], slots: [], counted: [])
        guard from < to else { return plan }
        let firstMinute = ceilDiv(from, minuteMs) * minuteMs, lastMinute = floorDiv(to, minuteMs) * minuteMs
        if firstMinute < lastMinute {
            if from < firstMinute { plan.edges.append(span(from, firstMinute)) }
            if lastMinute < to { plan.edges.append(span(lastMinute, to)) }
            let firstHour = ceilDiv(firstMinute, hourMs) * hourMs, lastHour = floorDiv(lastMinute, hourMs) * hourMs
            if firstHour < lastHour {
                plan.hours = span(firstHour, lastHour)
                if firstMinute < firstHour { plan.minutes.append(span(firstMinute, firstHour)) }
                if lastHour < lastMinute { plan.minutes.append(span(lastHour, lastMinute)) }
            } else {
                plan.minutes = [span(firstMinute, lastMinute)]
            }
        } else {
            plan.edges = [window]
        }
        plan.edgeMinutes = plan.edges.map { around($0, minuteMs) }
        for edge in plan.edges {
            let (slots, counted) = slotsAndFacts(edge)
            if let slots { plan.slots.append(slots) }
            plan.counted += counted
        }
        return plan
    }

    /// One edge as a run of whole slots and the facts around it; a partial slot that is more
    /// than half its slot and touches one of its ends is taken as the whole slot (added to the
    /// run, which it adjoins) less the rest. An edge that holds no whole slot but crosses a slot
    /// boundary is two partial slots, one each side of it.
    static func slotsAndFacts(_ edge: TimeWindow) -> (TimeWindow?, [SignedPiece]) {
        let from = edge.from.millisecondsSinceEpoch, to = edge.to.millisecondsSinceEpoch
        let firstSlot = ceilDiv(from, slotMs) * slotMs, lastSlot = floorDiv(to, slotMs) * slotMs
        let partial = firstSlot <= lastSlot ? [span(from, firstSlot), span(lastSlot, to)].filter { $0.from < $0.to } : [edge]
        var low = firstSlot < lastSlot ? firstSlot : Int64.max, high = firstSlot < lastSlot ? lastSlot : Int64.min
        var counted: [SignedPiece] = []
        for piece in partial {
            let slot = around(piece, slotMs)
            let pieceMs = piece.to.millisecondsSinceEpoch - piece.from.millisecondsSinceEpoch
            let slotFrom = slot.from.millisecondsSinceEpoch, slotTo = slot.to.millisecondsSinceEpoch
            guard slotTo - slotFrom == slotMs, 2 * pieceMs > slotMs, (piece.from == slot.from) != (piece.to == slot.to) else {
                counted.append(SignedPiece(window: piece, sign: 1))
                continue
            }
            let rest = piece.from == slot.from ? span(piece.to.millisecondsSinceEpoch, slotTo) : span(slotFrom, piece.from.millisecondsSinceEpoch)
            counted.append(SignedPiece(window: rest, sign: -1))
            low = min(low, slotFrom)
            high = max(high, slotTo)
        }
        return (low < high ? span(low, high) : nil, counted)
    }

    static func span(_ a: Int64, _ b: Int64) -> TimeWindow {
        TimeWindow(from: Timestamp(millisecondsSinceEpoch: a), to: Timestamp(millisecondsSinceEpoch: b))
    }

    /// The smallest run of whole `unit`s holding `window`.
    static func around(_ window: TimeWindow, _ unit: Int64) -> TimeWindow {
        span(floorDiv(window.from.millisecondsSinceEpoch, unit) * unit, ceilDiv(window.to.millisecondsSinceEpoch, unit) * unit)
    }

    /// How many of each touched hour's most used tags `topHashtags` reads first: enough that
    /// on a skewed stream the limit-th count in a window beats what any unlisted tag can have
    /// (the sum over the hours of their last listed counts), few enough to cost a few thousand
    /// index lookups.
    public static let listDepth = 30

    /// Windows touching more clock hours than this are counted whole without the lists: the
    /// lists' lookups grow with the hours times the listed tags, where reading the whole hours'
    /// rollup rows grows with the rows that exist (a long window over a sparse store).
    public static let listedHoursAtMost = 8 * 24

    /// Top `limit` hashtags in the window: columns `tag`, `tag_key`, `count`, most frequent first
    /// (ties by key). Counts are occurrences (a tweet with a tag twice counts it twice), exact for
    /// any window; a tag is shown in a display form its rollup rows recorded (the smallest among
    /// them; each row keeps the form of the first batch that made it).
    ///
    /// First from the hours' lists: the `depth` most used tags of every clock hour the window
    /// touches (`hashtag_counts_hourly` by hour and count; one more is read, to know whether the
    /// hour holds more). A tag in none of the lists has, in each hour, at most that hour's last
    /// listed count (nothing, when the list holds the whole hour), so at most their sum `u` in
    /// the window. Every listed tag is counted exactly, by lookups of its rows in the plan's
    /// pieces; when the limit-th of those counts is above `u` (or `u` is 0), no other tag can
    /// make the top and that is the answer, at a cost that grows with the hours and the listed
    /// tags, not with how many distinct tags the window holds. The bound takes the hourly rollup
    /// to equal the facts, as the loader and recompute keep it (`chirp verify` checks it). A
    /// window touching more than `listedHoursAtMost` hours, or a limit above `depth`, skips the
    /// lists.
    ///
    /// Otherwise (a flat distribution, or a window too short to beat `u`), the whole count: the
    /// partial minutes are counted only for the tags that can still make the top: with `t` the
    /// limit-th largest count over the whole hours and minutes, a tag whose whole count plus
    /// everything in its edge minutes stays below `t` cannot, since `limit` tags already reach
    /// `t`. That reads every rollup row of the window's whole minutes, the slots of its partial
    /// minutes, and per candidate tag an index range of at most 5 seconds of facts at each end
    /// (the partial slot itself, or the rest of its slot taken from the slot's rollup row).
    public static func topHashtags(_ window: TimeWindow, limit: Int, depth: Int = listDepth) -> Query {
        let plan = plan(window)
        func pieces(_ windows: [TimeWindow], _ count: Int) -> [String?] {
            (0..<count).flatMap { index -> [String?] in
                index < windows.count ? [windows[index].from.iso8601, windows[index].to.iso8601] : [epoch, epoch]
            }
        }
        let signs = (0..<2).map { index -> String? in index < plan.counted.count ? String(plan.counted[index].sign) : "0" }
        let hours = around(window, hourMs)
        let lists = window.from.millisecondsSinceEpoch < window.to.millisecondsSinceEpoch && depth >= max(limit, 1)
            && (hours.to.millisecondsSinceEpoch - hours.from.millisecondsSinceEpoch) / hourMs <= Int64(listedHoursAtMost)
        let parameters = pieces(plan.hours.map { [$0] } ?? [], 1) + pieces(plan.minutes, 2) + pieces(plan.counted.map(\.window), 2)
            + pieces(plan.edgeMinutes, 2) + [String(max(limit, 0))] + signs + pieces(plan.slots, 2)
            + pieces(lists ? [hours] : [], 1) + [String(lists ? depth : 0)]
        // A run of whole buckets as the array of their starts, so that a lookup of some tags is
        // one index probe per bucket and tag (a range with `tag_key = ANY` would read the range
        // once per tag).
        func starts(_ from: Int, _ to: Int, _ unit: String) -> String {
            "SELECT generate_series($\(from)::timestamptz, $\(to)::timestamptz - interval '\(unit)', interval '\(unit)')"
        }
        let listedKeys = "tag_key = ANY (ARRAY(SELECT tag_key FROM listed_keys))"
        let factsPieces = """
            $16::integer * (SELECT count(*) FROM tweet_hashtags h
                            WHERE h.tag_key = c.tag_key AND h.created_at >= $7::timestamptz AND h.created_at < $8::timestamptz)
            + $17::integer * (SELECT count(*) FROM tweet_hashtags h
                              WHERE h.tag_key = c.tag_key AND h.created_at >= $9::timestamptz AND h.created_at < $10::timestamptz)
            """
        return Query(sql: """
            WITH listed AS (
                SELECT t.hour, l.tag_key, l.count FROM (\(starts(22, 23, "1 hour"))) t (hour) CROSS JOIN LATERAL (
                    SELECT tag_key, count FROM hashtag_counts_hourly r WHERE r.hour = t.hour ORDER BY count DESC LIMIT $24::integer + 1
                ) l
            ), unlisted AS (
                SELECT coalesce(sum(last), 0) AS u FROM (
                    SELECT CASE WHEN count(*) <= $24::integer THEN 0 ELSE min(count) END AS last FROM listed GROUP BY hour
                ) per_hour
            ), listed_keys AS (
                SELECT DISTINCT tag_key FROM listed
            ), listed_rows AS (
                SELECT tag_key, min(tag) AS tag, (coalesce(sum(n) FILTER (WHERE whole), 0))::bigint AS n FROM (
                    SELECT tag_key, tag, count AS n, true AS whole FROM hashtag_counts_hourly
                    WHERE hour = ANY (ARRAY(\(starts(1, 2, "1 hour")))) AND \(listedKeys)
                    UNION ALL
                    SELECT tag_key, tag, count, true FROM hashtag_counts_minutely
                    WHERE minute = ANY (ARRAY(\(starts(3, 4, "1 minute")) UNION ALL \(starts(5, 6, "1 minute")))) AND \(listedKeys)
                    UNION ALL
                    SELECT tag_key, tag, count, false FROM hashtag_counts_minutely
                    WHERE minute = ANY (ARRAY(\(starts(11, 12, "1 minute")) UNION ALL \(starts(13, 14, "1 minute")))) AND \(listedKeys)
                ) rows GROUP BY tag_key
            ), listed_slots AS (
                SELECT tag_key, sum(count)::bigint AS n FROM hashtag_counts_10s
                WHERE slot = ANY (ARRAY(\(starts(18, 19, "10 seconds")) UNION ALL \(starts(20, 21, "10 seconds")))) AND \(listedKeys)
                GROUP BY tag_key
            ), listed_counts AS (
                SELECT c.tag, c.tag_key, (c.n + coalesce(s.n, 0)
                    + \(factsPieces))::bigint AS count
                FROM listed_rows c LEFT JOIN listed_slots s USING (tag_key)
            ), proven AS (
                SELECT $24::integer > 0 AND ((SELECT u FROM unlisted) = 0
                    OR coalesce((SELECT count FROM listed_counts WHERE count > 0 ORDER BY count DESC
                                 OFFSET greatest($15::integer - 1, 0) LIMIT 1) > (SELECT u FROM unlisted), false)) AS ok
            ), whole AS (
                SELECT tag_key, min(tag) AS tag, sum(n)::bigint AS n FROM (
                    SELECT tag_key, tag, count AS n FROM hashtag_counts_hourly
                    WHERE hour >= $1::timestamptz AND hour < $2::timestamptz
                    UNION ALL
                    SELECT tag_key, tag, count FROM hashtag_counts_minutely
                    WHERE (minute >= $3::timestamptz AND minute < $4::timestamptz)
                       OR (minute >= $5::timestamptz AND minute < $6::timestamptz)
                ) rolled GROUP BY tag_key
            ), threshold AS (
                SELECT CASE WHEN count(*) < $15::integer THEN 0 ELSE min(n) END AS t
                FROM (SELECT n FROM whole ORDER BY n DESC LIMIT $15::integer) top
            ), bound AS (
                SELECT tag_key, min(tag) AS tag, sum(count)::bigint AS b FROM hashtag_counts_minutely
                WHERE (minute >= $11::timestamptz AND minute < $12::timestamptz)
                   OR (minute >= $13::timestamptz AND minute < $14::timestamptz)
                GROUP BY tag_key
            ), candidates AS (
                SELECT tag_key, least(w.tag, b.tag) AS tag, coalesce(w.n, 0) AS n
                FROM whole w FULL JOIN bound b USING (tag_key) CROSS JOIN threshold
                WHERE coalesce(w.n, 0) + coalesce(b.b, 0) >= threshold.t
            ), slots AS (
                SELECT tag_key, sum(count)::bigint AS n FROM hashtag_counts_10s
                WHERE (slot >= $18::timestamptz AND slot < $19::timestamptz)
                   OR (slot >= $20::timestamptz AND slot < $21::timestamptz)
                GROUP BY tag_key
            )
            SELECT tag, tag_key, count FROM (
                SELECT tag, tag_key, count FROM listed_counts WHERE count > 0 AND (SELECT ok FROM proven)
                UNION ALL
                -- Only when the lists did not decide: the plan keeps this branch from running then.
                SELECT c.tag, c.tag_key, (c.n + e.n)::bigint AS count
                FROM candidates c LEFT JOIN slots s USING (tag_key) CROSS JOIN LATERAL (
                    -- Each piece is its own index range (with both in one OR the planner may bound the
                    -- scan by the tag alone and filter the tag's whole history), added or taken away.
                    SELECT coalesce(s.n, 0)
                         + \(factsPieces) AS n
                ) e
                WHERE c.n + e.n > 0 AND NOT (SELECT ok FROM proven)
            ) answer
            ORDER BY count DESC, tag_key LIMIT $15::integer
            """, parameters: parameters)
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
