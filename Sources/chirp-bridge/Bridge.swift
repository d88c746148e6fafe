import ChirpCore
import ChirpKafka
import ChirpMQTT
import ChirpService
import Foundation
import Logging

/// Moves MQTT messages to Kafka.
///
/// Delivery guarantee: libmosquitto sends the PUBACK when the message callback returns, and it has
/// no manual acknowledgement. The callback returns once librdkafka has accepted (copied) the
/// record, before Kafka confirms it. Those messages — acknowledged upstream, unconfirmed
/// downstream — are the only ones a crash (SIGKILL, power loss) of the bridge can lose. The window
/// is bounded by `--max-unconfirmed` and lasts about linger.ms plus one broker round trip; it is
/// exported as `chirp_bridge_unconfirmed`. A graceful stop (SIGTERM) closes it: the bridge
/// disconnects from MQTT first, then waits for Kafka to confirm everything. Messages the broker
/// sent but the bridge never acknowledged stay in its persistent session and are redelivered.
final class Bridge: Sendable {
    let mqtt: MQTTClient
    let producer: KafkaProducer
    let topic: String
    let partitions: Int32
    let maxUnconfirmed: Int
    let logger: Logger
    let received: Counter
    let delivered: Counter
    let failed: Counter
    let ignoredHeaders: Counter
    let rejected: Counter

    init(context: ServiceContext) throws {
        let options = context.options
        logger = context.logger
        topic = try options.required("raw-topic")
        partitions = Int32(try options.int("topic-partitions"))
        maxUnconfirmed = try options.int("max-unconfirmed")
        guard maxUnconfirmed > 0 else { throw UsageError("--max-unconfirmed must be positive") }
        let instance = ServiceMain.instanceId(options)
        let metrics = context.metrics
        received = metrics.counter("bridge_received_total", help: "Messages received from MQTT.")
        delivered = metrics.counter("bridge_delivered_total", help: "Messages Kafka confirmed (acks=all).")
        failed = metrics.counter("bridge_delivery_failed_total", help: "Messages acknowledged to MQTT that Kafka refused (lost), by librdkafka error.", label: "error")
        ignoredHeaders = metrics.counter(
            "bridge_ignored_headers_total", help: "MQTT user properties not forwarded because their value is unusable, by property and problem.",
            label: "reason")
        rejected = metrics.counter("bridge_rejected_total", help: "MQTT messages not forwarded (logged), by reason.", label: "reason")
        let delivered = self.delivered
        let failed = self.failed
        let logger = self.logger
        var producerConfiguration = KafkaConfiguration.producer(
            brokers: try options.required("kafka-brokers"), clientId: "chirp-bridge-\(instance)",
            lingerMilliseconds: try options.int("kafka-linger-ms"))
        try producerConfiguration.apply(overrides: options.string("kafka-config") ?? "")
        let maxRecordBytes = producerConfiguration.maximumMessageBytes - Wire.deadLetterReserveBytes
        producer = try KafkaProducer(
            configuration: producerConfiguration,
            logger: context.logger,
            onDelivery: { report in
                if let error = report.error {
                    failed.increment(label: error.name)
                    logger.error("kafka refused a message already acknowledged to MQTT", metadata: ["error": "\(error)"])
                } else {
                    delivered.increment()
                }
            }
        )
        let producer = self.producer
        _ = metrics.gauge("bridge_unconfirmed", help: "Messages acknowledged to MQTT and not yet confirmed by Kafka (the crash-loss window).") {
            Double(producer.outstandingCount)
        }

        let settings = try MQTTSettings(options, defaultClientId: "chirp-bridge-\(instance)")
        // `run` drives the connection on the service's worker thread.
        let mqttOptions = MQTTClient.Options(host: settings.host, port: settings.port, clientId: settings.clientId, cleanSession: false,
                                             username: settings.username, password: settings.password)
        let forward = Forwarder(producer: producer, topic: topic, maxUnconfirmed: maxUnconfirmed, maxRecordBytes: maxRecordBytes,
                                  received: received, failed: failed, ignoredHeaders: ignoredHeaders, rejected: rejected, logger: logger)
        mqtt = try MQTTClient(options: mqttOptions, logger: context.logger) { message in forward.forward(message) }
        try mqtt.subscribe(try options.required("mqtt-topic"), qos: 1)

        let mqtt = self.mqtt
        context.readiness.add("mqtt") {
            !mqtt.isConnected ? "not connected to the MQTT broker" : !mqtt.isSubscribed ? "subscription not yet acknowledged by the MQTT broker" : nil
        }
        context.readiness.add("kafka") { producer.isConnected(timeout: .seconds(2)) ? nil : "no Kafka broker reachable" }
    }

    func run(stop: StopSignal) throws {
        try producer.createTopics([(topic, partitions)])
        try mqtt.connect()
        logger.info("bridging", metadata: ["to": "\(topic)"])
        while !stop.isStopping {
            mqtt.idle(for: .milliseconds(200))
        }
        // Stop taking messages first, then drain what was acknowledged.
        mqtt.disconnect()
        let left = producer.flush(timeout: .seconds(30))
        producer.close(timeout: .seconds(1))
        if left > 0 {
            logger.error("stopped with unconfirmed messages", metadata: ["count": "\(left)"])
        }
    }
}

/// Runs for every message on the thread that drives the connection (`run`, through
/// `MQTTClient.idle`); returning acknowledges it.
struct Forwarder: Sendable {
    let producer: KafkaProducer
    let topic: String
    let maxUnconfirmed: Int
    /// Kafka's limit less the room a dead letter of the record needs downstream.
    let maxRecordBytes: Int
    let received: Counter
    let failed: Counter
    let ignoredHeaders: Counter
    let rejected: Counter
    let logger: Logger

    func forward(_ message: MQTTMessage) {
        received.increment()
        let key = message.userProperty(Wire.tweetId) ?? TweetKey.extract(message.payload)
        var headers = RecordHeaders(minimumCapacity: 96)
        headers.append(Wire.mqttTopic, message.topic)
        // Anyone may publish: a publish time travels on only when it is a storable time.
        if let published = message.userProperty(Wire.publishedAt) {
            switch RecordHeaders.time(decimal: published) {
            case .success: headers.append(Wire.publishedAt, published)
            case .failure(let problem): ignoredHeaders.increment(label: "\(Wire.publishedAt):\(problem.rawValue)")
            }
        }
        // Kafka would refuse a larger record; one slightly smaller could not be dead-lettered whole.
        let size = KafkaProducer.recordSize(keyBytes: key?.utf8.count ?? 0, valueBytes: message.payload.count, headers: headers)
        guard size <= maxRecordBytes else {
            rejected.increment(label: RejectReason.tooLarge.rawValue)
            logger.error("MQTT message too large for Kafka; not forwarded", metadata: [
                "topic": "\(message.topic)", "bytes": "\(size)", "limit": "\(maxRecordBytes)",
            ])
            return
        }
        // `send` waits while librdkafka's queue is full; an error here is permanent for this
        // record (for example larger than message.max.bytes): counted, logged, not retried.
        do {
            try producer.send(topic: topic, key: key.map { Array($0.utf8) }, value: message.payload, headers: headers, token: 0)
        } catch {
            failed.increment(label: error.name)
            logger.error("kafka cannot take this message; it is dropped", metadata: ["error": "\(error)", "bytes": "\(message.payload.count)"])
            return
        }
        // Back-pressure: hold the PUBACK while too much is unconfirmed.
        while producer.outstandingCount >= maxUnconfirmed {
            Thread.sleep(forTimeInterval: 0.001)
        }
    }
}
