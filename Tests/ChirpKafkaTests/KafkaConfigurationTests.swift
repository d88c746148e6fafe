@testable import ChirpKafka
import ChirpService
import Testing

@Suite struct KafkaConfigurationTests {
    @Test func overridesFromTheFlagAreCommaSeparated() throws {
        var configuration = KafkaConfiguration(brokers: "b:9092")
        try configuration.apply(overrides: "linger.ms=5, sasl.username = bridge ,")
        #expect(configuration["linger.ms"] == "5")
        #expect(configuration["sasl.username"] == "bridge")
    }

    /// From KAFKA_CONFIG_FILE: one entry per line, so a value may hold commas.
    @Test func overridesFromAFileAreOnePerLine() throws {
        let parsed = try ParsedOptions.parse([], specs: CommonOptions.specs(service: "x", httpPort: 1), environment: ["KAFKA_CONFIG_FILE": "/k"],
                                             readFile: { _ in "# SASL\nsasl.jaas.config=a,b;c\nlinger.ms=7\n" })
        var configuration = KafkaConfiguration(brokers: "b:9092")
        try configuration.apply(options: parsed)
        #expect(configuration["sasl.jaas.config"] == "a,b;c")
        #expect(configuration["linger.ms"] == "7")
    }

    /// librdkafka refuses a mistyped secret setting (names are case-sensitive) and its message
    /// quotes the value: the error does not.
    @Test func aRefusedSecretSettingIsNotEchoed() throws {
        var configuration = KafkaConfiguration(brokers: "b:9092")
        try configuration.apply(overrides: "SASL.PASSWORD=TopSecret")
        do {
            _ = try configuration.makeHandle()
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("SASL.PASSWORD: refused by librdkafka (value not shown)"))
            #expect(!"\(error)".contains("TopSecret"))
        }
    }

    /// An entry without '=' may be a secret typed wrongly: the error does not repeat it.
    @Test func aMalformedEntryIsReportedByItsNumber() {
        var configuration = KafkaConfiguration(brokers: "b:9092")
        do {
            try configuration.apply(overrides: "linger.ms=5,sasl.password:TopSecret")
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("entry 2 has no key or no '='"))
            #expect(!"\(error)".contains("TopSecret"))
        }
    }

    /// A service's Kafka login: SCRAM-SHA-512 over TLS against the given CA, the password from a
    /// `_FILE` secret; `--kafka-config` still has the last word (here, the mechanism).
    @Test func aLoginBecomesSASLOverTLSAndKafkaConfigStillOverrides() throws {
        let specs = CommonOptions.specs(service: "x", httpPort: 1) + ConnectionOptions.kafkaSecurity(service: "LOADER")
        let environment = ["LOADER_KAFKA_USERNAME": "chirp-loader", "LOADER_KAFKA_PASSWORD_FILE": "/run/secrets/kafka",
                           "KAFKA_CA_FILE": "/etc/hostname", "KAFKA_CONFIG": "sasl.mechanisms=SCRAM-SHA-256"]
        let parsed = try ParsedOptions.parse([], specs: specs, environment: environment, readFile: { _ in "pw-from-file\n" })
        var configuration = KafkaConfiguration(brokers: "b:9092")
        try configuration.apply(options: parsed)
        #expect(configuration["security.protocol"] == "SASL_SSL")
        #expect(configuration["ssl.ca.location"] == "/etc/hostname")
        #expect(configuration["sasl.username"] == "chirp-loader")
        #expect(configuration["sasl.password"] == "pw-from-file")
        #expect(configuration["sasl.mechanisms"] == "SCRAM-SHA-256")
        #expect(configuration["ssl.endpoint.identification.algorithm"] == "https")
        _ = try configuration.makeHandle()  // librdkafka accepts every property
    }

    @Test func aLoginWithoutPasswordOrAnUnreadableCAIsRefused() throws {
        let specs = CommonOptions.specs(service: "x", httpPort: 1) + ConnectionOptions.kafkaSecurity(service: "BRIDGE")
        let cases: [([String: String], String)] = [
            (["BRIDGE_KAFKA_USERNAME": "chirp-bridge"],
             "--kafka-username is 'chirp-bridge' but --kafka-password (BRIDGE_KAFKA_PASSWORD or BRIDGE_KAFKA_PASSWORD_FILE) is empty"),
            (["KAFKA_CA_FILE": "/nonexistent/ca.pem"], "--kafka-ca-file: cannot read '/nonexistent/ca.pem'"),
        ]
        for (environment, expected) in cases {
            let parsed = try ParsedOptions.parse([], specs: specs, environment: environment)
            var configuration = KafkaConfiguration(brokers: "b:9092")
            #expect(throws: KafkaError.self) { try configuration.apply(options: parsed) }
            do { try configuration.apply(options: parsed) } catch { #expect("\(error)".contains(expected), "\(error)") }
        }
        // Without a login or a CA nothing changes: plain TCP, as before.
        var plain = KafkaConfiguration(brokers: "b:9092")
        try plain.apply(options: try ParsedOptions.parse([], specs: specs, environment: [:]))
        #expect(plain["security.protocol"] == nil && plain["sasl.username"] == nil && plain["ssl.endpoint.identification.algorithm"] == nil)
    }
}
