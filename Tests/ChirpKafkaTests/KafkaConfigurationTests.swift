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
}
