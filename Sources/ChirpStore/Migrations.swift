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
        Migration(version: 2, name: "raw payloads partitioned by day, partition and retention functions, load-time index", sql: """
            CREATE TABLE raw_tweets (
                tweet_id         text COLLATE "C" NOT NULL,
                created_at       timestamptz NOT NULL,
                received_at      timestamptz NOT NULL,
                published_at     timestamptz,
                source_topic     text NOT NULL,
                source_partition integer NOT NULL,
                source_offset    bigint NOT NULL,
                payload          jsonb,
                payload_text     text,
                CHECK ((payload IS NULL) <> (payload_text IS NULL))
            ) PARTITION BY RANGE (received_at);
            CREATE INDEX raw_tweets_created_at_idx ON raw_tweets (created_at, tweet_id);
            CREATE INDEX tweets_loaded_at_idx ON tweets (loaded_at, id);
            -- Room on each page for a rewritten row (recompute), so the update stays on the page and
            -- leaves the indexes alone (a HOT update).
            ALTER TABLE tweets SET (fillfactor = 85);

            CREATE FUNCTION chirp_raw_partition(day date) RETURNS text LANGUAGE plpgsql AS $fn$
            DECLARE
                name text := 'raw_tweets_' || to_char(day, 'YYYYMMDD');
            BEGIN
                PERFORM pg_advisory_xact_lock(\(rawPartitionLockKey));
                IF to_regclass(name) IS NULL THEN
                    EXECUTE format('CREATE TABLE %I PARTITION OF raw_tweets FOR VALUES FROM (%L) TO (%L)',
                                   name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
                END IF;
                RETURN name;
            END
            $fn$;

            CREATE FUNCTION chirp_drop_raw_partitions(keep interval) RETURNS integer LANGUAGE plpgsql AS $fn$
            DECLARE
                part record;
                dropped integer := 0;
                cutoff date := ((now() - keep) AT TIME ZONE 'UTC')::date;
            BEGIN
                PERFORM pg_advisory_xact_lock(\(rawPartitionLockKey));
                FOR part IN
                    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                    WHERE i.inhparent = 'raw_tweets'::regclass AND c.relname ~ '^raw_tweets_[0-9]{8}$'
                      AND to_date(substr(c.relname, 12), 'YYYYMMDD') + 1 <= cutoff
                    ORDER BY c.relname
                LOOP
                    EXECUTE format('DROP TABLE %I', part.relname);
                    dropped := dropped + 1;
                END LOOP;
                RETURN dropped;
            END
            $fn$;
            """),
        // Each hashtag row costs its indexes on every load; the per-tweet key only served
        // recompute, which now finds a tweet's rows through the time index instead (from the
        // tweet's stored time and hashtag keys).
        Migration(version: 3, name: "hashtag facts without a per-tweet key", sql: """
            ALTER TABLE tweet_hashtags DROP CONSTRAINT tweet_hashtags_pkey;
            """),
        // A payload that yields many tweets (a v2 page) is kept once, not once per tweet: the
        // tweets' raw rows point at it by raw position, and carry no payload of their own. Its
        // partitions follow raw_tweets' days, created and dropped together. The raw partitions'
        // lock comes first, in the order a running loader's retention takes it (before the
        // tables), so the two cannot deadlock. The check that a raw row holds a payload goes
        // without a replacement: one that scanned every raw row would hold every loader up.
        Migration(version: 4, name: "raw documents: a payload of several tweets stored once", sql: """
            SELECT pg_advisory_xact_lock(\(rawPartitionLockKey));
            CREATE TABLE raw_documents (
                received_at      timestamptz NOT NULL,
                source_topic     text NOT NULL,
                source_partition integer NOT NULL,
                source_offset    bigint NOT NULL,
                payload_text     text NOT NULL,
                PRIMARY KEY (source_topic, source_partition, source_offset, received_at)
            ) PARTITION BY RANGE (received_at);
            ALTER TABLE raw_tweets DROP CONSTRAINT raw_tweets_check;

            CREATE OR REPLACE FUNCTION chirp_raw_partition(day date) RETURNS text LANGUAGE plpgsql AS $fn$
            DECLARE
                suffix text := to_char(day, 'YYYYMMDD');
                low timestamptz := day::timestamp AT TIME ZONE 'UTC';
                high timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
            BEGIN
                PERFORM pg_advisory_xact_lock(\(rawPartitionLockKey));
                IF to_regclass('raw_tweets_' || suffix) IS NULL THEN
                    EXECUTE format('CREATE TABLE %I PARTITION OF raw_tweets FOR VALUES FROM (%L) TO (%L)', 'raw_tweets_' || suffix, low, high);
                END IF;
                IF to_regclass('raw_documents_' || suffix) IS NULL THEN
                    EXECUTE format('CREATE TABLE %I PARTITION OF raw_documents FOR VALUES FROM (%L) TO (%L)', 'raw_documents_' || suffix, low, high);
                END IF;
                RETURN 'raw_tweets_' || suffix;
            END
            $fn$;

            CREATE OR REPLACE FUNCTION chirp_drop_raw_partitions(keep interval) RETURNS integer LANGUAGE plpgsql AS $fn$
            DECLARE
                part record;
                dropped integer := 0;
                cutoff date := ((now() - keep) AT TIME ZONE 'UTC')::date;
            BEGIN
                PERFORM pg_advisory_xact_lock(\(rawPartitionLockKey));
                FOR part IN
                    SELECT substr(c.relname, 12) AS suffix FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                    WHERE i.inhparent = 'raw_tweets'::regclass AND c.relname ~ '^raw_tweets_[0-9]{8}$'
                      AND to_date(substr(c.relname, 12), 'YYYYMMDD') + 1 <= cutoff
                    ORDER BY c.relname
                LOOP
                    EXECUTE format('DROP TABLE %I', 'raw_tweets_' || part.suffix);
                    EXECUTE format('DROP TABLE IF EXISTS %I', 'raw_documents_' || part.suffix);
                    dropped := dropped + 1;
                END LOOP;
                RETURN dropped;
            END
            $fn$;

            -- The days that already have raw partitions get their document partitions now.
            SELECT chirp_raw_partition(to_date(substr(c.relname, 12), 'YYYYMMDD'))
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'raw_tweets'::regclass AND c.relname ~ '^raw_tweets_[0-9]{8}$';
            """),
    ]

    /// Serializes creating and dropping raw partitions.
    public static let rawPartitionLockKey: Int64 = 0x4348_4952_5052  // "CHIRPR"

    /// Privileges for the two group roles, when they exist: `chirp_reader` may read everything
    /// (dashboards, the `chirp` CLI), `chirp_writer` may also write rows (a loader or recompute
    /// logging in as a member instead of as the owner). Applied after every migration run, so a
    /// role created later gets its privileges at the next start; tables created later by the
    /// owner (raw partitions) inherit them through default privileges.
    public static let grants = """
        DO $grants$
        DECLARE
            schema_name text := quote_ident(current_schema());
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'chirp_reader') THEN
                EXECUTE 'GRANT USAGE ON SCHEMA ' || schema_name || ' TO chirp_reader';
                EXECUTE 'GRANT SELECT ON ALL TABLES IN SCHEMA ' || schema_name || ' TO chirp_reader';
                EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA ' || schema_name || ' GRANT SELECT ON TABLES TO chirp_reader';
            END IF;
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'chirp_writer') THEN
                EXECUTE 'GRANT USAGE ON SCHEMA ' || schema_name || ' TO chirp_writer';
                EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ' || schema_name || ' TO chirp_writer';
                EXECUTE 'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ' || schema_name || ' TO chirp_writer';
                EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA ' || schema_name || ' GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO chirp_writer';
            END IF;
        END
        $grants$
        """

    public static let createLedger = """
        CREATE TABLE IF NOT EXISTS chirp_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
}
