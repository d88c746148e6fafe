import ChirpCore
import ChirpPipeline
import Testing

/// The categorizer's routing decisions, without a broker.
@Suite struct RecordRouterTests {
    static let router = RecordRouter(enrichedTopic: "tweets.enriched", maxPayloadBytes: 2000, maxTweetsPerPayload: 3, enricher: Enricher())
    static func size(_ key: Int, _ value: Int, _ headers: RecordHeaders) -> Int { 36 + key + value + headers.storage.count }

    static func record(_ payload: String, published: String? = nil, timestamp: Int64? = 1_700_000_000_000) -> ConsumedRecord {
        var headers = RecordHeaders()
        if let published { headers.append(Wire.publishedAt, published) }
        return ConsumedRecord(topic: "tweets.raw", partition: 2, offset: 41, key: nil, value: Array(payload.utf8), headers: headers,
                              timestampMilliseconds: timestamp)
    }

    @Test func aPageBecomesOneRecordPerTweetAndCarriesItsPayloadOnce() throws {
        let page = ##"{"data":[{"id":"1","text":"#Pizza time"},{"id":"2","text":"no tags"},{"id":"3","text":"x"}]}"##
        let decision = Self.router.route(Self.record(page, published: "1700000000500"), now: 0, maxRecordBytes: 10_000, recordSize: Self.size)
        guard case .enriched(let outputs) = decision.route else { Issue.record("\(decision.route)"); return }
        #expect(outputs.map { String(decoding: $0.key, as: UTF8.self) } == ["1", "2", "3"])
        #expect(try EnrichedTweet.decode(outputs[0].value).hashtags.map(\.key) == ["pizza"])
        // No created_at: the publish time stands in.
        #expect(try EnrichedTweet.decode(outputs[1].value).createdAt.millisecondsSinceEpoch == 1_700_000_000_500)
        #expect(outputs.map { $0.headers.string(Wire.rawDocument) } == [page, nil, nil])
        #expect(outputs.map { $0.headers.int64(Wire.rawPart) } == [0, 1, 2])
        for output in outputs {
            #expect(output.headers[Wire.rawPayload] == nil)
            #expect(output.headers.int64(Wire.rawPartition) == 2 && output.headers.int64(Wire.rawOffset) == 41)
            #expect(output.headers.string(Wire.rawTopicName) == "tweets.raw" && output.headers.int64(Wire.rawTimestamp) == 1_700_000_000_000)
            #expect(output.headers.int64(Wire.publishedAt) == 1_700_000_000_500)
        }
        #expect(decision.ignored.isEmpty)
    }

    @Test func aPageWithoutAnyUsableTimeCarriesThePayloadOnEachRecord() throws {
        // Routed again later, "now" would differ, and so would the time a document is found by.
        let page = #"{"id":"u","tweets":["a","b"]}"#
        let decision = Self.router.route(Self.record(page, timestamp: nil), now: 1_600_000_000_000, maxRecordBytes: 10_000, recordSize: Self.size)
        guard case .enriched(let outputs) = decision.route else { Issue.record("\(decision.route)"); return }
        #expect(outputs.map { $0.headers.string(Wire.rawPayload) } == [page, page])
        #expect(outputs.allSatisfy { $0.headers[Wire.rawDocument] == nil && $0.headers[Wire.rawPart] == nil })
        let published = Self.router.route(Self.record(page, published: "1700000000500", timestamp: nil), now: 0, maxRecordBytes: 10_000, recordSize: Self.size)
        guard case .enriched(let stamped) = published.route else { Issue.record("\(published.route)"); return }
        #expect(stamped.map { $0.headers.int64(Wire.rawPart) } == [0, 1])
    }

    @Test func aSingleTweetCarriesItsPayloadWithoutParts() throws {
        let payload = ##"{"id":"7","text":"#one"}"##
        let decision = Self.router.route(Self.record(payload), now: 0, maxRecordBytes: 10_000, recordSize: Self.size)
        guard case .enriched(let outputs) = decision.route else { Issue.record("\(decision.route)"); return }
        #expect(outputs.count == 1)
        #expect(outputs[0].headers.string(Wire.rawPayload) == payload)
        #expect(outputs[0].headers[Wire.rawDocument] == nil && outputs[0].headers[Wire.rawPart] == nil)
    }

    @Test func unusableTimesAreCountedAndReplaced() throws {
        let decision = Self.router.route(Self.record(#"{"id":"1","text":"x"}"#, published: "-9223372036854775808", timestamp: Int64.max),
                                         now: 1_600_000_000_000, maxRecordBytes: 10_000, recordSize: Self.size)
        guard case .enriched(let outputs) = decision.route else { Issue.record("\(decision.route)"); return }
        #expect(decision.ignored == ["chirp-published-ms:out_of_range", "kafka-timestamp:out_of_range"])
        #expect(outputs[0].headers[Wire.publishedAt] == nil)
        #expect(try EnrichedTweet.decode(outputs[0].value).createdAt.millisecondsSinceEpoch == 1_600_000_000_000)
    }

    @Test func rejectionsAndOversizedOutputAreDeadLetters() {
        let table: [(String, Int, RejectReason)] = [
            ("not json", 10_000, .invalidJSON),
            (#"{"id":"u","tweets":["a","b","c","d"]}"#, 10_000, .tooManyTweets),
            (#"{"id":"1","text":"\#(String(repeating: "y", count: 2100))"}"#, 10_000, .tooLarge),  // over maxPayloadBytes
            (#"{"id":"1","text":"\#(String(repeating: "y", count: 900))"}"#, 1_900, .tooLarge),  // the enriched record over the limit
        ]
        for (payload, limit, reason) in table {
            let decision = Self.router.route(Self.record(payload), now: 0, maxRecordBytes: limit, recordSize: Self.size)
            guard case .deadLetter(let rejection, _) = decision.route else { Issue.record("\(payload.prefix(30)) was routed \(decision.route)"); continue }
            #expect(rejection.reason == reason, "\(payload.prefix(30))")
        }
    }

    @Test func deadLetterMessagesGiveWayToThePayload() throws {
        let record = Self.record(String(repeating: "z", count: 1_000))
        let rejection = TweetRejection(.invalidJSON, String(repeating: "é", count: 600))  // 1 200 bytes
        let roomy = try #require(RecordRouter.deadLetterHeaders(for: record, forwarded: RecordHeaders(), rejection: rejection, maxRecordBytes: 5_000, recordSize: Self.size))
        #expect(roomy.string(Wire.dlqMessage)?.utf8.count == 1_000)
        #expect(roomy.string(Wire.dlqReason) == "invalid_json" && roomy.int64(Wire.dlqSourceOffset) == 41)
        let tight = try #require(RecordRouter.deadLetterHeaders(for: record, forwarded: RecordHeaders(), rejection: rejection, maxRecordBytes: 1_200, recordSize: Self.size))
        #expect(Self.size(0, 1_000, tight) <= 1_200)
        let message = try #require(tight.string(Wire.dlqMessage))
        #expect(message.utf8.count % 2 == 0 && message.utf8.count < 100)  // whole characters only
        #expect(RecordRouter.deadLetterHeaders(for: record, forwarded: RecordHeaders(), rejection: rejection, maxRecordBytes: 1_050, recordSize: Self.size) == nil)
    }
}
