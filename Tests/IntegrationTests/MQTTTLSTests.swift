import ChirpPostgres
import Foundation
import Testing

/// MQTT over TLS against the local broker's TLS listener, whose certificate names `localhost`
/// and comes from a CA of the stack's own: the sender and the bridge carry tweets over it; a
/// broker whose certificate does not chain to the CA, or does not name the host, is refused
/// with the reason, and quickly.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct MQTTTLSTests {
    @Test func tweetsTravelOverTLSAndABadCertificateIsRefused() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let tlsPort = stack.environment["STACK_MQTT_TLS_PORT"]!, caFile = stack.environment["STACK_CA_FILE"]!
        let overTLS = ["MQTT_HOST": "localhost", "MQTT_PORT": tlsPort, "MQTT_CA_FILE": caFile]

        let (bridge, categorizer, loader) = try stack.startPipeline(bridge: overTLS)
        let services = [bridge, categorizer, loader]
        defer { for service in services { _ = service.stop() } }
        #expect(bridge.logText.contains("mqtt connected"))

        let sender = try Paths.binary("chirp-sender")
        let input = stack.state.appendingPathComponent("input.jsonl").path
        #expect(try run(sender, ["generate", "--count", "2000", "--seed", "8", "--output", input]).status == 0)
        func replay(_ extra: [String: String], _ arguments: [String] = []) throws -> (status: Int32, output: String) {
            try run(sender, ["--file", input, "--http-port", "0", "--log-format", "text"] + arguments,
                    environment: stack.environment.merging(extra) { $1 })
        }
        let sent = try replay(overTLS)
        #expect(sent.status == 0 && sent.output.contains("acknowledged=2000 failed=0"), "\(sent.output)")
        let database = try PostgresConnection(stack.ownerURL)
        try eventually(timeout: .seconds(60), "2000 tweets over TLS") { try database.tweetCount() == 2000 }

        // Refusals, each with its reason and well before the 10 s CONNACK timeout.
        let refusals: [(what: String, environment: [String: String], arguments: [String], expected: String)] = [
            ("a name the certificate does not hold", overTLS.merging(["MQTT_HOST": "127.0.0.1"]) { $1 }, [], "certificate verify failed"),
            ("a certificate from an unknown CA", ["MQTT_HOST": "localhost", "MQTT_PORT": tlsPort, "MQTT_TLS": "true"], [], "certificate verify failed"),
            ("a CA file that cannot be read", overTLS.merging(["MQTT_CA_FILE": "/nonexistent/ca.pem"]) { $1 }, [], "--mqtt-ca-file: cannot read '/nonexistent/ca.pem'"),
            ("a certificate without its key", overTLS, ["--mqtt-cert-file", caFile], "--mqtt-cert-file and --mqtt-key-file go together"),
        ]
        for refusal in refusals {
            let started = ContinuousClock.now
            let result = try replay(refusal.environment, refusal.arguments)
            #expect(result.status != 0 && result.output.contains(refusal.expected), "\(refusal.what): \(result.output)")
            #expect(ContinuousClock.now - started < .seconds(8), "\(refusal.what) took \(ContinuousClock.now - started)")
        }
        // The name check can be turned off for a test broker; the chain is still checked.
        let unnamed = try replay(overTLS.merging(["MQTT_HOST": "127.0.0.1", "MQTT_TLS_SKIP_HOSTNAME_CHECK": "true"]) { $1 }, ["--restamp"])
        #expect(unnamed.status == 0 && unnamed.output.contains("failed=0"), "\(unnamed.output)")
    }
}
