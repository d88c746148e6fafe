import ChirpCore

/// One recompute batch: tweets re-derived from their raw payloads with the current rules, encoded
/// for `COPY` into the session's staging table, and the statements that swap them in.
///
/// The invariant both the loader and recompute keep: every rollup equals the aggregate of the facts
/// (`tweets`, `tweet_hashtags`). The loader adds only rows it inserted; a recompute batch, in one
/// transaction, locks its tweets, subtracts what they contributed, rewrites them, and adds what they
/// contribute now, as one net delta per rollup row. So it runs beside a live loader without double
/// counting, and can be interrupted and run again at any time.
public struct RecomputeBatch: Sendable {
    public private(set) var copy = CopyBinaryEncoder()
    public init() {}
    public var count: Int { copy.rowCount }

    public mutating func append(_ tweet: EnrichedTweet) {
        copy.tweetColumns(tweet)
        copy.endRow()
    }

    public static let createStaging = [
        """
        CREATE TEMP TABLE IF NOT EXISTS staging_recompute (
            id text COLLATE "C" PRIMARY KEY, created_at timestamptz, text text, lang text, author_id text, author text,
            retweet_of text, is_retweet boolean, format text, categories text[], hashtag_keys text[], hashtag_tags text[],
            mentions text[], hashtag_rules text, category_rules text, same_hashtags boolean
        ) ON COMMIT DELETE ROWS
        """,
        """
        CREATE TEMP TABLE IF NOT EXISTS recompute_delta (
            kind "char" NOT NULL, bucket timestamptz NOT NULL, key text COLLATE "C" NOT NULL, tag text, delta bigint NOT NULL
        ) ON COMMIT DELETE ROWS
        """,
    ]

    public static let copyStaging = "COPY staging_recompute (id, created_at, text, lang, author_id, author, retweet_of, is_retweet, format, categories, hashtag_keys, hashtag_tags, mentions, hashtag_rules, category_rules) FROM STDIN (FORMAT binary)"

    /// The statements of one batch, in order, inside one transaction.
    public static let apply: [String] = [
        // A batch touches a few thousand tweets: look each up by key. (A merge join would read the
        // primary key from its start up to the batch's ids, so every batch would cost more than the last.)
        "SET LOCAL enable_mergejoin = off",
        "SET LOCAL enable_hashjoin = off",
        // Tweets that are gone from the facts are not brought back; lock the others in id order.
        "DELETE FROM staging_recompute s WHERE NOT EXISTS (SELECT 1 FROM tweets t WHERE t.id = s.id)",
        "SELECT id FROM tweets WHERE id IN (SELECT id FROM staging_recompute) ORDER BY id FOR UPDATE",
        // Same text, time and hashtag keys: the hashtag rows stay as they are (the common case when
        // only the category table changed).
        """
        UPDATE staging_recompute s SET same_hashtags = (t.text = s.text AND t.created_at = s.created_at AND t.hashtags = s.hashtag_keys)
        FROM tweets t WHERE t.id = s.id
        """,
        // What the tweets contribute now, subtracted (aggregated per rollup row).
        """
        INSERT INTO recompute_delta (kind, bucket, key, tag, delta)
        SELECT kind, bucket, key, min(tag), sum(delta) FROM (
            SELECT 'h'::"char" AS kind, date_trunc('hour', t.created_at) AS bucket, k.key, NULL AS tag, -1 AS delta
            FROM tweets t, unnest(t.hashtags) AS k(key) WHERE t.id IN (SELECT id FROM staging_recompute WHERE NOT same_hashtags)
            UNION ALL
            SELECT 'c', date_trunc('minute', t.created_at), c.category, NULL, -1
            FROM tweets t, unnest(t.categories) AS c(category) WHERE t.id IN (SELECT id FROM staging_recompute)
            UNION ALL
            SELECT 'l', date_trunc('hour', t.created_at), coalesce(t.lang, 'und'), NULL, -1
            FROM tweets t WHERE t.id IN (SELECT id FROM staging_recompute)
        ) old GROUP BY 1, 2, 3
        """,
        // What they contribute with the current rules, added.
        """
        INSERT INTO recompute_delta (kind, bucket, key, tag, delta)
        SELECT kind, bucket, key, min(tag), sum(delta) FROM (
            SELECT 'h'::"char" AS kind, date_trunc('hour', s.created_at) AS bucket, t.key, t.tag, 1 AS delta
            FROM staging_recompute s, unnest(s.hashtag_keys, s.hashtag_tags) AS t(key, tag) WHERE NOT s.same_hashtags
            UNION ALL
            SELECT 'c', date_trunc('minute', s.created_at), c.category, NULL, 1
            FROM staging_recompute s, unnest(s.categories) AS c(category)
            UNION ALL
            SELECT 'l', date_trunc('hour', s.created_at), coalesce(s.lang, 'und'), NULL, 1
            FROM staging_recompute s
        ) new GROUP BY 1, 2, 3
        """,
        // One net change per rollup row, in key order, before the facts change: the loader takes
        // the hourly, category and language rows first and the minute rows (its trigger) last,
        // and so does this (the trigger fires on the statements below). Only the added
        // side carries display tags; a row is only ever inserted from it.
        """
        INSERT INTO hashtag_counts_hourly AS r (hour, tag_key, tag, count)
        SELECT bucket, key, coalesce(min(tag), key), sum(delta) FROM recompute_delta WHERE kind = 'h'
        GROUP BY 1, 2 HAVING sum(delta) <> 0 ORDER BY 1, 2
        ON CONFLICT (hour, tag_key) DO UPDATE SET count = r.count + EXCLUDED.count
        """,
        """
        INSERT INTO category_counts_minutely AS r (minute, category, count)
        SELECT bucket, key, sum(delta) FROM recompute_delta WHERE kind = 'c'
        GROUP BY 1, 2 HAVING sum(delta) <> 0 ORDER BY 1, 2
        ON CONFLICT (minute, category) DO UPDATE SET count = r.count + EXCLUDED.count
        """,
        """
        INSERT INTO language_counts_hourly AS r (hour, lang, count)
        SELECT bucket, key, sum(delta) FROM recompute_delta WHERE kind = 'l'
        GROUP BY 1, 2 HAVING sum(delta) <> 0 ORDER BY 1, 2
        ON CONFLICT (hour, lang) DO UPDATE SET count = r.count + EXCLUDED.count
        """,
        // The tweet minutes the rewrite moves tweets out of or into (a tweet's time changed), taken
        // in minute order, or made, before any hashtag minute: the loader takes its tweet minutes
        // before its hashtag minutes too (both through triggers), so the two cannot deadlock there.
        """
        INSERT INTO tweet_counts_minutely AS r (minute, count)
        SELECT DISTINCT date_trunc('minute', at) AS minute, 0
        FROM staging_recompute s JOIN tweets t USING (id), unnest(ARRAY[t.created_at, s.created_at]) AS at
        WHERE t.created_at <> s.created_at ORDER BY minute
        ON CONFLICT (minute) DO UPDATE SET count = r.count
        """,
        // Their hashtag rows go, found by the tag-then-time index from what the tweet holds now (hence
        // before the rewrite): its time and hashtag keys, which the loader and recompute always
        // write together with the rows.
        """
        DELETE FROM tweet_hashtags h USING tweets t, unnest(t.hashtags) AS k(key)
        WHERE t.id IN (SELECT id FROM staging_recompute WHERE NOT same_hashtags)
          AND h.created_at = t.created_at AND h.tag_key = k.key AND h.tweet_id = t.id
        """,
        // Rewrite the rows that differ (running recompute again with the same rules rewrites nothing).
        """
        UPDATE tweets t SET created_at = s.created_at, text = s.text, lang = s.lang, author_id = s.author_id,
               author = s.author, retweet_of = s.retweet_of, is_retweet = s.is_retweet, format = s.format,
               categories = s.categories, hashtags = s.hashtag_keys, mentions = s.mentions,
               hashtag_rules = s.hashtag_rules, category_rules = s.category_rules
        FROM staging_recompute s WHERE t.id = s.id
          AND (t.created_at, t.text, t.lang, t.author_id, t.author, t.retweet_of, t.is_retweet, t.format, t.categories,
               t.hashtags, t.mentions, t.hashtag_rules, t.category_rules)
              IS DISTINCT FROM
              (s.created_at, s.text, s.lang, s.author_id, s.author, s.retweet_of, s.is_retweet, s.format, s.categories,
               s.hashtag_keys, s.mentions, s.hashtag_rules, s.category_rules)
        """,
        """
        INSERT INTO tweet_hashtags (tweet_id, position, tag_key, tag, created_at)
        SELECT s.id, t.position, t.key, t.tag, s.created_at
        FROM staging_recompute s, unnest(s.hashtag_keys, s.hashtag_tags) WITH ORDINALITY AS t(key, tag, position)
        WHERE NOT s.same_hashtags
        """,
        // Rows that fell to zero are removed (a from-scratch computation has none).
        """
        DELETE FROM hashtag_counts_hourly r USING (SELECT DISTINCT bucket, key FROM recompute_delta WHERE kind = 'h') d
        WHERE r.hour = d.bucket AND r.tag_key = d.key AND r.count = 0
        """,
        """
        DELETE FROM category_counts_minutely r USING (SELECT DISTINCT bucket, key FROM recompute_delta WHERE kind = 'c') d
        WHERE r.minute = d.bucket AND r.category = d.key AND r.count = 0
        """,
        """
        DELETE FROM language_counts_hourly r USING (SELECT DISTINCT bucket, key FROM recompute_delta WHERE kind = 'l') d
        WHERE r.hour = d.bucket AND r.lang = d.key AND r.count = 0
        """,
    ]

    /// The position in `apply` of the statement that rewrites `tweets` (its row count is the number rewritten).
    public static let rewriteStatement = apply.firstIndex { $0.hasPrefix("UPDATE tweets") }!

    /// The next raw payloads at or after `$1` (ISO time), after the position `$2` (milliseconds),
    /// `$3` (tweet id), in event-time order, at most `$4`. A tweet whose payload is a document
    /// (a payload of several tweets, kept once) has its raw position in `document`; the payload
    /// comes with the first of the page's rows from that document only, so a page of 500 tweets
    /// from one payload reads and decodes it once.
    public static let selectRaw = """
        SELECT r.tweet_id, (extract(epoch FROM r.created_at) * 1000)::bigint AS created_ms,
               coalesce(r.payload_text, r.payload::text,
                        CASE WHEN row_number() OVER (PARTITION BY d.source_topic, d.source_partition, d.source_offset, d.received_at
                                                     ORDER BY r.created_at, r.tweet_id) = 1
                             THEN d.payload_text END) AS payload,
               (extract(epoch FROM coalesce(r.published_at, r.received_at)) * 1000)::bigint AS fallback_ms,
               CASE WHEN d.source_topic IS NOT NULL
                    THEN concat_ws('/', d.source_topic, d.source_partition, d.source_offset, (extract(epoch FROM d.received_at) * 1000)::bigint)
               END AS document
        FROM (
            SELECT * FROM raw_tweets
            WHERE created_at >= $1::timestamptz
              AND (created_at, tweet_id) > (timestamptz 'epoch' + $2::bigint * interval '1 millisecond', $3::text)
            ORDER BY created_at, tweet_id LIMIT $4::integer
        ) r
        -- One primary-key lookup per row: a join could read the whole table for every page, and
        -- the LIMIT keeps the planner from turning the lookup back into one.
        LEFT JOIN LATERAL (
            SELECT * FROM raw_documents d
            WHERE r.payload IS NULL AND r.payload_text IS NULL
              AND d.source_topic = r.source_topic AND d.source_partition = r.source_partition
              AND d.source_offset = r.source_offset AND d.received_at = r.received_at
            LIMIT 1
        ) d ON true
        ORDER BY r.created_at, r.tweet_id
        """

    /// How many raw payloads and how many tweets without one are at or after `$1`.
    public static let scope = """
        SELECT (SELECT count(*) FROM raw_tweets WHERE created_at >= $1::timestamptz) AS raw,
               (SELECT count(*) FROM tweets t WHERE t.created_at >= $1::timestamptz AND NOT EXISTS (
                    SELECT 1 FROM raw_tweets r WHERE r.created_at = t.created_at AND r.tweet_id = t.id)) AS without_raw
        """
}

/// Checks the invariant: each rollup against the same aggregate computed from scratch from the
/// facts. Each statement returns the number of rollup rows that differ, `mismatches`.
public enum RollupCheck {
    public static let statements: [(rollup: String, sql: String)] = [
        ("hashtag_counts_hourly", """
            SELECT count(*) AS mismatches FROM (
                SELECT date_trunc('hour', created_at) AS hour, tag_key, count(*) AS count FROM tweet_hashtags GROUP BY 1, 2
            ) f FULL JOIN (SELECT hour, tag_key, count FROM hashtag_counts_hourly WHERE count <> 0) r USING (hour, tag_key)
            WHERE f.count IS DISTINCT FROM r.count
            """),
        ("hashtag_counts_minutely", """
            SELECT count(*) AS mismatches FROM (
                SELECT date_trunc('minute', created_at) AS minute, tag_key, count(*) AS count FROM tweet_hashtags GROUP BY 1, 2
            ) f FULL JOIN (SELECT minute, tag_key, count FROM hashtag_counts_minutely WHERE count <> 0) r USING (minute, tag_key)
            WHERE f.count IS DISTINCT FROM r.count
            """),
        ("hashtag_counts_10s", """
            SELECT count(*) AS mismatches FROM (
                SELECT \(Migrations.slotOf("created_at")) AS slot, tag_key, count(*) AS count FROM tweet_hashtags GROUP BY 1, 2
            ) f FULL JOIN (SELECT slot, tag_key, count FROM hashtag_counts_10s WHERE count <> 0) r USING (slot, tag_key)
            WHERE f.count IS DISTINCT FROM r.count
            """),
        ("category_counts_minutely", """
            SELECT count(*) AS mismatches FROM (
                SELECT date_trunc('minute', created_at) AS minute, c.category, count(*) AS count
                FROM tweets, unnest(categories) AS c(category) GROUP BY 1, 2
            ) f FULL JOIN (SELECT minute, category, count FROM category_counts_minutely WHERE count <> 0) r USING (minute, category)
            WHERE f.count IS DISTINCT FROM r.count
            """),
        ("tweet_counts_minutely", """
            SELECT count(*) AS mismatches FROM (
                SELECT date_trunc('minute', created_at) AS minute, count(*) AS count FROM tweets GROUP BY 1
            ) f FULL JOIN (SELECT minute, count FROM tweet_counts_minutely WHERE count <> 0) r USING (minute)
            WHERE f.count IS DISTINCT FROM r.count
            """),
        ("language_counts_hourly", """
            SELECT count(*) AS mismatches FROM (
                SELECT date_trunc('hour', created_at) AS hour, coalesce(lang, 'und') AS lang, count(*) AS count FROM tweets GROUP BY 1, 2
            ) f FULL JOIN (SELECT hour, lang, count FROM language_counts_hourly WHERE count <> 0) r USING (hour, lang)
            WHERE f.count IS DISTINCT FROM r.count
            """),
    ]
}
