import ChirpCore

/// What becomes of one raw record: decided without I/O, from the record, the rules and the
/// producer's size limit.
public struct RecordRouter: Sendable {
    public var enrichedTopic: String
    public var maxPayloadBytes: Int
    public var maxTweetsPerPayload: Int
    public var enricher: Enricher

    public init(enrichedTopic: String, maxPayloadBytes: Int, maxTweetsPerPayload: Int, enricher: Enricher) {
        self.enrichedTopic = enrichedTopic
        self.maxPayloadBytes = maxPayloadBytes
        self.maxTweetsPerPayload = maxTweetsPerPayload
        self.enricher = enricher
    }

    public struct Output: Sendable {
        public var key: [UInt8]
        public var value: [UInt8]
        /// Publish time and raw provenance; the payload on the first record of a document only.
        public var headers: RecordHeaders
    }

    public enum Route: Sendable {
        /// One enriched record per tweet.
        case enriched([Output])
        /// The raw record goes to the dead letters; `forwarded` are the headers it keeps.
        case deadLetter(TweetRejection, forwarded: RecordHeaders)
    }

    public struct Decision: Sendable {
        public var route: Route
        /// Headers (and the record timestamp) not used, as "<name>:<problem>".
        public var ignored: [String]
    }

    /// `now`: the time used when the record carries none (epoch milliseconds). `recordSize` and
    /// `maxRecordBytes` are the producer's.
    public func route(_ record: ConsumedRecord, now: Int64, maxRecordBytes: Int,
                      recordSize: (_ keyBytes: Int, _ valueBytes: Int, _ headers: RecordHeaders) -> Int) -> Decision {
        var ignored: [String] = []
        // Headers are anyone's to write: a publish time travels on (as sent) only when it is a
        // storable time, and so does the record's own timestamp. The enriched records' headers
        // are built in one buffer sized for the raw payload (which a single tweet's record carries).
        var headers = RecordHeaders(minimumCapacity: record.value.count + 256)
        var published: Timestamp?
        record.headers.withValue(Wire.publishedAt) { bytes in
            switch RecordHeaders.time(decimal: bytes) {
            case .success(let time):
                published = time
                headers.append(Wire.publishedAt, bytes: bytes)
            case .failure(let problem):
                ignored.append("\(Wire.publishedAt):\(problem.rawValue)")
            }
        }
        let recordTime = record.timestampMilliseconds.flatMap { milliseconds in
            let time = Timestamp(storableMilliseconds: milliseconds)
            if time == nil { ignored.append("kafka-timestamp:\(HeaderTimeProblem.outOfRange.rawValue)") }
            return time
        }
        let fallback = published ?? recordTime ?? Timestamp(millisecondsSinceEpoch: now)

        let tweets: [Tweet]
        do throws(TweetRejection) {
            tweets = try TweetDecoder.decode(bytes: record.value, maximumBytes: maxPayloadBytes, maximumTweets: maxTweetsPerPayload)
        } catch {
            return Decision(route: .deadLetter(error, forwarded: Self.forwardedHeaders(of: record)), ignored: ignored)
        }
        // Where the payload came from travels with each record; the payload itself once per
        // payload (the loader keeps it as raw master data): a page of 500 tweets must not put
        // its bytes through Kafka and the store 500 times.
        headers.append(Wire.rawTopicName, record.topic)
        headers.append(Wire.rawTimestamp, (recordTime ?? fallback).millisecondsSinceEpoch)
        headers.append(Wire.rawPartition, Int64(record.partition))
        headers.append(Wire.rawOffset, record.offset)
        let enriched = tweets.map { enricher.enrich($0, fallbackTime: fallback) }
        if let crowded = enriched.first(where: { $0.hashtags.count > EnrichedTweet.maximumHashtags }) {
            let rejection = TweetRejection(.tooManyHashtags, "tweet \(crowded.id) has \(crowded.hashtags.count) hashtags; the store numbers at most \(EnrichedTweet.maximumHashtags)")
            return Decision(route: .deadLetter(rejection, forwarded: Self.forwardedHeaders(of: record)), ignored: ignored)
        }
        var outputs: [Output] = []
        outputs.reserveCapacity(enriched.count)
        // A document is found by the raw position and time its records carry. With no time of
        // its own or from the publisher, that time is now, which differs when the record is
        // routed again: such a record's tweets each carry the payload.
        if enriched.count == 1 || (recordTime == nil && published == nil) {
            headers.append(Wire.rawPayload, record.value)
            for tweet in enriched { outputs.append(Output(key: Array(tweet.id.utf8), value: tweet.encoded(), headers: headers)) }
        } else {
            for (index, tweet) in enriched.enumerated() {
                var own = headers
                own.append(Wire.rawPart, Int64(index))
                if index == 0 { own.append(Wire.rawDocument, record.value) }
                outputs.append(Output(key: Array(tweet.id.utf8), value: tweet.encoded(), headers: own))
            }
        }
        // Kafka refuses a record over its limit; the escaped text and the raw payload can make an
        // enriched record twice the payload's size or more. Checked before anything is sent, so a
        // document goes out whole or as one dead letter.
        if let largest = outputs.map({ recordSize($0.key.count, $0.value.count, $0.headers) }).max(), largest > maxRecordBytes {
            let rejection = TweetRejection(.tooLarge, "an enriched record would take \(largest) bytes with its headers; Kafka takes at most \(maxRecordBytes) (message.max.bytes)")
            return Decision(route: .deadLetter(rejection, forwarded: Self.forwardedHeaders(of: record)), ignored: ignored)
        }
        return Decision(route: .enriched(outputs), ignored: ignored)
    }

    /// The headers a dead letter of `record` keeps: its publish time, when usable. Read again
    /// from the record: the rare path pays for it, not the enriched records' header buffer.
    public static func forwardedHeaders(of record: ConsumedRecord) -> RecordHeaders {
        var forwarded = RecordHeaders()
        record.headers.withValue(Wire.publishedAt) { bytes in
            if case .success = RecordHeaders.time(decimal: bytes) { forwarded.append(Wire.publishedAt, bytes: bytes) }
        }
        return forwarded
    }

    /// The dead letter's headers: the forwarded ones, the reason, the source position, and the
    /// message, shortened (on a character) to what the limit leaves, at most 1 000 bytes. nil
    /// when the raw record cannot fit even without a message.
    public static func deadLetterHeaders(for record: ConsumedRecord, forwarded: RecordHeaders, rejection: TweetRejection, maxRecordBytes: Int,
                                         recordSize: (_ keyBytes: Int, _ valueBytes: Int, _ headers: RecordHeaders) -> Int) -> RecordHeaders? {
        var headers = forwarded
        headers.append(Wire.dlqReason, rejection.reason.rawValue)
        headers.append(Wire.dlqSourceTopic, record.topic)
        headers.append(Wire.dlqSourcePartition, Int64(record.partition))
        headers.append(Wire.dlqSourceOffset, record.offset)
        let size = recordSize(record.key?.count ?? 0, record.value.count, headers)
            + RecordHeaders.storedSize(nameBytes: Wire.dlqMessage.utf8.count, valueBytes: 0)
        guard size <= maxRecordBytes else { return nil }
        headers.append(Wire.dlqMessage, prefix(of: rejection.message, maxBytes: min(1000, maxRecordBytes - size)))
        return headers
    }

    /// The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends on a character.
    public static func prefix(of text: String, maxBytes: Int) -> String {
        var used = 0
        var end = text.startIndex
        for character in text {
            used += character.utf8.count
            guard used <= maxBytes else { break }
            end = text.index(after: end)
        }
        return String(text[..<end])
    }
}
