import ChirpCore
import ChirpKafka
import ChirpPipeline
import ChirpPostgres
import ChirpService
import ChirpStore
import Foundation
import Logging

/// The loader's parts: settings from the options, the Kafka consumer, the PostgreSQL sink, and
/// the loop from ChirpPipeline that runs over them on the worker thread.
final class Loader: Sendable {
    let settings: LoaderSettings
    let partitions: Int32
    let postgresURL: String
    let connectTimeout: Duration
    let consumerConfiguration: KafkaConfiguration
    let membership = GroupMembership()
    let metrics: LoaderMetrics
    let logger: Logger

    init(context: ServiceContext) throws {
        let options = context.options
        logger = context.logger
        let rawRetentionDays = try options.int("raw-retention-days")
        guard rawRetentionDays >= 0 else { throw UsageError("--raw-retention-days must not be negative") }
        settings = LoaderSettings(
            topic: try options.required("enriched-topic"), groupId: try options.required("group-id"),
            batchSize: try options.int("batch-size"), batchWait: .milliseconds(try options.int("batch-wait-ms")),
            rawRetentionDays: rawRetentionDays)
        partitions = Int32(try options.int("topic-partitions"))
        postgresURL = try options.required("postgres-url")
        connectTimeout = .seconds(max(0, try options.int("connect-timeout-seconds")))
        metrics = LoaderMetrics(context.metrics)
        let instance = ServiceMain.instanceId(options)
        var configuration = KafkaConfiguration.consumer(
            brokers: try options.required("kafka-brokers"), groupId: settings.groupId,
            clientId: "chirp-loader-\(instance)",
            // Enriched records carry the raw payload in a header, outside what the queue limit
            // counts: a smaller queue keeps the loader's memory near the categorizer's.
            queuedKilobytes: 2048)
        try configuration.apply(options: options)
        consumerConfiguration = configuration
        let databaseReady = metrics.databaseReady
        let membership = self.membership
        let group = settings.groupId
        context.readiness.add("postgres") { databaseReady.value ? nil : "not connected to PostgreSQL" }
        context.readiness.add("group") { membership.hasJoined ? nil : "not yet a member of consumer group \(group)" }
    }

    /// Connects and waits for the schema this loader needs, retrying while the database is not
    /// up yet or not yet migrated (within the timeout). The loader's role changes no schema:
    /// `chirp migrate`, as the schema's owner, does (compose runs it before any loader starts).
    private func connect(stop: StopSignal) throws -> AnalyticsStore {
        let deadline = ContinuousClock.now + connectTimeout
        while true {
            do {
                let store = try AnalyticsStore(url: postgresURL)
                let version = try store.visibleSchemaVersion()
                guard version >= Migrations.latestVersion else { throw SchemaBehind(version: version) }
                logger.info("database ready", metadata: ["schema_version": "\(version)"])
                metrics.databaseReady.set(true)
                return store
            } catch {
                let waiting = error is SchemaBehind || (error as? PostgresError)?.isConnectionFailure == true
                if !waiting || ContinuousClock.now >= deadline || stop.isStopping { throw error }
                logger.warning(error is SchemaBehind ? "waiting for the schema" : "database not available yet; retrying",
                               metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    /// Runs on the worker thread, which owns the consumer and the database connection.
    func run(stop: StopSignal) throws {
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger, membership: membership)
        let sink = PostgresTweetSink(store: try connect(stop: stop))
        let loop = LoaderLoop(settings: settings, consumer: consumer, sink: sink, clock: SystemClock(), metrics: metrics,
                              logger: logger, stop: stop)
        loop.start()
        try consumer.createTopics([(settings.topic, partitions)])
        try consumer.subscribe([settings.topic])
        logger.info("consuming", metadata: ["from": "\(settings.topic)", "group": "\(settings.groupId)"])
        while !stop.isStopping {
            try loop.step()
        }
        try loop.finish()
        consumer.close()
    }
}

/// The database's schema is older than this loader's (or not there).
struct SchemaBehind: Error, CustomStringConvertible {
    let version: Int
    var description: String {
        "the database schema is at version \(version), this loader needs \(Migrations.latestVersion): run `chirp migrate` as the schema's owner (--postgres-url / POSTGRES_OWNER_URL)"
    }
}
