import ChirpService
import Testing

@Suite struct SecretsTests {
    @Test(arguments: [
        ("postgresql://chirp:S3cretPW@127.0.0.1:1/chirp", "postgresql://chirp:***@127.0.0.1:1/chirp"),
        ("postgresql://chirp@127.0.0.1/chirp", "postgresql://chirp@127.0.0.1/chirp"),
        ("postgresql://u:p@ss@db:5432/x?sslmode=verify-full", "postgresql://u:***@db:5432/x?sslmode=verify-full"),
        ("mqtt://a:b@h:1,postgresql://c:d@e/f", "mqtt://a:***@h:1,postgresql://c:***@e/f"),
        ("postgresql://u@db/x?sslmode=require&password=pw", "postgresql://u@db/x?sslmode=require&password=***"),
        ("sasl.password=KafkaPW,linger.ms=5", "sasl.password=***,linger.ms=5"),
        ("security.protocol=SASL_SSL,sasl.username=bridge,ssl.key.location=/run/key.pem", "security.protocol=SASL_SSL,sasl.username=bridge,ssl.key.location=/run/key.pem"),
        ("ssl.key.password=kp\nssl.key.pem=-----BEGIN", "ssl.key.password=***\nssl.key.pem=***"),
        ("host=db password=pw dbname=chirp", "host=db password=*** dbname=chirp"),
        ("sasl.oauthbearer.client.secret=s;x=1", "sasl.oauthbearer.client.secret=***;x=1"),
        ("no secrets = here", "no secrets = here"),
        ("postgresql://chirp:s3c;r,e&t@db/chirp", "postgresql://chirp:***@db/chirp"),
        ("sasl.password=a,b\nlinger.ms=5", "sasl.password=***\nlinger.ms=5"),
        ("sasl.password=a,b,linger.ms=5", "sasl.password=***,linger.ms=5"),
        ("host=db password='p q' dbname=chirp", "host=db password=*** dbname=chirp"),
    ])
    func redactsPasswordsAndSecretSettings(text: String, expected: String) {
        #expect(Secrets.redact(text) == expected)
    }

    @Test func secretOptionsComeFromFilesAndPlaceholdersAreRefused() throws {
        let specs: [OptionSpec] = [
            .secret("mqtt-password", env: "MQTT_PASSWORD", default: "", whole: true, help: "p"),
            .secret("postgres-url", env: "POSTGRES_URL", default: "postgresql://chirp@db/chirp", whole: false, help: "u"),
            .secret("kafka-config", env: "KAFKA_CONFIG", default: "", whole: false, help: "k"),
            OptionSpec("mqtt-username", env: "MQTT_USERNAME", default: "", help: "n"),
        ]
        let files = ["/run/secrets/mqtt": "pa,ss word\n", "/run/secrets/kafka": "sasl.password=a,b\n# comment\nlinger.ms=5\n"]
        let parsed = try ParsedOptions.parse([], specs: specs, environment: [
            "MQTT_PASSWORD_FILE": "/run/secrets/mqtt", "KAFKA_CONFIG_FILE": "/run/secrets/kafka", "MQTT_USERNAME": "bridge",
        ], readFile: { files[$0] })
        #expect(parsed.string("mqtt-password") == "pa,ss word")
        #expect(parsed.sources["mqtt-password"] == "file")
        let summary = parsed.redactedSummary
        #expect(summary.contains("mqtt-password=***(file)"))
        #expect(!summary.contains("pa,ss") && !summary.contains("sasl.password=a") && !summary.contains(",b"), "\(summary)")
        // A password that looks like a setting (base64 ends in '=') is still not shown at all.
        let base64 = try ParsedOptions.parse(["--mqtt-password", "c2VjcmV0cGFzcw=="], specs: specs, environment: [:])
        #expect(base64.redactedSummary.contains("mqtt-password=***(flag)"), "\(base64.redactedSummary)")

        #expect(throws: UsageError("MQTT_PASSWORD_FILE: cannot read '/nowhere'")) {
            try ParsedOptions.parse([], specs: specs, environment: ["MQTT_PASSWORD_FILE": "/nowhere"], readFile: { files[$0] })
        }
        #expect(throws: UsageError("--mqtt-password (MQTT_PASSWORD) is a placeholder ('change-me…'): set a real secret")) {
            try ParsedOptions.parse(["--mqtt-password", "change-me-mqtt"], specs: specs, environment: [:])
        }
        #expect(throws: UsageError("--postgres-url (POSTGRES_URL) is a placeholder ('change-me…'): set a real secret")) {
            try ParsedOptions.parse([], specs: specs, environment: ["POSTGRES_URL": "postgresql://chirp:CHANGE-ME@db/chirp"])
        }
        for url in ["host=db password=change-me dbname=chirp", "postgresql://chirp@db/chirp?sslmode=require&password=change-me"] {
            #expect(throws: UsageError("--postgres-url (POSTGRES_URL) sets password, which is a placeholder ('change-me…'): set a real secret")) {
                try ParsedOptions.parse([], specs: specs, environment: ["POSTGRES_URL": url])
            }
        }
        #expect(throws: UsageError("--kafka-config (KAFKA_CONFIG) sets sasl.password, which is a placeholder ('change-me…'): set a real secret")) {
            try ParsedOptions.parse(["--kafka-config", "linger.ms=5,sasl.password=change-me"], specs: specs, environment: [:])
        }
    }

    @Test func anMQTTUserWithoutAPasswordIsRefused() throws {
        let specs = ConnectionOptions.mqtt(service: "BRIDGE", topicHelp: "t", clientIdHelp: "c")
        let options = try ParsedOptions.parse([], specs: specs, environment: ["BRIDGE_MQTT_USERNAME": "bridge"])
        #expect(throws: UsageError("--mqtt-username is 'bridge' but --mqtt-password (BRIDGE_MQTT_PASSWORD or BRIDGE_MQTT_PASSWORD_FILE) is empty")) {
            try MQTTSettings(options, defaultClientId: "x")
        }
    }

    @Test func mqttTLSFollowsItsOptions() throws {
        let specs = ConnectionOptions.mqtt(service: "SENDER", topicHelp: "t", clientIdHelp: "c")
        func settings(_ arguments: [String]) throws -> MQTTSettings {
            try MQTTSettings(try ParsedOptions.parse(arguments, specs: specs, environment: [:]), defaultClientId: "x")
        }
        #expect(try settings([]).tls == nil)
        #expect(try settings(["--mqtt-tls"]).tls == MQTTSettings.TLS())
        // A CA file turns TLS on; the readable file here is any file the test can read.
        #expect(try settings(["--mqtt-ca-file", #filePath]).tls == MQTTSettings.TLS(caFile: #filePath))
        #expect(try settings(["--mqtt-tls", "--mqtt-tls-skip-hostname-check"]).tls == MQTTSettings.TLS(checkHostname: false))
        #expect(throws: UsageError("--mqtt-tls-skip-hostname-check needs TLS (--mqtt-tls or --mqtt-ca-file)")) {
            try settings(["--mqtt-tls-skip-hostname-check"])
        }
        #expect(throws: UsageError("--mqtt-cert-file and --mqtt-key-file go together")) { try settings(["--mqtt-key-file", #filePath]) }
        #expect(throws: UsageError("--mqtt-key-file: cannot read '/nonexistent'")) {
            try settings(["--mqtt-cert-file", #filePath, "--mqtt-key-file", "/nonexistent"])
        }
    }

    /// Shapes an operator can type that used to slip past the mask or into an error message.
    @Test func oddlyShapedSecretsAreMaskedOrRefusedWithoutShowingThem() throws {
        for text in ["host=db user=chirp_writer password = Hunter2Secret dbname=chirp", "password\t=\tHunter2Secret",
                     "postgresql://chirp_writer:Hun/ter2Secret@127.0.0.1:5432/chirp", "postgresql://chirp_writer:Hun#ter2Secret@db/chirp",
                     "postgresql://chirp_writer:Hun@ter2Secret@db/chirp"] {
            let shown = Secrets.redact(text)
            #expect(!shown.contains("ter2Secret") && shown.contains(Secrets.mask), "\(text) → \(shown)")
        }
        #expect(Secrets.redact("host=db password = Hunter2Secret dbname=chirp") == "host=db password = *** dbname=chirp")
        let specs: [OptionSpec] = [.secret("postgres-url", env: "POSTGRES_URL", default: "", whole: false, help: "u")]
        for url in ["postgresql://chirp_writer:Hun/ter2Secret@127.0.0.1:5432/chirp", "postgresql://chirp_writer:Hun#ter2Secret@db/chirp",
                    "postgresql://chirp_writer:Hun@ter2Secret@db/chirp", "postgresql://chirp_writer:Hun%zzter2Secret@db/chirp",
                    "postgresql://chirp_writer:Hunter2Secret%@db/chirp", "postgresql://chirp_writer:hunter 2secret@db/chirp"] {
            #expect(throws: UsageError("--postgres-url (POSTGRES_URL) holds a user name or password with '/', '#', '?', '@', a blank or a '%' that starts no escape: percent-encode them (%2F, %23, %3F, %40, %20, %25)")) {
                try ParsedOptions.parse([], specs: specs, environment: ["POSTGRES_URL": url])
            }
        }
        for url in ["postgresql://chirp_writer:Hun%2Fter2Secret@db/chirp", "postgresql://db/chirp?user=u&password=x@y",
                    "postgresql://u:p@[::1]:5432/chirp",
                    "sasl.oauthbearer.token.endpoint.url=https://idp.example.com/oauth2/token,sasl.oauthbearer.client.id=svc@tenant",
                    "postgresql://chirp_writer@db/chirp?passfile=/run/secrets/pgpass"] {
            #expect(Secrets.urlShapeProblem(url) == nil, "\(url)")
        }
    }
}
