/// Names shared by the services on the wire: MQTT user properties, Kafka headers, topics.
public enum Wire {
    /// When the sender published the message, milliseconds since the epoch (MQTT 5 user property,
    /// then Kafka header on `tweets.raw` and `tweets.enriched`). Never inside the payload.
    public static let publishedAt = "chirp-published-ms"
    /// The tweet id, when the publisher knows it (saves the bridge parsing the payload for the key).
    public static let tweetId = "chirp-tweet-id"
    /// The MQTT topic a raw record arrived on.
    public static let mqttTopic = "mqtt-topic"

    /// Headers the categorizer puts on enriched records so the loader can keep the payload as
    /// received (the raw master data recompute reads). Every record gets the raw record's Kafka
    /// topic, timestamp in milliseconds (when the bridge produced it), partition and offset.
    /// The payload bytes travel once per payload: on the record of a payload that yields one
    /// tweet as `rawPayload`; for a payload that yields several, on the first record only as
    /// `rawDocument`, and every record of it has `rawPart` (its index, decimal), so the loader
    /// stores the payload once and points each tweet's raw row at it.
    public static let rawPayload = "chirp-raw-payload"
    public static let rawDocument = "chirp-raw-document"
    public static let rawPart = "chirp-raw-part"
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

    /// The default payload limit of the categorizer. A dead letter carries the payload as
    /// received plus its headers, and it must still fit librdkafka's default `message.max.bytes`
    /// (1 000 000); so must, mostly, an enriched record, which holds the payload and the tweet's
    /// text again. Half a MiB leaves room for both, and a tweet, even a v2 page of a hundred with
    /// their includes, is far smaller.
    public static let defaultMaxPayloadBytes = 512 * 1024

    /// What a dead letter adds to the payload at most: the publish time and the dead-letter
    /// headers with a full message (a payload within the limit always gets one).
    public static let deadLetterOverheadBytes = 4096

    /// Room the bridge leaves between a raw record and Kafka's limit, so that the categorizer can
    /// still dead-letter it whole (with a shortened message): the reason, the source topic,
    /// partition and offset take under 200 bytes more than the raw record's own headers.
    public static let deadLetterReserveBytes = 512

    /// Longest tweet id, in UTF-8 bytes (a tweet's is 19 digits, a record's `<id>-<n>`): ids are
    /// primary keys, and PostgreSQL's index entries hold about 2 700 bytes.
    public static let maximumIdBytes = 256
    /// Longest language tag, in UTF-8 bytes (BCP 47 tags that tweets carry are a few letters).
    public static let maximumLanguageBytes = 64

    public static let defaultMQTTTopic = "tweets"
    public static let rawTopic = "tweets.raw"
    public static let enrichedTopic = "tweets.enriched"
    public static let deadLetterTopic = "tweets.dlq"
}
