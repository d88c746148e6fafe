import ChirpCore
import ChirpService

// Options about tweets and their payloads, shared by the services that read them. They live here,
// not in ChirpService, which is the runtime every service shares and knows nothing of tweets.

/// How many tweets one payload may yield.
public enum PayloadOptions {
    /// 500 is the largest page the v2 API serves (full-archive search); every tweet of a page
    /// becomes a record of its own, so the limit bounds what one payload can put through Kafka.
    public static let maxTweetsPerPayload = OptionSpec(
        "max-tweets-per-payload", env: "MAX_TWEETS_PER_PAYLOAD", default: "500",
        help: "A v2 page or record with more tweets is a dead letter (reason too_many_tweets).")
}

/// How a tweets file is read (sender and `chirp-categorizer classify`).
public enum InputOptions {
    public static let specs: [OptionSpec] = [
        OptionSpec("format", env: "TWEETS_FORMAT", default: "auto", help: "json, csv, or auto (csv for a .csv file name)."),
        OptionSpec("id-column", env: "CSV_ID_COLUMN", default: "id", help: "CSV: header of the tweet id column."),
        OptionSpec("text-column", env: "CSV_TEXT_COLUMN", default: "text", help: "CSV: header of the text column."),
        OptionSpec("time-column", env: "CSV_TIME_COLUMN", default: "created_at", help: "CSV: header of the time column (ISO 8601 or Twitter style), used when present."),
        OptionSpec("lang-column", env: "CSV_LANG_COLUMN", default: "lang", help: "CSV: header of the language column, used when present."),
        OptionSpec("author-column", env: "CSV_AUTHOR_COLUMN", default: "author", help: "CSV: header of the author column, used when present."),
    ]

    /// The reader for `path` as configured.
    public static func reader(_ options: ParsedOptions, path: String, maximumBytes: Int? = nil) throws(UsageError) -> TweetInputReader {
        let name = options.string("format") ?? "auto"
        guard let format = TweetInputReader.format(named: name, path: path) else {
            throw UsageError("--format must be json, csv or auto, got '\(name)'")
        }
        let mapping = CSVMapping(
            idColumn: try options.required("id-column"), textColumn: try options.required("text-column"),
            timeColumn: options.string("time-column"), langColumn: options.string("lang-column"),
            authorColumn: options.string("author-column"))
        return TweetInputReader(format: format, csvMapping: mapping, maximumBytes: maximumBytes)
    }
}
