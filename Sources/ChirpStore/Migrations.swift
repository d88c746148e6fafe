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

    /// The version this code loads into: the last migration's.
    public static var latestVersion: Int { all[all.count - 1].version }

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
        // The loader logs in as a role that owns nothing (chirp_writer): making and dropping a
        // day's raw partitions needs the tables' owner, so the two functions run as their owner,
        // with a search path that a caller cannot point elsewhere. Who may call them is granted
        // after every migration run (`grants`).
        Migration(version: 5, name: "partition functions run as the schema's owner", sql: """
            DO $m$
            BEGIN
                EXECUTE format('ALTER FUNCTION chirp_raw_partition(date) SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
                EXECUTE format('ALTER FUNCTION chirp_drop_raw_partitions(interval) SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
            END
            $m$;
            REVOKE EXECUTE ON FUNCTION chirp_raw_partition(date), chirp_drop_raw_partitions(interval) FROM PUBLIC;
            """),
        // What the loader's role may ask of the two functions, bounded: partitions for days from
        // 2000 to tomorrow only (a raw row's day is the bridge's clock, so later days are no real
        // rows, and each partition costs locks in every query over all of them), and no drop
        // of the last day. A refused day is a data error: the loader skips that row alone.
        // CREATE OR REPLACE resets a function's attributes, so they are set again.
        Migration(version: 6, name: "partition functions bounded", sql: """
            CREATE OR REPLACE FUNCTION chirp_raw_partition(day date) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $fn$
            DECLARE
                suffix text := to_char(day, 'YYYYMMDD');
                low timestamptz := day::timestamp AT TIME ZONE 'UTC';
                high timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
            BEGIN
                IF day < date '2000-01-01' OR day > (now() AT TIME ZONE 'UTC')::date + 1 THEN
                    RAISE EXCEPTION 'no raw partition for %: days from 2000-01-01 to tomorrow (UTC) only', day
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
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

            CREATE OR REPLACE FUNCTION chirp_drop_raw_partitions(keep interval) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER AS $fn$
            DECLARE
                part record;
                dropped integer := 0;
                cutoff date := ((now() - keep) AT TIME ZONE 'UTC')::date;
            BEGIN
                IF keep IS NULL OR keep < interval '1 day' THEN
                    RAISE EXCEPTION 'raw partitions are kept one day at least, not %', keep USING ERRCODE = 'invalid_parameter_value';
                END IF;
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

            DO $m$
            BEGIN
                EXECUTE format('ALTER FUNCTION chirp_raw_partition(date) SET search_path = %I, pg_temp', current_schema());
                EXECUTE format('ALTER FUNCTION chirp_drop_raw_partitions(interval) SET search_path = %I, pg_temp', current_schema());
            END
            $m$;
            """),
        // Hashtags per minute, so a ragged window reads whole minutes from a rollup and only its
        // two partial minutes from the facts (the sliding hour's edges were whole partial hours of
        // facts: 200 ms at 10 million tweets a day). The database keeps this rollup itself, one
        // aggregated upsert per statement that adds or removes hashtag rows, so a loader or a
        // recompute of any version keeps it equal to the facts. A second index on the facts leads
        // with the tag: the window's partial minutes are counted per candidate tag (TrendQueries).
        Migration(version: 7, name: "hashtags per minute, kept by the database", sql: """
            LOCK TABLE tweet_hashtags IN SHARE ROW EXCLUSIVE MODE;
            CREATE TABLE hashtag_counts_minutely (
                minute  timestamptz NOT NULL,
                tag_key text COLLATE "C" NOT NULL,
                tag     text NOT NULL,
                count   bigint NOT NULL,
                PRIMARY KEY (minute, tag_key)
            );
            INSERT INTO hashtag_counts_minutely (minute, tag_key, tag, count)
            SELECT date_trunc('minute', created_at), tag_key, min(tag), count(*) FROM tweet_hashtags GROUP BY 1, 2;

            CREATE FUNCTION chirp_hashtag_minutes() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $fn$
            BEGIN
                \(minuteRollup)
                RETURN NULL;
            END
            $fn$;
            \(ownersOnly("chirp_hashtag_minutes()"))
            \(changeTriggers(on: "tweet_hashtags", calling: "chirp_hashtag_minutes()"))

            CREATE INDEX tweet_hashtags_tag_time_idx ON tweet_hashtags (tag_key, created_at);
            """),
        // After a review of 7: the dashboard's datasets and older CLIs ask `tweet_hashtags` by time
        // alone, which without the time index became a scan of the whole table (7 as first written
        // dropped it; it no longer does, so here the index is made only where that 7 ran: a store
        // upgrading from 6 keeps its index instead of dropping and rebuilding it); the trigger buckets
        // minutes in UTC whatever the writer's session time zone; TRUNCATE of the facts empties
        // the rollup too.
        Migration(version: 8, name: "hashtag facts indexed by time again; the minute rollup in UTC and truncated with the facts", sql: """
            CREATE INDEX IF NOT EXISTS tweet_hashtags_time_idx ON tweet_hashtags (created_at, tag_key);
            ALTER FUNCTION chirp_hashtag_minutes() SET TimeZone = 'UTC';
            CREATE FUNCTION chirp_hashtag_minutes_truncated() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $fn$
            BEGIN
                TRUNCATE hashtag_counts_minutely;
                RETURN NULL;
            END
            $fn$;
            \(ownersOnly("chirp_hashtag_minutes_truncated()"))
            CREATE TRIGGER tweet_hashtags_truncated AFTER TRUNCATE ON tweet_hashtags
                FOR EACH STATEMENT EXECUTE FUNCTION chirp_hashtag_minutes_truncated();
            """),
        // 8's trigger truncated the rollup, which fails when one TRUNCATE names both tables (the
        // rollup is then in use by the statement that fires the trigger): a DELETE empties it in
        // either case, and finds nothing left to delete in the second.
        Migration(version: 9, name: "the minute rollup emptied by DELETE when the facts are truncated", sql: """
            CREATE OR REPLACE FUNCTION chirp_hashtag_minutes_truncated() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $fn$
            BEGIN
                DELETE FROM hashtag_counts_minutely;
                RETURN NULL;
            END
            $fn$;
            \(ownersOnly("chirp_hashtag_minutes_truncated()"))
            """),
        // Tweets per minute, so the dashboard's count of the sliding hour reads whole minutes from
        // a rollup and only the hour's partial minutes from the facts (it counted the hour's facts:
        // seconds in a dense store). Kept by the database like 7's rollup, for every writer of
        // `tweets`: a statement's net change per minute, so an update that keeps every tweet's time
        // (a recompute under new category rules) touches no row of it. Writers take these rows
        // before the hashtag minutes: a loader's statement fires this trigger first, and a
        // recompute that moves tweets' times takes them before it deletes hashtag rows.
        Migration(version: 10, name: "tweets per minute, kept by the database", sql: """
            LOCK TABLE tweets IN SHARE ROW EXCLUSIVE MODE;
            CREATE TABLE tweet_counts_minutely (
                minute timestamptz PRIMARY KEY,
                count  bigint NOT NULL
            );
            INSERT INTO tweet_counts_minutely (minute, count)
            SELECT date_trunc('minute', created_at), count(*) FROM tweets GROUP BY 1;

            CREATE FUNCTION chirp_tweet_minutes() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $fn$
            BEGIN
                -- Rows are taken in minute order, as every writer of a rollup takes them.
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO tweet_counts_minutely AS r (minute, count)
                    SELECT date_trunc('minute', created_at), count(*) FROM added GROUP BY 1 ORDER BY 1
                    ON CONFLICT (minute) DO UPDATE SET count = r.count + EXCLUDED.count;
                    RETURN NULL;
                END IF;
                IF TG_OP = 'DELETE' THEN
                    INSERT INTO tweet_counts_minutely AS r (minute, count)
                    SELECT date_trunc('minute', created_at), -count(*) FROM removed GROUP BY 1 ORDER BY 1
                    ON CONFLICT (minute) DO UPDATE SET count = r.count + EXCLUDED.count;
                ELSE
                    INSERT INTO tweet_counts_minutely AS r (minute, count)
                    SELECT minute, sum(n) FROM (
                        SELECT date_trunc('minute', created_at) AS minute, 1 AS n FROM added
                        UNION ALL
                        SELECT date_trunc('minute', created_at), -1 FROM removed
                    ) c GROUP BY 1 HAVING sum(n) <> 0 ORDER BY 1
                    ON CONFLICT (minute) DO UPDATE SET count = r.count + EXCLUDED.count;
                END IF;
                DELETE FROM tweet_counts_minutely r
                WHERE r.minute IN (SELECT date_trunc('minute', created_at) FROM removed) AND r.count <= 0;
                RETURN NULL;
            END
            $fn$;
            ALTER FUNCTION chirp_tweet_minutes() SET TimeZone = 'UTC';
            \(ownersOnly("chirp_tweet_minutes()"))
            \(changeTriggers(on: "tweets", calling: "chirp_tweet_minutes()"))

            CREATE FUNCTION chirp_tweet_minutes_truncated() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $fn$
            BEGIN
                DELETE FROM tweet_counts_minutely;
                RETURN NULL;
            END
            $fn$;
            \(ownersOnly("chirp_tweet_minutes_truncated()"))
            CREATE TRIGGER tweets_truncated AFTER TRUNCATE ON tweets
                FOR EACH STATEMENT EXECUTE FUNCTION chirp_tweet_minutes_truncated();
            """),
        // Hashtags per 10 seconds, so a window's partial minutes read their whole 10-second slots
        // from a rollup and at most a partial slot at either end from the facts (a dense stream's
        // sliding hour read up to a minute of facts: 110 000 tweets at 2 000 tweets/s). Kept by
        // the same trigger as the minute rollup, after it: every writer takes minute rows before
        // slot rows, each in key order. Where a 10-second slot holds few repeats of a tag (a thin
        // stream, a wide vocabulary) it is nearly a row per hashtag use; `docs/schema.md` says so.
        Migration(version: 11, name: "hashtags per 10 seconds, kept by the database", sql: """
            LOCK TABLE tweet_hashtags IN SHARE ROW EXCLUSIVE MODE;
            CREATE TABLE hashtag_counts_10s (
                slot    timestamptz NOT NULL,
                tag_key text COLLATE "C" NOT NULL,
                tag     text NOT NULL,
                count   bigint NOT NULL,
                PRIMARY KEY (slot, tag_key)
            );
            INSERT INTO hashtag_counts_10s (slot, tag_key, tag, count)
            SELECT \(slotOf("created_at")), tag_key, min(tag), count(*) FROM tweet_hashtags GROUP BY 1, 2;

            CREATE OR REPLACE FUNCTION chirp_hashtag_minutes() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $fn$
            BEGIN
                -- Minute rows before 10-second rows.
                \(minuteRollup)
                \(hashtagRollup("hashtag_counts_10s", column: "slot", bucket: slotOf("created_at")))
                RETURN NULL;
            END
            $fn$;
            ALTER FUNCTION chirp_hashtag_minutes() SET TimeZone = 'UTC';
            \(ownersOnly("chirp_hashtag_minutes()"))

            CREATE OR REPLACE FUNCTION chirp_hashtag_minutes_truncated() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $fn$
            BEGIN
                DELETE FROM hashtag_counts_minutely;
                DELETE FROM hashtag_counts_10s;
                RETURN NULL;
            END
            $fn$;
            \(ownersOnly("chirp_hashtag_minutes_truncated()"))
            """),
        // The facts' time index (8) served the readers that asked `tweet_hashtags` by time alone:
        // the dashboard's partial minutes. Its top 10 now reads as `chirp trends` does, the
        // partial slots only for the tags that can still make the top, by the tag-then-time
        // index; so the index cost an entry per hashtag use (about 70 B, and its share of every
        // load) for nobody. A reader that still asks by time alone (a CLI older than 7, a Superset
        // given the datasets of an earlier version) scans instead. Dropping it waits for every
        // transaction using the table and holds up every one after it: it gives up after 10 s
        // rather than stall the loaders behind a long verify or dump (run `chirp migrate` again).
        Migration(version: 12, name: "hashtag facts without the time index", sql: """
            SET LOCAL lock_timeout = '10s';
            DROP INDEX IF EXISTS tweet_hashtags_time_idx;
            """),
        // Each hour's most used tags in order, which the top of a window reads first
        // (TrendQueries.topHashtags), so that it need not sum every tag of every minute.
        Migration(version: 13, name: "hashtags per hour indexed by count", sql: """
            SET LOCAL lock_timeout = '10s';
            CREATE INDEX IF NOT EXISTS hashtag_counts_hourly_top_idx ON hashtag_counts_hourly (hour, count DESC);
            """),
    ]

    /// The 10-second slot a time falls in (slots start at whole multiples of 10 s since the epoch,
    /// whatever the session's time zone).
    static func slotOf(_ time: String) -> String {
        "date_bin('10 seconds', \(time), timestamptz 'epoch')"
    }

    /// What migrations 7 and 11 keep `hashtag_counts_minutely` by (11 adds the slots after it).
    static let minuteRollup = hashtagRollup("hashtag_counts_minutely", column: "minute", bucket: "date_trunc('minute', created_at)")

    /// The part of a trigger on `tweet_hashtags` that keeps one hashtag rollup, keyed by
    /// (`column`, `tag_key`) with `column` = `bucket` (an expression of `created_at`), equal to
    /// the facts: what `removed` held is taken away (rows that reach zero go), what `added` holds
    /// is added, each in key order, as every writer of a rollup takes its rows.
    static func hashtagRollup(_ table: String, column: String, bucket: String) -> String {
        """
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            PERFORM 1 FROM \(table) r
            WHERE (r.\(column), r.tag_key) IN (SELECT \(bucket), tag_key FROM removed)
            ORDER BY r.\(column), r.tag_key FOR UPDATE;
            UPDATE \(table) r SET count = r.count - g.n
            FROM (SELECT \(bucket) AS b, tag_key, count(*) AS n FROM removed GROUP BY 1, 2) g
            WHERE r.\(column) = g.b AND r.tag_key = g.tag_key;
            DELETE FROM \(table) r
            USING (SELECT DISTINCT \(bucket) AS b, tag_key FROM removed) g
            WHERE r.\(column) = g.b AND r.tag_key = g.tag_key AND r.count <= 0;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO \(table) AS r (\(column), tag_key, tag, count)
            SELECT \(bucket), tag_key, min(tag), count(*) FROM added
            GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (\(column), tag_key) DO UPDATE SET count = r.count + EXCLUDED.count;
        END IF;
        """
    }

    /// For a function that runs as the schema's owner (SECURITY DEFINER): its search path pinned
    /// to the schema, so a caller cannot point the names it uses elsewhere, and nobody but the
    /// owner may call it directly (a trigger still fires it for every writer).
    static func ownersOnly(_ signature: String) -> String {
        """
        DO $m$
        BEGIN
            EXECUTE format('ALTER FUNCTION \(signature) SET search_path = %I, pg_temp', current_schema());
        END
        $m$;
        REVOKE EXECUTE ON FUNCTION \(signature) FROM PUBLIC;
        """
    }

    /// Statement triggers on `table` named after it, that hand `function` the rows a statement
    /// inserted (`added`), deleted (`removed`), or updated (both).
    static func changeTriggers(on table: String, calling function: String) -> String {
        """
        CREATE TRIGGER \(table)_added AFTER INSERT ON \(table)
            REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION \(function);
        CREATE TRIGGER \(table)_removed AFTER DELETE ON \(table)
            REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION \(function);
        CREATE TRIGGER \(table)_changed AFTER UPDATE ON \(table)
            REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION \(function);
        """
    }

    /// Serializes creating and dropping raw partitions.
    public static let rawPartitionLockKey: Int64 = 0x4348_4952_5052  // "CHIRPR"

    /// What the two other roles may do, when they exist (deploy/postgres/roles.sql makes them).
    /// `chirp_writer`, the loader, adds rows: facts, raw payloads, rollup and offset upserts, the
    /// partition functions; it cannot delete or rewrite a stored tweet, nor read raw payloads.
    /// `chirp_reader` (the CLI's questions, Superset) reads facts and rollups, nothing else: no raw
    /// payloads, no consumer offsets. Everything else stays the owner's. Applied after every
    /// migration run, from scratch (what was granted before is revoked first), so the privileges
    /// are these whatever an older version granted; tables created later (raw partitions) are
    /// reached through their parent, which needs no privilege of its own.
    public static let grants = """
        DO $grants$
        DECLARE
            schema_name text := quote_ident(current_schema());
            role_name text;
        BEGIN
            FOREACH role_name IN ARRAY ARRAY['chirp_writer', 'chirp_reader'] LOOP
                CONTINUE WHEN NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name);
                EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %s FROM %I', schema_name, role_name);
                EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA %s FROM %I', schema_name, role_name);
                EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %s REVOKE ALL ON TABLES FROM %I', schema_name, role_name);
                EXECUTE format('GRANT USAGE ON SCHEMA %s TO %I', schema_name, role_name);
            END LOOP;
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'chirp_writer') THEN
                GRANT SELECT ON chirp_migrations TO chirp_writer;
                GRANT SELECT, INSERT ON tweets TO chirp_writer;
                GRANT INSERT ON tweet_hashtags, raw_tweets, raw_documents TO chirp_writer;
                GRANT SELECT, INSERT, UPDATE ON hashtag_counts_hourly, category_counts_minutely, language_counts_hourly, kafka_offsets TO chirp_writer;
                GRANT EXECUTE ON FUNCTION chirp_raw_partition(date), chirp_drop_raw_partitions(interval) TO chirp_writer;
            END IF;
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'chirp_reader') THEN
                GRANT SELECT ON tweets, tweet_hashtags, hashtag_counts_hourly, hashtag_counts_minutely, hashtag_counts_10s, category_counts_minutely,
                                 language_counts_hourly, tweet_counts_minutely TO chirp_reader;
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
