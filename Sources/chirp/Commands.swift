import ChirpCore
import ChirpPostgres
import ChirpRules
import ChirpService
import ChirpStore
import Foundation

enum Commands {
    static let barWidth = 30

    // MARK: trends

    static let trends = Command(
        name: "trends", summary: "Top hashtags in a window (sliding, exact), or per hour with --hourly.",
        specs: SharedOptions.question + SharedOptions.window + [
            OptionSpec("top", env: "CHIRP_TOP", default: "10", help: "How many hashtags (per hour with --hourly)."),
            .switch("hourly", env: "CHIRP_HOURLY", help: "Hour by hour (clock hours; default window --last 24h) with a bar chart per hour."),
        ]
    ) { options in
        let question = try Question(options)
        let top = try options.int("top")
        guard (1...1000).contains(top) else { throw CLIError.usage("--top must be between 1 and 1000") }
        if try options.bool("hourly") {
            try hourly(question, top: top)
        } else {
            try topHashtags(question, top: top)
        }
    }

    static func topHashtags(_ question: Question, top: Int) throws {
        let window = try question.window(defaultLast: "1h")
        let connection = try question.connect()
        let rows = try Session.run(connection, TrendQueries.topHashtags(window, limit: top))
        let entries = (0..<rows.rows.count).map { (tag: rows.string($0, "tag"), key: rows.string($0, "tag_key"), count: rows.int($0, "count")) }
        if question.json {
            question.print(json: object(question.header(window) + [
                ("hashtags", .array(entries.enumerated().map { index, entry in
                    object([("rank", number(Int64(index + 1))), ("tag", .string(entry.tag)), ("key", .string(entry.key)), ("count", number(entry.count))])
                })),
            ]))
        }
        guard !entries.isEmpty else { throw CLIError.empty(question.emptyMessage("hashtags", window, connection)) }
        guard !question.json else { return }
        print("Top \(top) hashtags, \(window.describe(in: question.zone))\n")
        let maxCount = entries.map(\.count).max() ?? 0
        print(Report.table(["#", "hashtag", "count", ""], entries.enumerated().map { index, entry in
            [String(index + 1), "#" + entry.tag, Report.number(entry.count), Report.bar(entry.count, max: maxCount, width: barWidth)]
        }, rightAligned: [0, 2]))
    }

    static func hourly(_ question: Question, top: Int) throws {
        let window = try question.window(defaultLast: "24h")
        let connection = try question.connect()
        let rows = try Session.run(connection, TrendQueries.hourlyTopHashtags(window, limit: top))
        var hours: [(hour: Int64, total: Int64, tags: [(tag: String, key: String, count: Int64)])] = []
        for index in 0..<rows.rows.count {
            let hour = rows.int(index, "hour_ms")
            if hours.last?.hour != hour { hours.append((hour, rows.int(index, "hour_total"), [])) }
            hours[hours.count - 1].tags.append((rows.string(index, "tag"), rows.string(index, "tag_key"), rows.int(index, "count")))
        }
        if question.json {
            question.print(json: object(question.header(window) + [
                ("hours", .array(hours.map { hour in
                    object([
                        ("hour", .string(Timestamp(millisecondsSinceEpoch: hour.hour).iso8601)), ("local", .string(question.local(hour.hour))),
                        ("total", number(hour.total)),
                        ("hashtags", .array(hour.tags.enumerated().map { index, entry in
                            object([("rank", number(Int64(index + 1))), ("tag", .string(entry.tag)), ("key", .string(entry.key)), ("count", number(entry.count))])
                        })),
                    ])
                })),
            ]))
        }
        guard !hours.isEmpty else { throw CLIError.empty(question.emptyMessage("hashtags", window, connection)) }
        guard !question.json else { return }
        print("Top \(top) hashtags per hour, \(window.describe(in: question.zone))")
        let maxCount = hours.flatMap { $0.tags.map(\.count) }.max() ?? 0
        for hour in hours {
            print("\n\(question.local(hour.hour))  (\(Report.number(hour.total)) hashtags)")
            let table = Report.table(["#", "hashtag", "count", ""], hour.tags.enumerated().map { index, entry in
                [String(index + 1), "#" + entry.tag, Report.number(entry.count), Report.bar(entry.count, max: maxCount, width: barWidth)]
            }, rightAligned: [0, 2])
            print(table.split(separator: "\n").dropFirst(2).map { "  " + $0 }.joined(separator: "\n"))
        }
    }

    // MARK: categories

    static let categories = Command(
        name: "categories", summary: "Tweets per category per minute or hour.",
        specs: SharedOptions.question + SharedOptions.window + [
            OptionSpec("by", env: "CHIRP_BY", default: "minute", help: "Bucket: minute or hour."),
        ]
    ) { options in
        let question = try Question(options)
        guard let bucket = TrendQueries.Bucket(rawValue: options.string("by") ?? "") else { throw CLIError.usage("--by must be minute or hour") }
        let window = try question.window(defaultLast: bucket == .minute ? "1h" : "24h")
        let connection = try question.connect()
        let rows = try Session.run(connection, TrendQueries.categories(window, by: bucket))
        var buckets: [(start: Int64, counts: [(String, Int64)])] = []
        var totals: [String: Int64] = [:]
        for index in 0..<rows.rows.count {
            let start = rows.int(index, "bucket_ms"), category = rows.string(index, "category"), count = rows.int(index, "count")
            if buckets.last?.start != start { buckets.append((start, [])) }
            buckets[buckets.count - 1].counts.append((category, count))
            totals[category, default: 0] += count
        }
        if question.json {
            question.print(json: object(question.header(window) + [
                ("by", .string(bucket.rawValue)),
                ("buckets", .array(buckets.map { entry in
                    object([("start", .string(Timestamp(millisecondsSinceEpoch: entry.start).iso8601)), ("local", .string(question.local(entry.start))),
                            ("counts", object(entry.counts.map { ($0.0, number($0.1)) }))])
                })),
            ]))
        }
        guard !buckets.isEmpty else { throw CLIError.empty(question.emptyMessage("categorized tweets", window, connection)) }
        guard !question.json else { return }
        let columns = totals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        print("Tweets per category per \(bucket.rawValue), \(window.describe(in: question.zone))\n")
        var tableRows = buckets.map { entry in
            [question.local(entry.start)] + columns.map { column in Report.number(entry.counts.first { $0.0 == column }?.1 ?? 0) }
        }
        tableRows.append(["total"] + columns.map { Report.number(totals[$0] ?? 0) })
        print(Report.table([bucket.rawValue] + columns, tableRows, rightAligned: Set(1...columns.count)))
    }

    // MARK: languages, totals

    static let languages = Command(
        name: "languages", summary: "Tweets per language (whole hours overlapping the window).",
        specs: SharedOptions.question + SharedOptions.window
    ) { options in
        let question = try Question(options)
        let window = try question.window(defaultLast: "24h")
        let connection = try question.connect()
        let rows = try Session.run(connection, TrendQueries.languages(window))
        let entries = (0..<rows.rows.count).map { (lang: rows.string($0, "lang"), count: rows.int($0, "count")) }
        if question.json {
            question.print(json: object(question.header(window) + [
                ("languages", .array(entries.map { object([("lang", .string($0.lang)), ("count", number($0.count))]) })),
            ]))
        }
        guard !entries.isEmpty else { throw CLIError.empty(question.emptyMessage("tweets", window, connection)) }
        guard !question.json else { return }
        let total = entries.reduce(0) { $0 + $1.count }
        let maxCount = entries.map(\.count).max() ?? 0
        print("Tweets per language, \(window.describe(in: question.zone))\n")
        print(Report.table(["lang", "tweets", "share", ""], entries.map { entry in
            [entry.lang, Report.number(entry.count), String(format: "%.1f%%", Double(entry.count) * 100 / Double(max(total, 1))),
             Report.bar(entry.count, max: maxCount, width: barWidth)]
        }, rightAligned: [1, 2]))
    }

    static let totals = Command(
        name: "totals", summary: "Tweets and hashtags in the window (whole hours) and the store's extent.",
        specs: SharedOptions.question + SharedOptions.window
    ) { options in
        let question = try Question(options)
        let window = try question.window(defaultLast: "24h")
        let connection = try question.connect()
        let rows = try Session.run(connection, TrendQueries.totals(window))
        let tweets = rows.int(0, "tweets"), hashtags = rows.int(0, "hashtags"), distinct = rows.int(0, "distinct_hashtags")
        let first = rows[0, "first_ms"].flatMap { Int64($0) }, last = rows[0, "last_ms"].flatMap { Int64($0) }
        let loaded = rows[0, "loaded_ms"].flatMap { Int64($0) }
        func time(_ ms: Int64?) -> JSONValue { ms.map { .string(Timestamp(millisecondsSinceEpoch: $0).iso8601) } ?? .null }
        if question.json {
            question.print(json: object(question.header(window) + [
                ("tweets", number(tweets)), ("hashtags", number(hashtags)), ("distinct_hashtags", number(distinct)),
                ("first_tweet", time(first)), ("last_tweet", time(last)), ("last_loaded", time(loaded)),
            ]))
        }
        guard tweets > 0 else { throw CLIError.empty(question.emptyMessage("tweets", window, connection)) }
        guard !question.json else { return }
        print("Totals, \(window.describe(in: question.zone))\n")
        print(Report.table(["", ""], [
            ["tweets", Report.number(tweets)], ["hashtags", Report.number(hashtags)], ["distinct hashtags", Report.number(distinct)],
            ["first tweet in store", first.map(question.local) ?? "-"], ["last tweet in store", last.map(question.local) ?? "-"],
            ["last loaded", loaded.map(question.local) ?? "-"],
        ], rightAligned: [1]).split(separator: "\n").dropFirst(2).joined(separator: "\n"))
    }

    // MARK: tail

    static let tail = Command(
        name: "tail", summary: "Categorized tweets as they are loaded (follows until interrupted).",
        specs: [SharedOptions.readerURL, SharedOptions.tz, SharedOptions.json, SharedOptions.now,
                OptionSpec("since", env: "CHIRP_SINCE", default: "now", help: "Show tweets loaded after this time (default: only new ones)."),
                OptionSpec("count", env: "CHIRP_COUNT", default: "0", help: "Stop after this many tweets (0: follow forever)."),
                OptionSpec("interval-ms", env: "CHIRP_INTERVAL_MS", default: "1000", help: "How often to look for new tweets.")]
    ) { options in
        let question = try Question(options)
        let since = try TimeExpression.instant(options.string("since") ?? "now", now: question.now, zone: question.zone)
        let limit = try options.int("count")
        let interval = max(50, try options.int("interval-ms"))
        let connection = try question.connect()
        var afterUs = since.millisecondsSinceEpoch * 1000
        var afterId = ""
        var shown = 0
        let out = FileHandle.standardOutput
        while limit == 0 || shown < limit {
            let rows = try Session.run(connection, TrendQueries.tail(afterMicroseconds: afterUs, afterId: afterId, limit: 500))
            for index in 0..<rows.rows.count where limit == 0 || shown < limit {
                afterUs = rows.int(index, "loaded_us")
                afterId = rows.string(index, "id")
                shown += 1
                let created = rows.int(index, "created_ms")
                let categories = rows.string(index, "categories"), hashtags = rows.string(index, "hashtags")
                if question.json {
                    out.write(Data((String(decoding: object([
                        ("id", .string(afterId)), ("created_at", .string(Timestamp(millisecondsSinceEpoch: created).iso8601)),
                        ("lang", rows[index, "lang"].map(JSONValue.string) ?? .null), ("author", rows[index, "author"].map(JSONValue.string) ?? .null),
                        ("categories", .array(categories.split(separator: ",").map { .string(String($0)) })),
                        ("hashtags", .array(hashtags.split(separator: ",").map { .string(String($0)) })),
                        ("text", .string(rows.string(index, "text"))),
                    ]).serialized, as: UTF8.self) + "\n").utf8))
                } else {
                    let text = rows.string(index, "text").replacingOccurrences(of: "\n", with: " ")
                    let tags = hashtags.isEmpty ? "" : " " + hashtags.split(separator: ",").map { "#" + $0 }.joined(separator: " ")
                    out.write(Data("\(question.local(created))  [\(categories)]\(tags)  \(rows[index, "author"].map { "@" + $0 + ": " } ?? "")\(text.prefix(160))\n".utf8))
                }
            }
            if rows.rows.isEmpty { Thread.sleep(forTimeInterval: Double(interval) / 1000) }
        }
    }

    // MARK: recompute, verify, migrate

    static let recompute = Command(
        name: "recompute", summary: "Re-derive facts and rollups since a time from the raw payloads with the current rules.",
        specs: [SharedOptions.ownerURL, SharedOptions.tz, SharedOptions.json, SharedOptions.now,
                OptionSpec("since", env: "RECOMPUTE_SINCE", default: "", help: "Re-derive tweets whose event time is at or after this (required)."),
                RuleOptions.categoriesFile,
                RuleOptions.maxPayloadBytes("Payloads larger than this are reported, not re-derived."),
                OptionSpec("batch-size", env: "RECOMPUTE_BATCH_SIZE", default: "5000", help: "Tweets per transaction.")]
    ) { options in
        let question = try Question(options)
        guard let sinceText = options.string("since"), !sinceText.isEmpty else { throw CLIError.usage("--since is required (for example --since '2026-11-16 00:00' or --since 24h ago)") }
        let since = try TimeExpression.instant(sinceText, now: question.now, zone: question.zone)
        let batchSize = try options.int("batch-size")
        guard (1...100_000).contains(batchSize) else { throw CLIError.usage("--batch-size must be between 1 and 100000") }
        let enricher = Enricher(table: try CategoryFile.load(path: options.string("categories-file") ?? ""))
        let store = try Session.store(options.string("postgres-url") ?? "")
        let privileges = try Session.run(store.connection, Query(sql: "SELECT has_table_privilege('tweets', 'UPDATE') AND has_table_privilege('tweet_hashtags', 'DELETE') AND has_table_privilege('raw_tweets', 'SELECT') AS ok", parameters: []))
        guard privileges[0, "ok"] == "t" else {
            throw CLIError.database("recompute rewrites facts and rollups: connect as the schema's owner (--postgres-url / POSTGRES_OWNER_URL)")
        }
        let started = ContinuousClock.now
        var lastReport = started
        let stderr = FileHandle.standardError
        stderr.write(Data("recompute: tweets since \(LocalDateTime(since, in: question.zone)) \(question.zone.identifier), rules \(HashtagExtractor.version) / \(enricher.matcher.version)\n".utf8))
        let maxPayload = try options.int("max-payload-bytes")
        let result: RecomputeProgress
        do throws(PostgresError) {
            result = try store.recompute(since: since, enricher: enricher, batchSize: batchSize, maximumPayloadBytes: maxPayload) { state in
                guard ContinuousClock.now - lastReport >= .seconds(1) || state.read == state.total else { return }
                lastReport = ContinuousClock.now
                let percent = state.total > 0 ? Double(state.read) * 100 / Double(state.total) : 100
                stderr.write(Data("recompute: \(state.read)/\(state.total) raw payloads (\(String(format: "%.0f", percent))%), \(state.updated) tweets rewritten\n".utf8))
            }
        } catch {
            throw Session.explain(error)
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if question.json {
            question.print(json: object([
                ("since", .string(since.iso8601)), ("raw_payloads", number(Int64(result.read))), ("rewritten", number(Int64(result.updated))),
                ("undecodable", .array(result.undecodable.map { object([("id", .string($0.id)), ("reason", .string($0.reason))]) })),
                ("without_raw", number(Int64(result.withoutRaw))), ("seconds", .number(String(format: "%.3f", seconds))),
                ("category_rules", .string(enricher.matcher.version)),
            ]))
        } else {
            print("recomputed \(result.updated) tweets from \(result.read) raw payloads in \(String(format: "%.1f", seconds)) s (category rules \(enricher.matcher.version))")
            if !result.undecodable.isEmpty {
                print("\(result.undecodable.count) raw payloads no longer decode and were left as they are, for example:")
                for entry in result.undecodable.prefix(5) { print("  \(entry.id): \(entry.reason)") }
            }
            if result.withoutRaw > 0 { print("\(result.withoutRaw) tweets since then have no raw payload (loaded before raw data was kept, or past the retention) and were left as they are") }
        }
    }

    static let verify = Command(
        name: "verify", summary: "Check every rollup against a from-scratch aggregation of the facts (exit 1 if any differs).",
        specs: [SharedOptions.readerURL, SharedOptions.json]
    ) { options in
        let connection = try Session.connect(options.string("postgres-url") ?? "", readOnly: true)
        var results: [(String, Int64)] = []
        for (rollup, sql) in RollupCheck.statements {
            let rows = try Session.run(connection, Query(sql: sql, parameters: []))
            results.append((rollup, rows.int(0, "mismatches")))
        }
        if try options.bool("json") {
            Swift.print(String(decoding: object(results.map { ($0.0, number($0.1)) }).serialized, as: UTF8.self))
        } else {
            for (rollup, mismatches) in results { print("\(rollup): \(mismatches == 0 ? "ok" : "\(mismatches) rows differ")") }
        }
        let bad = results.filter { $0.1 > 0 }
        if !bad.isEmpty { throw CLIError.database("rollups differ from the facts: \(bad.map { "\($0.0) (\($0.1))" }.joined(separator: ", "))") }
    }

    static let migrate = Command(
        name: "migrate", summary: "Apply pending schema migrations and the other roles' grants, as the schema's owner (loaders wait for it).",
        specs: [SharedOptions.ownerURL]
    ) { options in
        let store = try Session.store(options.string("postgres-url") ?? "")
        do throws(PostgresError) {
            let applied = try store.migrate()
            print("schema version \(try store.schemaVersion())" + (applied.isEmpty ? " (up to date)" : "; applied \(applied.map(String.init).joined(separator: ", "))"))
        } catch {
            throw Session.explain(error)
        }
    }
}
