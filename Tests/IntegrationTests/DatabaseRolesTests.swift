import ChirpCore
import ChirpPostgres
import ChirpService
import ChirpStore
import Foundation
import Testing

/// The local stack's PostgreSQL, tried as each role and as an outsider: nobody logs in without
/// the role's password, the loader's role only adds rows, the reader only reads facts and
/// rollups, and a reader's runaway query is stopped.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DatabaseRolesTests {
    /// The statement's SQLSTATE, or "ok".
    static func outcome(_ connection: PostgresConnection, _ sql: String) -> String {
        do {
            try connection.execute(sql)
            return "ok"
        } catch {
            return error.sqlState ?? "no state: \(error.message)"
        }
    }

    @Test func eachRoleDoesItsPartOnly() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let writerStore = try AnalyticsStore(url: stack.postgresURL)
        var batch = TweetBatch()
        let raw = RawPayload(bytes: Array(#"{"id":"r1","text":"a #test"}"#.utf8), receivedAt: Timestamp(parsing: "2026-12-01T10:00:00Z")!,
                             topic: "tweets.raw", partition: 0, offset: 0)
        let tweet = Tweet(id: "r1", createdAt: Timestamp(parsing: "2026-12-01T10:00:00Z"), text: "a #test", format: .minimal)
        batch.append(Enricher().enrich(tweet, fallbackTime: Timestamp(millisecondsSinceEpoch: 0)),
                     provenance: LoadProvenance(topic: "tweets.enriched", partition: 0, offset: 0, publishedAt: nil, raw: raw))
        #expect(try writerStore.load(batch, consumerGroup: "g") == 1, "the loader's role loads a batch with its raw payload")

        // The reader: a runaway query is cancelled by the role's statement timeout (30 s); the
        // other checks run meanwhile on connections of their own.
        let runaway = try PostgresConnection(stack.environment["CHIRP_POSTGRES_URL"]!)
        try runaway.send("SELECT pg_sleep(120)")

        let reader = try PostgresConnection(stack.environment["CHIRP_POSTGRES_URL"]!)
        #expect(try reader.tweetCount() == 1)
        for table in ["tweet_hashtags", "hashtag_counts_hourly", "category_counts_minutely", "language_counts_hourly"] {
            #expect(Self.outcome(reader, "SELECT count(*) FROM \(table)") == "ok", "reader reads \(table)")
        }
        for table in ["kafka_offsets", "raw_tweets", "raw_documents", "raw_tweets_20261201", "chirp_migrations"] {
            #expect(Self.outcome(reader, "SELECT count(*) FROM \(table)") == "42501", "reader reads \(table)")
        }
        // Read-only transactions first; a reader that turns them off meets the missing privileges.
        #expect(Self.outcome(reader, "DELETE FROM tweets") == "25006")
        try reader.execute("SET default_transaction_read_only = off")
        for sql in ["DELETE FROM tweets", "UPDATE tweets SET text = ''", "INSERT INTO tweets (id) VALUES ('x')",
                    "UPDATE hashtag_counts_hourly SET count = 0", "TRUNCATE tweets", "CREATE TABLE mine (x int)",
                    "SELECT chirp_drop_raw_partitions('0 days')", "SELECT chirp_raw_partition('2030-01-01')",
                    // Holding the lock the partition functions and migrations take would stall every loader.
                    "SELECT pg_advisory_lock(\(Migrations.rawPartitionLockKey))", "SELECT pg_try_advisory_lock(\(Migrations.advisoryLockKey))",
                    "SELECT pg_advisory_lock_shared(1, 2)", "SELECT lo_from_bytea(0, 'x')", "SELECT lo_create(0)"] {
            #expect(Self.outcome(reader, sql) == "42501", "reader: \(sql)")
        }
        #expect(try reader.execute("SHOW temp_file_limit")[0, "temp_file_limit"] == "1GB")

        // The loader's role: no schema changes, no deletes or rewrites of stored tweets, no raw
        // payloads read back; the partition functions run as their owner, on their own search path.
        let writer = try PostgresConnection(stack.postgresURL)
        for sql in ["DROP TABLE tweets", "ALTER TABLE tweets ADD COLUMN x int", "CREATE TABLE mine (x int)", "TRUNCATE raw_tweets",
                    "DELETE FROM tweets", "UPDATE tweets SET text = ''", "DELETE FROM tweet_hashtags", "SELECT count(*) FROM raw_tweets",
                    "SELECT count(*) FROM raw_documents", "DROP TABLE raw_tweets_20261201",
                    "DELETE FROM kafka_offsets"] {
            #expect(Self.outcome(writer, sql) == "42501", "writer: \(sql)")
        }
        for sql in ["SELECT pg_advisory_lock(\(Migrations.rawPartitionLockKey))", "SELECT pg_advisory_xact_lock(\(Migrations.advisoryLockKey))",
                    "SELECT lo_from_bytea(0, 'x')"] {
            #expect(Self.outcome(writer, sql) == "42501", "writer: \(sql)")
        }
        // The functions themselves are bounded: no partitions for days that cannot come yet or
        // before 2000 (each costs locks in every query over all of them), no drop of the last day.
        for sql in ["SELECT chirp_raw_partition((now() AT TIME ZONE 'UTC')::date + 2)", "SELECT chirp_raw_partition('1999-12-31')",
                    "SELECT chirp_raw_partition('12345-06-07')", "SELECT chirp_drop_raw_partitions('0 days')",
                    "SELECT chirp_drop_raw_partitions('-1 day')", "SELECT chirp_drop_raw_partitions('23 hours')"] {
            #expect(Self.outcome(writer, sql) == "22023", "writer: \(sql)")
        }
        // A batch with one raw day the function refuses (a bridge clock days ahead): that row
        // alone is refused when the loader goes row by row; the others load.
        var mixed = TweetBatch()
        let now = Timestamp.now.millisecondsSinceEpoch
        let aheads: [Int64] = [0, 3 * 86_400_000, 0]
        for (index, ahead) in aheads.enumerated() {
            let at = Timestamp(millisecondsSinceEpoch: now + ahead)
            let raw = RawPayload(bytes: Array(#"{"id":"m\#(index)"}"#.utf8), receivedAt: at, topic: "tweets.raw", partition: 1, offset: Int64(index))
            let tweet = Tweet(id: "m\(index)", createdAt: Timestamp(millisecondsSinceEpoch: now), text: "mixed #day", format: .minimal)
            mixed.append(Enricher().enrich(tweet, fallbackTime: Timestamp(millisecondsSinceEpoch: 0)),
                         provenance: LoadProvenance(topic: "tweets.enriched", partition: 1, offset: Int64(index), publishedAt: nil, raw: raw))
        }
        #expect { try writerStore.load(mixed, consumerGroup: "g") } throws: { ($0 as? PostgresError)?.sqlState == "22023" }
        let rows = try writerStore.loadRowByRow(mixed, consumerGroup: "g")
        #expect(rows.inserted == 2 && rows.refused.map(\.id) == ["m1"], "\(rows.inserted) inserted, refused \(rows.refused.map(\.id))")

        try writer.execute("SET search_path = pg_temp, public")
        #expect(Self.outcome(writer, "SELECT chirp_raw_partition((now() AT TIME ZONE 'UTC')::date + 1)") == "ok")
        let made = try PostgresConnection(stack.ownerURL).execute("""
            SELECT tableowner FROM pg_tables WHERE tablename = 'raw_tweets_' || to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYYMMDD')
            """)
        #expect(made[0, "tableowner"] == "chirp")
        let functions = try writer.execute("""
            SELECT count(*) FILTER (WHERE prosecdef AND array_to_string(proconfig, ',') LIKE 'search_path=public, pg_temp%') AS fixed,
                   count(*) AS total
            FROM pg_proc WHERE proname IN ('chirp_raw_partition', 'chirp_drop_raw_partitions')
            """)
        #expect(functions[0, "fixed"] == "2" && functions[0, "total"] == "2")

        // Nobody logs in without the role's password.
        let port = try stack.postgresPort
        let readerPassfile = stack.secretFile("chirp_reader.pgpass").path
        for (url, expected) in [("postgresql://chirp@127.0.0.1:\(port)/chirp?passfile=/dev/null", "no password supplied"),
                                ("postgresql://chirp_reader@127.0.0.1:\(port)/postgres?passfile=\(readerPassfile)", "permission denied for database"),
                                ("postgresql://postgres:guess@127.0.0.1:\(port)/chirp", "password authentication failed"),
                                ("postgresql://chirp_reader:guess@127.0.0.1:\(port)/chirp", "password authentication failed")] {
            #expect { try PostgresConnection(url) } throws: { ($0 as? PostgresError)?.message.contains(expected) == true }
        }
        let limits = try writer.execute("""
            SELECT string_agg(rolname || '=' || rolconnlimit, ',' ORDER BY rolname) AS limits,
                   bool_or(rolsuper OR rolcreaterole OR rolcreatedb) AS powerful
            FROM pg_roles WHERE rolname IN ('chirp', 'chirp_writer', 'chirp_reader')
            """)
        #expect(limits[0, "limits"] == "chirp=8,chirp_reader=20,chirp_writer=32")
        #expect(limits[0, "powerful"] == "f")
        for name in ["postgres", "chirp", "chirp_writer", "chirp_reader"] {
            for file in [name, "\(name).pgpass"] {
                let path = stack.secretFile(file).path
                let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
            }
        }

        #expect { try runaway.awaitResults() } throws: { ($0 as? PostgresError)?.sqlState == "57014" }
    }

    /// A loader started before the schema waits for it, not ready, and loads once `chirp migrate`
    /// (as the owner) has run; it never migrates itself.
    @Test func theLoaderWaitsForTheOwnersMigration() throws {
        let stack = try LocalStack(migrated: false)
        defer { stack.stop() }
        let loader = try ServiceProcess("chirp-loader", stack: stack)
        defer { _ = loader.stop() }
        try loader.waitForHTTP()
        try eventually(timeout: .seconds(20), "the loader says what it waits for") {
            loader.logText.contains("this loader needs \(Migrations.latestVersion): run `chirp migrate` as the schema's owner")
        }
        #expect(try loader.get("/readyz").status == 503)
        let migrated = try run(try Paths.binary("chirp"), ["migrate"], environment: stack.environment)
        #expect(migrated.status == 0 && migrated.output.contains("schema version \(Migrations.latestVersion)"), "\(migrated.output)")
        try loader.waitUntilReady()
        #expect(loader.logText.contains("database ready"))
    }

    /// TLS to PostgreSQL with the server's name checked (`sslmode=verify-full`), as a
    /// deployment across hosts would use it: the loader loads over it; a host name the
    /// certificate does not hold, or a CA that did not sign it, is refused.
    @Test func connectionsCanBeEncryptedWithTheServersNameChecked() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let ca = stack.environment["STACK_CA_FILE"]!
        let port = try stack.postgresPort
        let passfile = stack.secretFile("chirp_writer.pgpass").path
        func url(host: String, rootCertificate: String) -> String {
            "postgresql://chirp_writer@\(host):\(port)/chirp?passfile=\(passfile)&sslmode=verify-full&sslrootcert=\(rootCertificate)"
        }
        let encrypted = try PostgresConnection(url(host: "localhost", rootCertificate: ca))
        let session = try encrypted.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        #expect(session[0, "ssl"] == "t" && session[0, "version"]?.hasPrefix("TLSv1.") == true, "\(session[0, "version"] ?? "none")")
        #expect { try PostgresConnection(url(host: "127.0.0.1", rootCertificate: ca)) } throws: {
            ($0 as? PostgresError)?.message.contains("does not match host name \"127.0.0.1\"") == true
        }
        #expect { try PostgresConnection(url(host: "localhost", rootCertificate: "/etc/ssl/certs/ca-certificates.crt")) } throws: {
            ($0 as? PostgresError)?.message.contains("certificate verify failed") == true
        }

        let (bridge, categorizer, loader) = try stack.startPipeline(loader: ["POSTGRES_URL": url(host: "localhost", rootCertificate: ca)])
        let services = [bridge, categorizer, loader]
        defer { for service in services { _ = service.stop() } }
        let input = stack.state.appendingPathComponent("input.jsonl").path
        let sender = try Paths.binary("chirp-sender")
        #expect(try run(sender, ["generate", "--count", "300", "--seed", "9", "--output", input]).status == 0)
        #expect(try run(sender, ["--file", input, "--http-port", "0"], environment: stack.environment).status == 0)
        let database = try PostgresConnection(stack.ownerURL)
        try eventually(timeout: .seconds(60), "300 tweets loaded over TLS") { try database.tweetCount() == 300 }
        let loaderSessions = try PostgresConnection(stack.environment["POSTGRES_ADMIN_URL"]!).execute("""
            SELECT count(*) FILTER (WHERE s.ssl) AS encrypted, count(*) AS total
            FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'chirp_writer'
            """)
        #expect(loaderSessions[0, "encrypted"] == loaderSessions[0, "total"] && loaderSessions[0, "total"] != "0")
    }
}
