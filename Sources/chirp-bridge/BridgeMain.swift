import ChirpCore
import ChirpService

/// chirp-bridge: MQTT subscription → Kafka `tweets.raw`, at least once.
@main
struct BridgeMain {
    static let specs: [OptionSpec] = ConnectionOptions.mqtt(
        service: "BRIDGE", topicHelp: "Topic filter to subscribe to (QoS 1).",
        clientIdHelp: "Fixed MQTT client id of the persistent session; default chirp-bridge-<instance-id>. Chirpstream's broker configurations use the login name instead, so that only this user's password opens the session: one MQTT user per bridge instance."
    ) + ConnectionOptions.kafkaSecurity(service: "BRIDGE") + [
        ConnectionOptions.kafkaBrokers,
        OptionSpec("raw-topic", env: "RAW_TOPIC", default: Wire.rawTopic, help: "Kafka topic to produce to."),
        ConnectionOptions.topicPartitions("bridge creates the topic"),
        ConnectionOptions.kafkaLinger,
        OptionSpec("max-unconfirmed", env: "BRIDGE_MAX_UNCONFIRMED", default: "1000", help: "Messages the MQTT broker may send before the bridge acknowledges them (the MQTT 5 receive maximum, at most 65535). The bridge acknowledges a message only once Kafka has confirmed it, so this bounds what it holds in memory."),
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
