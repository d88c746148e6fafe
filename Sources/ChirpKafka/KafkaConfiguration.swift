import CRdKafka
import ChirpService
import Foundation

/// librdkafka properties, applied in order to a fresh `rd_kafka_conf_t`.
///
/// Defaults here keep memory bounded (librdkafka's own defaults queue up to 1 GiB in a producer
/// and 64 MiB per consumer) and batch, which is what keeps broker CPU per message low.
public struct KafkaConfiguration: Sendable {
    public var properties: [(String, String)]

    public init(brokers: String, _ properties: [(String, String)] = []) {
        self.properties = [("bootstrap.servers", brokers)] + properties
    }

    public subscript(key: String) -> String? {
        get { properties.last { $0.0 == key }?.1 }
        set {
            properties.removeAll { $0.0 == key }
            if let newValue { properties.append((key, newValue)) }
        }
    }

    /// The largest record a producer with this configuration sends (`message.max.bytes`: key,
    /// value and headers; librdkafka's default is 1 000 000). A larger one is refused by `send`.
    public var maximumMessageBytes: Int {
        self["message.max.bytes"].flatMap { Int($0) } ?? 1_000_000
    }

    /// Applies `key=value` overrides: separated by commas, or with `lines`, one per line (values
    /// may then hold commas; `#` starts a comment line). An entry without `=` is refused without
    /// echoing it, since it may hold a secret.
    public mutating func apply(overrides text: String, lines: Bool = false) throws(KafkaError) {
        let items = lines ? text.split(whereSeparator: \.isNewline) : text.split(separator: ",")
        for (number, item) in items.enumerated() {
            let entry = item.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty || lines && entry.hasPrefix("#") { continue }
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw .configuration("--kafka-config entries are key=value; entry \(number + 1) has no key or no '='")
            }
            self[parts[0]] = parts[1]
        }
    }

    /// Applies the service's login and TLS options (`ConnectionOptions.kafkaSecurity`), then its
    /// `--kafka-config` (from `KAFKA_CONFIG_FILE`, one entry per line), which may override them.
    public mutating func apply(options: ParsedOptions) throws(KafkaError) {
        let caFile = options.string("kafka-ca-file") ?? ""
        let username = options.string("kafka-username") ?? ""
        if !caFile.isEmpty {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw .configuration("--kafka-ca-file: cannot read '\(caFile)'")
            }
            self["security.protocol"] = "SSL"
            self["ssl.ca.location"] = caFile
        }
        if !caFile.isEmpty || !username.isEmpty {
            // The broker's name is checked against its certificate (librdkafka's default since
            // 2.0; said here so an older library does not silently skip it).
            self["ssl.endpoint.identification.algorithm"] = "https"
        }
        if !username.isEmpty {
            guard let password = options.string("kafka-password"), !password.isEmpty else {
                let env = options.environmentName("kafka-password") ?? "KAFKA_PASSWORD"
                throw .configuration("--kafka-username is '\(username)' but --kafka-password (\(env) or \(env)_FILE) is empty")
            }
            self["security.protocol"] = "SASL_SSL"
            self["sasl.mechanisms"] = "SCRAM-SHA-512"
            self["sasl.username"] = username
            self["sasl.password"] = password
        }
        try apply(overrides: options.string("kafka-config") ?? "", lines: options.sources["kafka-config"] == "file")
    }

    /// Idempotent, acks=all, batched, lz4-compressed producer with a bounded local queue.
    public static func producer(brokers: String, clientId: String, lingerMilliseconds: Int = 20,
                                queueKilobytes: Int = 16 * 1024) -> KafkaConfiguration {
        KafkaConfiguration(brokers: brokers, [
            ("client.id", clientId),
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("linger.ms", String(lingerMilliseconds)),
            ("batch.num.messages", "10000"),
            ("queue.buffering.max.kbytes", String(queueKilobytes)),
            ("queue.buffering.max.messages", "100000"),
            // Batches travel and are stored compressed; lz4 costs the clients next to nothing and
            // cut the local broker's CPU per record by a third (14 → 9 µs per tweet end to end).
            ("compression.type", "lz4"),
            ("message.timeout.ms", "0"),  // never give up: at-least-once is the contract
        ])
    }

    /// Consumer-group member with manual offset storing.
    ///
    /// Membership is dynamic: a member that dies is replaced once its session times out, and one
    /// that restarts joins as a new member. Static membership (`group.instance.id`, through
    /// `--kafka-config`) spares that rebalance on Apache Kafka, but the local broker (Tansu) keeps
    /// a static member that died as the group's leader when it comes back, and the group then never
    /// completes a rebalance (the restarted member of the fault matrix waited for minutes).
    ///
    /// Memory: librdkafka prefetches up to `queuedKilobytes` of record values (headers and
    /// per-record overhead come on top, about 3–4× for the loader's records) into one queue, in
    /// fetches of up to 512 KB as stored, i.e. compressed: one fetch unpacks to a few MB, all of
    /// it held until its last record is gone (2 MB fetches put a loader working off a backlog
    /// over 60 MB). A record batch larger than that still comes, alone. (`message.max.bytes`
    /// only bounds the consumer's own requests here; librdkafka wants it below the fetch size.)
    ///
    /// Fairness: each partition gets at most 64 KB of a fetch, so every assigned partition has a
    /// share of each one. Without that limit the local broker filled a fetch from the
    /// lowest-numbered partitions first: a consumer behind its input served partitions 3–5 last,
    /// and in a flood their tweets alone made the latency tail (p99 up to 4.9 s). Now a backlog
    /// delays all partitions alike.
    public static func consumer(
        brokers: String, groupId: String, clientId: String, queuedKilobytes: Int = 4096
    ) -> KafkaConfiguration {
        KafkaConfiguration(brokers: brokers, [
            ("client.id", clientId),
            ("group.id", groupId),
            ("session.timeout.ms", "6000"),
            ("heartbeat.interval.ms", "1000"),
            // Also the rebalance timeout: how long a rebalance may wait for members to rejoin.
            // Once, in the compose suite, a scaled categorizer group stayed without partitions
            // for over three minutes after one member had lost the broker for 40 s; with
            // librdkafka's default (5 minutes) such a wait outlasts what a user would tolerate.
            // The loops poll every few hundred milliseconds; one stuck for a minute (a database
            // outage) leaves the group and rejoins when it polls again.
            ("max.poll.interval.ms", "60000"),
            ("auto.offset.reset", "earliest"),
            ("enable.auto.commit", "true"),
            ("auto.commit.interval.ms", "1000"),
            ("enable.auto.offset.store", "false"),  // offsets are stored only after the work is durable
            ("enable.partition.eof", "false"),
            ("fetch.wait.max.ms", "50"),
            ("fetch.min.bytes", "65536"),
            ("queued.max.messages.kbytes", String(queuedKilobytes)),
            ("fetch.max.bytes", "524288"),
            ("max.partition.fetch.bytes", "65536"),
            ("message.max.bytes", "262144"),
        ] + fetchQueueBackoff)
    }

    /// When the prefetch queue is full, librdkafka postpones the partition's next fetch by 1 s:
    /// with a queue as small as ours, a consumer that drains it within milliseconds then waits out
    /// most of that second (a loader working off a backlog kept PostgreSQL a third busy). From 2.4
    /// the pause is `fetch.queue.backoff.ms`; 1.3–2.3 have no such property and may wait up to
    /// the second (there, give the queue a second's worth of records through `--kafka-config`).
    static var fetchQueueBackoff: [(String, String)] {
        rd_kafka_version() >= 0x0204_0000 ? [("fetch.queue.backoff.ms", "10")] : []
    }

    /// Builds the C configuration. The caller owns the result until it is given to `rd_kafka_new`.
    func makeHandle() throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw .configuration("rd_kafka_conf_new failed") }
        var errorBuffer = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            let result = rd_kafka_conf_set(conf, key, value, &errorBuffer, errorBuffer.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                // librdkafka's message may quote the value: not for a secret setting (checked
                // without regard to case, as a mistyped name is refused with its value).
                guard !Secrets.isSecretKey(key) else { throw .configuration("\(key): refused by librdkafka (value not shown)") }
                throw .configuration("\(key)=\(value): \(KafkaError.text(errorBuffer))")
            }
        }
        return conf
    }
}
