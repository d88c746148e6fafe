/// A schema change, applied once, in order, inside a transaction.
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var sql: String
}

/// The analytics schema. Facts are keyed by tweet id; rollups only ever grow by the rows a batch
/// actually inserted, so redelivered tweets change nothing. Key columns use the "C" collation:
/// they are identifiers, and byte comparison is several times cheaper than a locale's (the
/// official PostgreSQL image defaults to en_US.utf8).
public enum Migrations {
    /// Serializes concurrent migrators (several loaders starting at once).
    public static let advisoryLockKey: Int64 = 0x4348_4952_5053  // "CHIRPS"

    public static let all: [Migration] = [
        Migration(version: 1, name: "facts, rollups and consumer offsets", sql: """
            CREATE TABLE tweets (
                id               text COLLATE "C" PRIMARY KEY,
                created_at       timestamptz NOT NULL,
                text             text NOT NULL,
                lang             text COLLATE "C",
                author_id        text,
                author           text,
                retweet_of       text,
                is_retweet       boolean NOT NULL,
                format           text NOT NULL,
                categories       text[] NOT NULL,
                hashtags         text[] NOT NULL,
                mentions         text[] NOT NULL,
                hashtag_rules    text NOT NULL,
                category_rules   text NOT NULL,
                published_at     timestamptz,
                loaded_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
                source_topic     text,
                source_partition integer,
                source_offset    bigint
            );
            CREATE INDEX tweets_created_at_idx ON tweets (created_at);

            CREATE TABLE tweet_hashtags (
                tweet_id   text COLLATE "C" NOT NULL,
                position   smallint NOT NULL,
                tag_key    text COLLATE "C" NOT NULL,
                tag        text NOT NULL,
                created_at timestamptz NOT NULL,
                PRIMARY KEY (tweet_id, position)
            );
            CREATE INDEX tweet_hashtags_time_idx ON tweet_hashtags (created_at, tag_key);

            CREATE TABLE hashtag_counts_hourly (
                hour    timestamptz NOT NULL,
                tag_key text COLLATE "C" NOT NULL,
                tag     text NOT NULL,
                count   bigint NOT NULL,
                PRIMARY KEY (hour, tag_key)
            );

            CREATE TABLE category_counts_minutely (
                minute   timestamptz NOT NULL,
                category text COLLATE "C" NOT NULL,
                count    bigint NOT NULL,
                PRIMARY KEY (minute, category)
            );

            CREATE TABLE language_counts_hourly (
                hour  timestamptz NOT NULL,
                lang  text COLLATE "C" NOT NULL,
                count bigint NOT NULL,
                PRIMARY KEY (hour, lang)
            );

            CREATE TABLE kafka_offsets (
                consumer_group text NOT NULL,
                topic          text NOT NULL,
                partition      integer NOT NULL,
                next_offset    bigint NOT NULL,
                updated_at     timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (consumer_group, topic, partition)
            );
            """),
    ]

    public static let createLedger = """
        CREATE TABLE IF NOT EXISTS chirp_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
}
