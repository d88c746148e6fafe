import Foundation

/// Options that several services share, defined once so that flags, variables, defaults and help
/// texts are the same everywhere (and in `docker-compose.yml`).
public enum ConnectionOptions {
    /// MQTT broker address, topic and credentials. The client id and the credentials are the
    /// service's own (`<SERVICE>_MQTT_CLIENT_ID`, `<SERVICE>_MQTT_USERNAME`,
    /// `<SERVICE>_MQTT_PASSWORD`): a client id must be unique on the broker, and each service
    /// logs in as a user the broker's ACL allows only what that service does.
    public static func mqtt(service: String, topicHelp: String, clientIdHelp: String) -> [OptionSpec] {
        [
            OptionSpec("mqtt-host", env: "MQTT_HOST", default: "127.0.0.1", help: "MQTT broker host."),
            OptionSpec("mqtt-port", env: "MQTT_PORT", default: "1883", help: "MQTT broker port."),
            OptionSpec("mqtt-topic", env: "MQTT_TOPIC", default: "tweets", help: topicHelp),
            OptionSpec("mqtt-client-id", env: "\(service)_MQTT_CLIENT_ID", default: "", help: clientIdHelp),
            OptionSpec("mqtt-username", env: "\(service)_MQTT_USERNAME", default: "",
                       help: "MQTT user name; empty connects anonymously, which the brokers Chirpstream sets up refuse."),
            .secret("mqtt-password", env: "\(service)_MQTT_PASSWORD", default: "", whole: true, help: "MQTT password (with --mqtt-username)."),
            .switch("mqtt-tls", env: "MQTT_TLS", help: "Connect over TLS, checking the broker's certificate against the system's CAs (or --mqtt-ca-file) and its name against --mqtt-host."),
            OptionSpec("mqtt-ca-file", env: "MQTT_CA_FILE", default: "", help: "CA certificates (PEM) that the broker's certificate must chain to; turns TLS on."),
            OptionSpec("mqtt-cert-file", env: "\(service)_MQTT_CERT_FILE", default: "", help: "Client certificate (PEM) for brokers that ask for one; with --mqtt-key-file."),
            OptionSpec("mqtt-key-file", env: "\(service)_MQTT_KEY_FILE", default: "", help: "Private key (PEM, unencrypted) of --mqtt-cert-file."),
            .switch("mqtt-tls-skip-hostname-check", env: "MQTT_TLS_SKIP_HOSTNAME_CHECK",
                    help: "Accept a broker certificate that does not name --mqtt-host (the chain is still checked); for test brokers only."),
        ]
    }

    public static let kafkaBrokers = OptionSpec("kafka-brokers", env: "KAFKA_BROKERS", default: "127.0.0.1:9092", help: "Kafka bootstrap servers (host:port,…).")

    /// Kafka login and TLS, the service's own (`<SERVICE>_KAFKA_USERNAME`, `<SERVICE>_KAFKA_PASSWORD`):
    /// a broker with ACLs lets each principal do its service's part only. They become librdkafka
    /// properties (`KafkaConfiguration.apply(options:)`), before `--kafka-config`, which may still
    /// change the protocol or mechanism.
    public static func kafkaSecurity(service: String) -> [OptionSpec] {
        [
            OptionSpec("kafka-username", env: "\(service)_KAFKA_USERNAME", default: "",
                       help: "Kafka SASL user name: logs in with SCRAM-SHA-512 over TLS (security.protocol=SASL_SSL); empty: no login."),
            .secret("kafka-password", env: "\(service)_KAFKA_PASSWORD", default: "", whole: true, help: "Kafka SASL password (with --kafka-username)."),
            OptionSpec("kafka-ca-file", env: "KAFKA_CA_FILE", default: "",
                       help: "CA certificates (PEM) the brokers' certificates must chain to (ssl.ca.location); turns TLS on. Without it TLS checks against the system's CAs."),
        ]
    }

    public static let kafkaLinger = OptionSpec("kafka-linger-ms", env: "KAFKA_LINGER_MS", default: "20", help: "Producer batching delay (linger.ms).")

    public static func topicPartitions(_ what: String) -> OptionSpec {
        OptionSpec("topic-partitions", env: "TOPIC_PARTITIONS", default: "6", help: "Partitions when the \(what) (an existing topic is left as it is).")
    }
}

/// The MQTT connection settings parsed from `ConnectionOptions.mqtt`.
public struct MQTTSettings: Sendable {
    public var host: String
    public var port: Int32
    public var clientId: String
    public var username: String?
    public var password: String?
    /// nil: plain TCP.
    public var tls: TLS?

    /// How to speak TLS to the broker.
    public struct TLS: Sendable, Equatable {
        /// nil: the system's CA certificates.
        public var caFile: String?
        public var certificateFile: String?
        public var keyFile: String?
        public var checkHostname = true

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, checkHostname: Bool = true) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.checkHostname = checkHostname
        }
    }

    /// `defaultClientId` is used when `--mqtt-client-id` is empty.
    public init(_ options: ParsedOptions, defaultClientId: String) throws(UsageError) {
        host = try options.required("mqtt-host")
        let portNumber = try options.int("mqtt-port")
        guard (1...65_535).contains(portNumber) else { throw UsageError("--mqtt-port must be between 1 and 65535") }
        port = Int32(portNumber)
        let id = options.string("mqtt-client-id") ?? ""
        clientId = id.isEmpty ? defaultClientId : id
        let user = options.string("mqtt-username") ?? ""
        username = user.isEmpty ? nil : user
        password = username == nil ? nil : options.string("mqtt-password")
        if let username, password?.isEmpty ?? true {
            let env = options.environmentName("mqtt-password") ?? "MQTT_PASSWORD"
            throw UsageError("--mqtt-username is '\(username)' but --mqtt-password (\(env) or \(env)_FILE) is empty")
        }
        func path(_ flag: String) -> String? { options.string(flag).flatMap { $0.isEmpty ? nil : $0 } }
        let caFile = path("mqtt-ca-file"), certificate = path("mqtt-cert-file"), key = path("mqtt-key-file")
        guard (certificate == nil) == (key == nil) else { throw UsageError("--mqtt-cert-file and --mqtt-key-file go together") }
        let skipHostname = try options.bool("mqtt-tls-skip-hostname-check")
        if try options.bool("mqtt-tls") || caFile != nil || certificate != nil {
            for (flag, file) in [("mqtt-ca-file", caFile), ("mqtt-cert-file", certificate), ("mqtt-key-file", key)] {
                if let file, !FileManager.default.isReadableFile(atPath: file) { throw UsageError("--\(flag): cannot read '\(file)'") }
            }
            tls = TLS(caFile: caFile, certificateFile: certificate, keyFile: key, checkHostname: !skipHostname)
        } else if skipHostname {
            throw UsageError("--mqtt-tls-skip-hostname-check needs TLS (--mqtt-tls or --mqtt-ca-file)")
        }
    }
}
