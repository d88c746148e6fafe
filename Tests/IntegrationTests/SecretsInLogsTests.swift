import ChirpPostgres
import Foundation
import Testing

/// A whole run with every secret given inline, as compose passes them (a password inside the
/// database URL, MQTT passwords in variables, a `sasl.password` in `--kafka-config`), plus the
/// error paths a wrong secret takes: no service log, no /metrics, /readyz or /healthz answer and no
/// error message holds any of them.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SecretsInLogsTests {
    @Test func noSecretReachesALogAnEndpointOrAnError() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let port = try stack.postgresPort
        let writerPassword = try stack.secret("chirp_writer"), bridgePassword = try stack.secret("mqtt-bridge")
        let senderPassword = try stack.secret("mqtt-sender")
        let kafkaSecret = "kafka-\(UUID().uuidString)"
        let wrong = (postgres: "wrong-pg-\(UUID().uuidString.prefix(8))", mqtt: "wrong-mqtt-\(UUID().uuidString.prefix(8))",
                     reader: "wrong-reader-\(UUID().uuidString.prefix(8))")
        let secrets = [writerPassword, bridgePassword, senderPassword, kafkaSecret, wrong.postgres, wrong.mqtt, wrong.reader]

        let kafkaConfig = ["KAFKA_CONFIG": "sasl.password=\(kafkaSecret)"]
        let (bridge, categorizer, loader) = try stack.startPipeline(
            bridge: kafkaConfig.merging(["BRIDGE_MQTT_PASSWORD": bridgePassword]) { $1 }, categorizer: kafkaConfig,
            loader: kafkaConfig.merging(["POSTGRES_URL": "postgresql://chirp_writer:\(writerPassword)@127.0.0.1:\(port)/chirp"]) { $1 })
        let services = [bridge, categorizer, loader]
        defer { for service in services { _ = service.stop() } }

        let input = stack.state.appendingPathComponent("input.jsonl").path
        let sender = try Paths.binary("chirp-sender")
        #expect(try run(sender, ["generate", "--count", "300", "--seed", "5", "--output", input]).status == 0)
        let replay = try run(sender, ["--file", input, "--http-port", "0", "--log-format", "json"],
                             environment: stack.environment.merging(["SENDER_MQTT_PASSWORD": senderPassword, "SENDER_MQTT_PASSWORD_FILE": ""]) { $1 })
        #expect(replay.status == 0, "\(replay.output)")
        let database = try PostgresConnection(stack.ownerURL)
        try eventually(timeout: .seconds(60), "300 tweets loaded") { try database.tweetCount() >= 300 }

        var seen = [("sender", replay.output)]
        for service in services {
            for path in ["/metrics", "/readyz", "/healthz"] { seen.append(("\(service.name) \(path)", try service.get(path).body)) }
        }

        // Wrong secrets: each is refused, and the refusal does not repeat it.
        let refusedLoader = try run(try Paths.binary("chirp-loader"), ["--http-port", "0", "--connect-timeout-seconds", "0"], environment: stack.environment.merging(
            ["POSTGRES_URL": "postgresql://chirp_writer:\(wrong.postgres)@127.0.0.1:\(port)/chirp", "LOG_FORMAT": "json"]) { $1 })
        #expect(refusedLoader.status != 0 && refusedLoader.output.contains("password authentication failed"), "\(refusedLoader.output)")
        seen.append(("loader with a wrong password", refusedLoader.output))
        let refusedBridge = try ServiceProcess("chirp-bridge", stack: stack, environment: ["BRIDGE_MQTT_PASSWORD": wrong.mqtt, "INSTANCE_ID": "wrong"])
        try eventually(timeout: .seconds(20), "the bridge says the broker refused it") { refusedBridge.logText.contains("refused") }
        _ = refusedBridge.stop()
        let refusedQuestion = try run(try Paths.binary("chirp"), ["totals", "--postgres-url", "postgresql://chirp_reader:\(wrong.reader)@127.0.0.1:\(port)/chirp"])
        #expect(refusedQuestion.status == 1 && refusedQuestion.output.contains("password authentication failed"), "\(refusedQuestion.output)")
        seen.append(("chirp with a wrong password", refusedQuestion.output))

        for service in services { _ = service.stop() }
        let logs = try FileManager.default.contentsOfDirectory(atPath: stack.state.path).filter { $0.hasPrefix("chirp-") && $0.hasSuffix(".log") }
        #expect(logs.count == 4, "\(logs)")
        for name in logs { seen.append((name, try String(contentsOf: stack.state.appendingPathComponent(name), encoding: .utf8))) }
        #expect(loader.logText.contains("***"), "the loader's start line shows its URL with the password masked")
        for (place, text) in seen {
            for secret in secrets {
                #expect(!text.contains(secret), "\(place) holds a secret (\(secret.prefix(6))…)")
            }
        }
    }
}
