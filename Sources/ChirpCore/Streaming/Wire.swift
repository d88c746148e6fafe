/// Names shared by the services on the wire: MQTT user properties, Kafka headers, topics.
public enum Wire {
    /// When the sender published the message, milliseconds since the epoch (MQTT 5 user property,
    /// then Kafka header on `tweets.raw` and `tweets.enriched`). Never inside the payload.
    public static let publishedAt = "chirp-published-ms"
    /// The tweet id, when the publisher knows it (saves the bridge parsing the payload for the key).
    public static let tweetId = "chirp-tweet-id"
    /// The MQTT topic a raw record arrived on.
    public static let mqttTopic = "mqtt-topic"

    /// Headers the categorizer puts on every enriched record so the loader can keep the payload
    /// as received (the raw master data recompute reads): the payload bytes, the raw record's
    /// Kafka topic, timestamp in milliseconds (when the bridge produced it), partition and offset.
    public static let rawPayload = "chirp-raw-payload"
    public static let rawTopicName = "chirp-raw-topic"
    public static let rawTimestamp = "chirp-raw-ms"
    public static let rawPartition = "chirp-raw-partition"
    public static let rawOffset = "chirp-raw-offset"

    /// Dead-letter headers.
    public static let dlqReason = "dlq-reason"
    public static let dlqMessage = "dlq-message"
    public static let dlqSourceTopic = "dlq-source-topic"
    public static let dlqSourcePartition = "dlq-source-partition"
    public static let dlqSourceOffset = "dlq-source-offset"

    public static let defaultMQTTTopic = "tweets"
    public static let rawTopic = "tweets.raw"
    public static let enrichedTopic = "tweets.enriched"
    public static let deadLetterTopic = "tweets.dlq"
}
