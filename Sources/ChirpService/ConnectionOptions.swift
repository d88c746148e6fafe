import ChirpCore

/// Options that several services share, defined once so that flags, variables, defaults and help
/// texts are the same everywhere (and in `docker-compose.yml`).
public enum ConnectionOptions {
    /// MQTT broker address, topic and credentials. `clientIdEnv` differs per service, since a
    /// client id must be unique on the broker.
    public static func mqtt(topicHelp: String, clientIdEnv: String, clientIdHelp: String) -> [OptionSpec] {
        [
            OptionSpec("mqtt-host", env: "MQTT_HOST", default: "127.0.0.1", help: "MQTT broker host."),
            OptionSpec("mqtt-port", env: "MQTT_PORT", default: "1883", help: "MQTT broker port."),
            OptionSpec("mqtt-topic", env: "MQTT_TOPIC", default: "tweets", help: topicHelp),
            OptionSpec("mqtt-client-id", env: clientIdEnv, default: "", help: clientIdHelp),
            OptionSpec("mqtt-username", env: "MQTT_USERNAME", default: "", help: "MQTT user name (optional)."),
            .secret("mqtt-password", env: "MQTT_PASSWORD", default: "", help: "MQTT password (with --mqtt-username)."),
        ]
    }

    public static let kafkaBrokers = OptionSpec("kafka-brokers", env: "KAFKA_BROKERS", default: "127.0.0.1:9092", help: "Kafka bootstrap servers (host:port,…).")

    public static let kafkaLinger = OptionSpec("kafka-linger-ms", env: "KAFKA_LINGER_MS", default: "20", help: "Producer batching delay (linger.ms).")

    public static func topicPartitions(_ what: String) -> OptionSpec {
        OptionSpec("topic-partitions", env: "TOPIC_PARTITIONS", default: "6", help: "Partitions when the \(what) (an existing topic is left as it is).")
    }
}

/// The payload size limit, the same for the bridge (which does not forward larger messages) and
/// for everything that decodes payloads (larger ones are dead letters, reason too_large).
public enum PayloadOptions {
    public static func maxPayloadBytes(_ help: String) -> OptionSpec {
        OptionSpec("max-payload-bytes", env: "MAX_PAYLOAD_BYTES", default: String(Wire.defaultMaxPayloadBytes), help: help)
    }

    /// 500 is the largest page the v2 API serves (full-archive search); every tweet of a page
    /// becomes a record of its own, so the limit bounds what one payload can put through Kafka.
    public static let maxTweetsPerPayload = OptionSpec(
        "max-tweets-per-payload", env: "MAX_TWEETS_PER_PAYLOAD", default: "500",
        help: "A v2 page or record with more tweets is a dead letter (reason too_many_tweets).")
}

/// The MQTT connection settings parsed from `ConnectionOptions.mqtt`.
public struct MQTTSettings: Sendable {
    public var host: String
    public var port: Int32
    public var clientId: String
    public var username: String?
    public var password: String?

    /// `defaultClientId` is used when `--mqtt-client-id` is empty.
    public init(_ options: ParsedOptions, defaultClientId: String) throws(UsageError) {
        host = try options.required("mqtt-host")
        let portNumber = try options.int("mqtt-port")
        guard (1...65_535).contains(portNumber) else { throw UsageError("--mqtt-port must be between 1 and 65535") }
        port = Int32(portNumber)
        let id = options.string("mqtt-client-id") ?? ""
        clientId = id.isEmpty ? defaultClientId : id
        let user = options.string("mqtt-username") ?? ""
        username = user.isEmpty ? nil : user
        password = username == nil ? nil : options.string("mqtt-password")
        if let username, password?.isEmpty ?? true {
            throw UsageError("--mqtt-username is '\(username)' but --mqtt-password (MQTT_PASSWORD or MQTT_PASSWORD_FILE) is empty")
        }
    }
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
