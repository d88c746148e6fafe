import ChirpCore
import ChirpPipeline
import ChirpRules
import ChirpService
import Foundation

/// chirp-categorizer: `tweets.raw` → parse, hashtags, categories → `tweets.enriched`; rejects → `tweets.dlq`.
@main
struct CategorizerMain {
    static let specs: [OptionSpec] = ConnectionOptions.kafkaSecurity(service: "CATEGORIZER") + [
        ConnectionOptions.kafkaBrokers,
        OptionSpec("raw-topic", env: "RAW_TOPIC", default: Wire.rawTopic, help: "Topic to consume raw tweets from."),
        OptionSpec("enriched-topic", env: "ENRICHED_TOPIC", default: Wire.enrichedTopic, help: "Topic to write enriched tweets to."),
        OptionSpec("dlq-topic", env: "DLQ_TOPIC", default: Wire.deadLetterTopic, help: "Dead-letter topic for payloads that are no tweet."),
        OptionSpec("group-id", env: "CATEGORIZER_GROUP_ID", default: "chirp-categorizer", help: "Kafka consumer group."),
        ConnectionOptions.topicPartitions("categorizer creates its topics"),
        RuleOptions.categoriesFile,
        RuleOptions.maxPayloadBytes("Larger payloads are dead letters (reason too_large)."),
        PayloadOptions.maxTweetsPerPayload,
        OptionSpec("batch-size", env: "CATEGORIZER_BATCH_SIZE", default: "1000", help: "Records taken from Kafka per poll."),
        ConnectionOptions.kafkaLinger,
    ]

    static let reasonCodes = RejectReason.allCases.map { "  \($0.rawValue): \($0.summary)" }.joined(separator: "\n")

    static func main() async {
        await ServiceMain.run(
            name: "chirp-categorizer",
            summary: "Consumes raw tweets, extracts hashtags (twitter-text rules) and keyword categories, and writes enriched JSON; what is no tweet goes to the dead-letter topic.\n\nDEAD-LETTER REASON CODES (header dlq-reason):\n\(reasonCodes)",
            specs: specs, httpPort: 9103,
            subcommands: [Classify.subcommand]
        ) { context in
            let categorizer = try Categorizer(context: context)
            return [WorkerThread(name: "categorizer") { stop in try categorizer.run(stop: stop) }]
        }
    }
}
