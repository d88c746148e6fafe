import ChirpCore
import ChirpKafka
import ChirpMQTT
import ChirpPipeline
import ChirpService
import Foundation
import Logging

/// The bridge's parts: settings from the options, the MQTT subscriber and the Kafka producer, and
/// the loop from ChirpPipeline that runs over them on the worker thread. The MQTT client holds its
/// PUBACKs until the loop has Kafka's confirmation (`BridgeLoop`).
final class Bridge: Sendable {
    let settings: BridgeSettings
    let partitions: Int32
    let mqttOptions: MQTTClient.Options
    let topicFilter: String
    let producer: KafkaRecordProducer
    let metrics: BridgeMetrics
    /// The worker thread's MQTT client reports here; readiness reads it.
    let mqttStatus = MQTTClientStatus()
    let logger: Logger

    init(context: ServiceContext) throws {
        let options = context.options
        logger = context.logger
        settings = BridgeSettings(rawTopic: try options.required("raw-topic"))
        partitions = Int32(try options.int("topic-partitions"))
        let window = try options.int("max-unconfirmed")
        guard (1...65_535).contains(window) else { throw UsageError("--max-unconfirmed must be between 1 and 65535 (the MQTT receive maximum)") }
        topicFilter = try options.required("mqtt-topic")
        metrics = BridgeMetrics(context.metrics)
        let instance = ServiceMain.instanceId(options)

        var producerConfiguration = KafkaConfiguration.producer(
            brokers: try options.required("kafka-brokers"), clientId: "chirp-bridge-\(instance)",
            lingerMilliseconds: try options.int("kafka-linger-ms"))
        try producerConfiguration.apply(options: options)
        producer = try KafkaRecordProducer(configuration: producerConfiguration, logger: context.logger)

        let mqtt = try MQTTSettings(options, defaultClientId: "chirp-bridge-\(instance)")
        var mqttOptions = MQTTClient.Options(mqtt, cleanSession: false)
        mqttOptions.holdAcknowledgements = true
        mqttOptions.receiveMaximum = window
        self.mqttOptions = mqttOptions

        let status = mqttStatus
        let kafka = producer.producer
        let problem = metrics.problem
        context.readiness.add("mqtt") {
            !status.isConnected ? "not connected to the MQTT broker"
                : !status.isSubscribed ? "subscription not yet acknowledged by the MQTT broker" : nil
        }
        context.readiness.add("kafka") { kafka.isConnected(timeout: .seconds(2)) ? nil : "no Kafka broker reachable" }
        context.readiness.add("delivery") { problem.withLock { $0 } }
    }

    /// Runs on the worker thread, which owns the MQTT client.
    func run(stop: StopSignal) throws {
        try producer.producer.createTopics([(settings.rawTopic, partitions)])
        let mqtt = try MQTTClient(options: mqttOptions, logger: logger, status: mqttStatus)
        try mqtt.subscribe(topicFilter, qos: 1)
        try mqtt.connect()
        let loop = BridgeLoop(settings: settings, subscriber: mqtt, producer: producer, clock: SystemClock(), metrics: metrics, logger: logger)
        logger.info("bridging", metadata: ["from": "\(topicFilter)", "to": "\(settings.rawTopic)"])
        while !stop.isStopping {
            try loop.step()
        }
        // Acknowledge what Kafka confirms in time; the broker sends the rest again.
        let left = loop.finish(timeout: .seconds(30))
        mqtt.disconnect()
        producer.producer.close(timeout: .seconds(1))
        if left > 0 {
            logger.warning("stopped with unconfirmed messages; the MQTT broker will send them again", metadata: ["count": "\(left)"])
        }
    }
}
