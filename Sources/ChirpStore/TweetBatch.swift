import ChirpCore

/// Where an enriched record came from, and when the sender published it.
public struct LoadProvenance: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var publishedAt: Timestamp?

    public init(topic: String, partition: Int32, offset: Int64, publishedAt: Timestamp?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.publishedAt = publishedAt
    }
}

/// One loader batch, encoded for `COPY` into the session's staging table, plus the SQL that moves
/// it into the facts and rollups in a single statement.
public struct TweetBatch: Sendable {
    public private(set) var copy = CopyTextEncoder()
    /// Each row's tweet and provenance, for loading rows one by one when a batch is refused.
    public private(set) var rows: [(tweet: EnrichedTweet, provenance: LoadProvenance)] = []
    /// Highest offset + 1 per topic/partition in the batch.
    public private(set) var nextOffsets: [String: [Int32: Int64]] = [:]

    public init() {}

    public var count: Int { copy.rowCount }

    public mutating func append(_ tweet: EnrichedTweet, provenance: LoadProvenance) {
        copy.text(tweet.id)
        copy.text(tweet.createdAt.iso8601)
        copy.text(tweet.text)
        copy.text(tweet.lang)
        copy.text(tweet.authorId)
        copy.text(tweet.authorName)
        copy.text(tweet.retweetOf)
        copy.bool(tweet.isRetweet)
        copy.text(tweet.format.rawValue)
        copy.textArray(tweet.categories)
        copy.textArray(tweet.hashtags.map(\.key))
        copy.textArray(tweet.hashtags.map(\.display))
        copy.textArray(tweet.mentions)
        copy.text(tweet.hashtagRules)
        copy.text(tweet.categoryRules)
        copy.text(provenance.publishedAt?.iso8601)
        copy.text(provenance.topic)
        copy.int(provenance.partition)
        copy.int(provenance.offset)
        copy.endRow()
        rows.append((tweet, provenance))
        noteOffset(topic: provenance.topic, partition: provenance.partition, offset: provenance.offset)
    }

    /// Records a consumed offset that produced no row (a record that could not be decoded).
    public mutating func noteOffset(topic: String, partition: Int32, offset: Int64) {
        let next = offset + 1
        if next > nextOffsets[topic, default: [:]][partition] ?? Int64.min {
            nextOffsets[topic, default: [:]][partition] = next
        }
    }

    public static let createStaging = """
        CREATE TEMP TABLE IF NOT EXISTS staging_tweets (
            id text COLLATE "C", created_at timestamptz, text text, lang text, author_id text, author text,
            retweet_of text, is_retweet boolean, format text, categories text[], hashtag_keys text[],
            hashtag_tags text[], mentions text[], hashtag_rules text, category_rules text,
            published_at timestamptz, source_topic text, source_partition integer, source_offset bigint
        ) ON COMMIT DELETE ROWS
        """

    public static let copyStaging = "COPY staging_tweets FROM STDIN"

    /// Inserts new tweets (first occurrence wins, existing ids are skipped), their hashtags, and
    /// adds only the inserted rows to the rollups. Rollup rows are written in key order so that
    /// concurrent loaders take row locks in the same order. Returns the number inserted.
    public static let insertFromStaging = """
        WITH incoming AS (
            SELECT DISTINCT ON (id) * FROM staging_tweets ORDER BY id, source_offset
        ), inserted AS (
            INSERT INTO tweets (id, created_at, text, lang, author_id, author, retweet_of, is_retweet, format,
                                categories, hashtags, mentions, hashtag_rules, category_rules, published_at,
                                source_topic, source_partition, source_offset)
            SELECT id, created_at, text, lang, author_id, author, retweet_of, is_retweet, format,
                   categories, hashtag_keys, mentions, hashtag_rules, category_rules, published_at,
                   source_topic, source_partition, source_offset
            FROM incoming
            ON CONFLICT (id) DO NOTHING
            RETURNING id, created_at, lang, categories
        ), new_rows AS (
            SELECT i.id, i.created_at, i.lang, i.categories, s.hashtag_keys, s.hashtag_tags
            FROM inserted i JOIN incoming s USING (id)
        ), tags AS (
            SELECT n.id, n.created_at, t.key, t.tag, t.position
            FROM new_rows n, unnest(n.hashtag_keys, n.hashtag_tags) WITH ORDINALITY AS t(key, tag, position)
        ), tag_rows AS (
            INSERT INTO tweet_hashtags (tweet_id, position, tag_key, tag, created_at)
            SELECT id, position, key, tag, created_at FROM tags
        ), hashtag_rollup AS (
            INSERT INTO hashtag_counts_hourly AS r (hour, tag_key, tag, count)
            SELECT date_trunc('hour', created_at), key, min(tag), count(*) FROM tags
            GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (hour, tag_key) DO UPDATE SET count = r.count + EXCLUDED.count
        ), category_rollup AS (
            INSERT INTO category_counts_minutely AS r (minute, category, count)
            SELECT date_trunc('minute', n.created_at), c.category, count(*)
            FROM new_rows n, unnest(n.categories) AS c(category)
            GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (minute, category) DO UPDATE SET count = r.count + EXCLUDED.count
        ), language_rollup AS (
            INSERT INTO language_counts_hourly AS r (hour, lang, count)
            SELECT date_trunc('hour', created_at), coalesce(lang, 'und'), count(*) FROM new_rows
            GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (hour, lang) DO UPDATE SET count = r.count + EXCLUDED.count
        )
        SELECT count(*) AS inserted FROM new_rows
        """

    /// Upserts the consumed position: `$1` group, `$2` topic, `$3` partition, `$4` next offset.
    /// Never moves backwards.
    public static let storeOffset = """
        INSERT INTO kafka_offsets AS o (consumer_group, topic, partition, next_offset, updated_at)
        VALUES ($1, $2, $3::integer, $4::bigint, now())
        ON CONFLICT (consumer_group, topic, partition)
        DO UPDATE SET next_offset = greatest(o.next_offset, EXCLUDED.next_offset), updated_at = now()
        """

    public static let loadOffsets = "SELECT topic, partition, next_offset FROM kafka_offsets WHERE consumer_group = $1"
}
