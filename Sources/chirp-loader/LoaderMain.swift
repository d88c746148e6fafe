import ChirpCore
import ChirpService

/// chirp-loader: `tweets.enriched` → PostgreSQL facts and rollups, idempotent by tweet id.
@main
struct LoaderMain {
    static let specs: [OptionSpec] = ConnectionOptions.kafkaSecurity(service: "LOADER") + [
        ConnectionOptions.kafkaBrokers,
        OptionSpec("enriched-topic", env: "ENRICHED_TOPIC", default: Wire.enrichedTopic, help: "Topic to consume enriched tweets from."),
        ConnectionOptions.topicPartitions("loader creates its input topic"),
        OptionSpec("group-id", env: "LOADER_GROUP_ID", default: "chirp-loader", help: "Kafka consumer group."),
        .secret("postgres-url", env: "POSTGRES_URL", default: "postgresql://chirp_writer@127.0.0.1:5432/chirp", whole: false, help: "libpq connection string of the analytics database (the loader's role, chirp_writer: adds rows, changes no schema)."),
        OptionSpec("batch-size", env: "LOADER_BATCH_SIZE", default: "2000", help: "Tweets per database transaction at most."),
        OptionSpec("batch-wait-ms", env: "LOADER_BATCH_WAIT_MS", default: "200", help: "Longest wait to fill a batch; a batch goes sooner when the database has finished the previous one."),
        OptionSpec("raw-retention-days", env: "RAW_RETENTION_DAYS", default: "30", help: "Days of raw payloads to keep (by receive time, whole UTC days); 0 keeps them forever."),
        OptionSpec("connect-timeout-seconds", env: "LOADER_CONNECT_TIMEOUT_SECONDS", default: "60", help: "How long to retry the first database connection at start, and to wait for `chirp migrate` to bring the schema to this loader's version."),
    ]

    static func main() async {
        await ServiceMain.run(
            name: "chirp-loader",
            summary: "Loads enriched tweets into PostgreSQL in batches: one row per tweet id (duplicates ignored), hashtag and category rollups in the same transaction, Kafka offsets advanced only after COMMIT. Waits at start for the schema it needs (chirp migrate, as the schema's owner, applies it).",
            specs: specs, httpPort: 9104
        ) { context in
            let loader = try Loader(context: context)
            return [WorkerThread(name: "loader") { stop in try loader.run(stop: stop) }]
        }
    }
}
