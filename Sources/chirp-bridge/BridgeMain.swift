import ChirpCore
import ChirpService

/// chirp-bridge: MQTT subscription → Kafka `tweets.raw`, at least once.
@main
struct BridgeMain {
    static let specs: [OptionSpec] = [
        OptionSpec("mqtt-host", env: "MQTT_HOST", default: "127.0.0.1", help: "MQTT broker host."),
        OptionSpec("mqtt-port", env: "MQTT_PORT", default: "1883", help: "MQTT broker port."),
        OptionSpec("mqtt-topic", env: "MQTT_TOPIC", default: Wire.defaultMQTTTopic, help: "Topic filter to subscribe to (QoS 1)."),
        OptionSpec("mqtt-client-id", env: "BRIDGE_MQTT_CLIENT_ID", default: "", help: "Fixed MQTT client id of the persistent session; default chirp-bridge-<instance-id>."),
        OptionSpec("mqtt-username", env: "MQTT_USERNAME", default: "", help: "MQTT user name (optional)."),
        OptionSpec("mqtt-password", env: "MQTT_PASSWORD", default: "", help: "MQTT password (optional)."),
        OptionSpec("kafka-brokers", env: "KAFKA_BROKERS", default: "127.0.0.1:9092", help: "Kafka bootstrap servers (host:port,…)."),
        OptionSpec("raw-topic", env: "RAW_TOPIC", default: Wire.rawTopic, help: "Kafka topic to produce to."),
        OptionSpec("topic-partitions", env: "TOPIC_PARTITIONS", default: "6", help: "Partitions when the bridge creates the topic (an existing topic is left as it is)."),
        OptionSpec("kafka-linger-ms", env: "KAFKA_LINGER_MS", default: "20", help: "Producer batching delay (linger.ms)."),
        OptionSpec("max-unconfirmed", env: "BRIDGE_MAX_UNCONFIRMED", default: "10000", help: "Messages acknowledged to MQTT but not yet confirmed by Kafka, at most; at the limit the bridge stops acknowledging until Kafka catches up."),
    ]

    static func main() async {
        await ServiceMain.run(
            name: "chirp-bridge",
            summary: "Subscribes to MQTT (persistent session, QoS 1) and produces every message unchanged to Kafka, keyed by tweet id.",
            specs: specs, httpPort: 9102
        ) { context in
            let bridge = try Bridge(context: context)
            return [WorkerThread(name: "bridge") { stop in try bridge.run(stop: stop) }]
        }
    }
}
