import ChirpCore

/// Where an enriched record came from, and when the sender published it.
public struct LoadProvenance: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var publishedAt: Timestamp?
    /// The payload the tweet was parsed from, as received, when the categorizer forwarded it.
    public var raw: RawPayload?

    public init(topic: String, partition: Int32, offset: Int64, publishedAt: Timestamp?, raw: RawPayload? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.publishedAt = publishedAt
        self.raw = raw
    }
}

/// A payload as received on the raw topic: the master data every derived table can be rebuilt from.
public struct RawPayload: Sendable {
    /// Where a tweet's payload bytes are kept.
    public enum Storage: Sendable, Equatable {
        /// In the tweet's own raw row: a payload that yielded this one tweet.
        case own([UInt8])
        /// Once, in `raw_documents` at the raw position: the first tweet of a payload that
        /// yielded several (the tweet's raw row points there).
        case document([UInt8])
        /// A later tweet of such a payload: its raw row points at the document, whose bytes come
        /// with the first tweet's record.
        case inDocument
    }

    public var storage: Storage
    /// The raw record's Kafka timestamp: when the bridge produced it.
    public var receivedAt: Timestamp
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(bytes: [UInt8], receivedAt: Timestamp, topic: String, partition: Int32, offset: Int64) {
        self.init(storage: .own(bytes), receivedAt: receivedAt, topic: topic, partition: partition, offset: offset)
    }

    public init(storage: Storage, receivedAt: Timestamp, topic: String, partition: Int32, offset: Int64) {
        self.storage = storage
        self.receivedAt = receivedAt
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// The UTC day the payload's raw partition covers (days since 1970-01-01).
    public var partitionDay: Int64 {
        let ms = receivedAt.millisecondsSinceEpoch
        return ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
    }
}

/// One loader batch, encoded for binary `COPY` into the session's staging table, plus the SQL that moves
/// it into the facts and rollups in a single statement.
public struct TweetBatch: Sendable {
    public private(set) var copy = CopyBinaryEncoder()
    /// Where each row starts in `copy.bytes`, and its tweet id: enough to load rows one by one
    /// when a batch is refused, without keeping the decoded tweets.
    private var rowStarts: [Int] = []
    public private(set) var ids: [String] = []
    /// Highest offset + 1 per topic/partition in the batch.
    public private(set) var nextOffsets: [String: [Int32: Int64]] = [:]
    /// The UTC days (since 1970-01-01) of the raw payloads in the batch: their partitions must exist.
    public private(set) var rawDays: Set<Int64> = []
    /// Each row's raw day, so that a row loaded alone asks only for its own partition: a day the
    /// database refuses must refuse that row, not every row of the batch.
    private var rowRawDays: [Int64?] = []
    /// The documents (payloads of several tweets) rows carry, by row: a refused row's document
    /// must still be stored, since its other tweets point at it.
    public private(set) var documents: [Int: RawPayload] = [:]

    public init() {}

    /// A batch whose `COPY` stream has room for `bytes` bytes from the start (a stream that grows
    /// by doubling copies itself several times and touches fresh pages at each step).
    public init(reservingBytes bytes: Int) {
        copy = CopyBinaryEncoder(capacity: bytes)
    }

    public var count: Int { ids.count }

    public mutating func append(_ tweet: EnrichedTweet, provenance: LoadProvenance) {
        rowStarts.append(copy.bytes.count - CopyBinaryEncoder.trailer.count)
        ids.append(tweet.id)
        rowRawDays.append(provenance.raw?.partitionDay)
        copy.tweetColumns(tweet)
        copy.timestamp(provenance.publishedAt)
        copy.text(provenance.topic)
        copy.int32(provenance.partition)
        copy.int64(provenance.offset)
        if let raw = provenance.raw {
            switch raw.storage {
            case .own(let bytes): copy.utf8(bytes); copy.null()
            case .document(let bytes): copy.null(); copy.utf8(bytes); documents[ids.count - 1] = raw
            case .inDocument: copy.null(); copy.null()
            }
            copy.timestamp(raw.receivedAt)
            copy.text(raw.topic)
            copy.int32(raw.partition)
            copy.int64(raw.offset)
            rawDays.insert(raw.partitionDay)
        } else {
            for _ in 0..<6 { copy.null() }
        }
        copy.endRow()
        noteOffset(topic: provenance.topic, partition: provenance.partition, offset: provenance.offset)
    }

    /// Row `index` alone, as a batch without offsets.
    public func row(_ index: Int) -> TweetBatch {
        let end = index + 1 < rowStarts.count ? rowStarts[index + 1] : copy.bytes.count - CopyBinaryEncoder.trailer.count
        var single = TweetBatch()
        single.copy = .single(row: copy.bytes[rowStarts[index]..<end])
        single.rowStarts = [single.copy.bytes.count - CopyBinaryEncoder.trailer.count - (end - rowStarts[index])]
        single.ids = [ids[index]]
        single.rawDays = rowRawDays[index].map { [$0] } ?? []
        single.rowRawDays = [rowRawDays[index]]
        return single
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
            published_at timestamptz, source_topic text, source_partition integer, source_offset bigint,
            raw_payload text, raw_document text, raw_received_at timestamptz, raw_topic text,
            raw_partition integer, raw_offset bigint
        ) ON COMMIT DELETE ROWS
        """

    public static let copyStaging = "COPY staging_tweets FROM STDIN (FORMAT binary)"

    /// Inserts new tweets (first occurrence wins, existing ids are skipped), their raw rows and
    /// hashtags, and adds only the inserted rows to the rollups. A payload that yielded several
    /// tweets is stored once, in `raw_documents`, whether or not its first tweet is new: its
    /// other tweets, which may be new, arrive on other partitions, at other times, and point there. Rollup rows are written in key order so that
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
            SELECT i.id, i.created_at, i.lang, i.categories, s.hashtag_keys, s.hashtag_tags, s.published_at,
                   s.raw_payload, s.raw_received_at, s.raw_topic, s.raw_partition, s.raw_offset
            FROM inserted i JOIN incoming s USING (id)
        ), raw_rows AS (
            INSERT INTO raw_tweets (tweet_id, created_at, received_at, published_at, source_topic, source_partition,
                                    source_offset, payload_text)
            SELECT id, created_at, raw_received_at, published_at, raw_topic, raw_partition, raw_offset, raw_payload
            FROM new_rows WHERE raw_topic IS NOT NULL
        ), document_rows AS (
            INSERT INTO raw_documents (received_at, source_topic, source_partition, source_offset, payload_text)
            SELECT DISTINCT ON (raw_topic, raw_partition, raw_offset, raw_received_at)
                   raw_received_at, raw_topic, raw_partition, raw_offset, raw_document
            FROM staging_tweets WHERE raw_document IS NOT NULL
            ON CONFLICT DO NOTHING
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

    /// Stores one document on its own (its first tweet's row was refused): `$1` received at,
    /// `$2` topic, `$3` partition, `$4` offset, `$5` the payload.
    public static let insertDocument = """
        INSERT INTO raw_documents (received_at, source_topic, source_partition, source_offset, payload_text)
        VALUES ($1::timestamptz, $2, $3::integer, $4::bigint, $5) ON CONFLICT DO NOTHING
        """
}

extension CopyBinaryEncoder {
    /// The derived columns of a tweet, in the order both staging tables start with: id, created_at,
    /// text, lang, author_id, author, retweet_of, is_retweet, format, categories, hashtag keys,
    /// hashtag display tags, mentions, hashtag rules, category rules.
    public mutating func tweetColumns(_ tweet: EnrichedTweet) {
        text(tweet.id)
        timestamp(tweet.createdAt)
        text(tweet.text)
        text(tweet.lang)
        text(tweet.authorId)
        text(tweet.authorName)
        text(tweet.retweetOf)
        bool(tweet.isRetweet)
        text(tweet.format.rawValue)
        textArray(tweet.categories)
        textArray(tweet.hashtags.map(\.key))
        textArray(tweet.hashtags.map(\.display))
        textArray(tweet.mentions)
        text(tweet.hashtagRules)
        text(tweet.categoryRules)
    }
}
