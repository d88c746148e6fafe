import ChirpCore
import ChirpKafka
import ChirpPipeline
import ChirpRules
import ChirpService
import Foundation
import Logging

/// The categorizer's parts: settings from the options, the Kafka consumer and producer, and the
/// loop from ChirpPipeline that runs over them on the worker thread.
final class Categorizer: Sendable {
    let settings: CategorizerSettings
    let enrichedTopic: String
    let partitions: Int32
    let consumerConfiguration: KafkaConfiguration
    let membership = GroupMembership()
    let producer: KafkaRecordProducer
    let metrics: CategorizerMetrics
    let logger: Logger

    init(context: ServiceContext) throws {
        let options = context.options
        logger = context.logger
        enrichedTopic = try options.required("enriched-topic")
        partitions = Int32(try options.int("topic-partitions"))
        let maxPayload = try options.int("max-payload-bytes")
        let maxTweets = try options.int("max-tweets-per-payload")
        guard maxTweets > 0 else { throw UsageError("--max-tweets-per-payload must be positive") }
        let table = try CategoryFile.load(path: options.string("categories-file") ?? "")
        let enricher = Enricher(table: table)
        logger.info("category table", metadata: ["version": "\(enricher.matcher.version)", "categories": "\(table.categories.count)"])
        settings = CategorizerSettings(
            rawTopic: try options.required("raw-topic"), dlqTopic: try options.required("dlq-topic"),
            router: RecordRouter(enrichedTopic: enrichedTopic, maxPayloadBytes: maxPayload, maxTweetsPerPayload: maxTweets, enricher: enricher),
            batchSize: try options.int("batch-size"))
        metrics = CategorizerMetrics(context.metrics)

        let brokers = try options.required("kafka-brokers")
        let instance = ServiceMain.instanceId(options)
        var producerConfiguration = KafkaConfiguration.producer(
            brokers: brokers, clientId: "chirp-categorizer-\(instance)", lingerMilliseconds: try options.int("kafka-linger-ms"))
        try producerConfiguration.apply(options: options)
        // Every payload within the limit must fit a dead letter, or a rejected one would be lost.
        guard maxPayload + Wire.deadLetterOverheadBytes <= producerConfiguration.maximumMessageBytes else {
            throw UsageError("--max-payload-bytes (\(maxPayload)) plus \(Wire.deadLetterOverheadBytes) bytes of dead-letter headers must fit message.max.bytes (\(producerConfiguration.maximumMessageBytes)): lower it, or raise message.max.bytes with --kafka-config (and the broker's limit with it)")
        }
        producer = try KafkaRecordProducer(configuration: producerConfiguration, logger: context.logger)
        var consumerConfiguration = KafkaConfiguration.consumer(
            brokers: brokers, groupId: try options.required("group-id"),
            clientId: "chirp-categorizer-\(instance)")
        try consumerConfiguration.apply(options: options)
        self.consumerConfiguration = consumerConfiguration

        let kafka = producer.producer
        let membership = self.membership
        let group = try options.required("group-id")
        let problem = metrics.problem
        context.readiness.add("kafka") { kafka.isConnected(timeout: .seconds(2)) ? nil : "no Kafka broker reachable" }
        context.readiness.add("group") { membership.hasJoined ? nil : "not yet a member of consumer group \(group)" }
        context.readiness.add("output") { problem.withLock { $0 } }
        let producer = self.producer
        _ = context.metrics.gauge("categorizer_pending_deliveries", help: "Output records awaiting Kafka's confirmation.") {
            Double(producer.outstandingCount)
        }
    }

    /// Runs on the worker thread, which owns the consumer.
    func run(stop: StopSignal) throws {
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger, membership: membership)
        try producer.producer.createTopics([(settings.rawTopic, partitions), (enrichedTopic, partitions), (settings.dlqTopic, partitions)])
        let loop = CategorizerLoop(settings: settings, consumer: consumer, producer: producer, clock: SystemClock(), metrics: metrics,
                                   logger: logger, wallClock: { Timestamp.now.millisecondsSinceEpoch })
        try consumer.subscribe([settings.rawTopic])
        logger.info("consuming", metadata: ["from": "\(settings.rawTopic)", "to": "\(enrichedTopic)", "dead_letters": "\(settings.dlqTopic)"])
        while !stop.isStopping {
            try loop.step()
        }
        logger.info("stopping: waiting for output confirmations")
        try loop.finish()
        consumer.close()
        producer.producer.close(timeout: .seconds(1))
    }
}
