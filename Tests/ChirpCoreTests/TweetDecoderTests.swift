import Foundation
import Testing
@testable import ChirpCore

@Suite struct TweetDecoderTests {
    func decodeFile(_ name: String) throws -> [Tweet] {
        var tweets: [Tweet] = []
        for line in try SharedData.lines(name) {
            tweets += try TweetDecoder.decode(bytes: Array(line.utf8))
        }
        return tweets
    }

    @Test func v11SampleUsesExtendedFullText() throws {
        let tweets = try decodeFile("sample-v11.jsonl")
        #expect(tweets.count == 72)
        #expect(Set(tweets.map(\.id)).count == 71)  // the sample repeats one tweet
        #expect(tweets.allSatisfy { $0.format == .v1 && $0.createdAt != nil })
        let first = try #require(tweets.first { $0.id == "972472958596866048" })
        #expect(first.authorName == "Ali_Dokhikh")
        #expect(first.lang == "ar")
        #expect(first.text.hasPrefix("يا أيها الذين آمنوا"))
        #expect(first.text.count > 140)  // the untruncated text, not the 140-character cut
        #expect(HashtagExtractor.extractDisplay(first.text) == ["Quran"])
        #expect(first.createdAt == Timestamp(parsing: "Sat Mar 10 14:03:15 +0000 2018"))
    }

    @Test func v11ExtendedHashtagsMatchExtraction() throws {
        // Every v1.1 tweet's extended_tweet.entities.hashtags equals what the extractor finds in full_text.
        for line in try SharedData.lines("sample-v11.jsonl") {
            let value = try JSONParser.parse(line)
            let expected = value["extended_tweet"]?["entities"]?["hashtags"]?.arrayValue?.compactMap { $0["text"]?.stringValue } ?? []
            let tweet = try #require(try TweetDecoder.decode(value).first)
            #expect(HashtagExtractor.extractDisplay(tweet.text) == expected, "\(tweet.id)")
        }
    }

    @Test func v2PagesYieldEveryTweetWithAuthors() throws {
        for name in ["sample-v2-brexit.jsonl", "sample-v2-kpop.jsonl"] {
            let tweets = try decodeFile(name)
            #expect(tweets.count == 100, "\(name)")
            #expect(tweets.allSatisfy { $0.format == .v2 && $0.authorName != nil && $0.createdAt != nil })
        }
        let tweets1 = try decodeFile("twarc-hashtags-tweets1.jsonl")
        #expect(tweets1.count == 300)
        #expect(tweets1.filter(\.isRetweet).count == 242)
    }

    @Test func retweetTakesTheOriginalsFullText() throws {
        let tweets = try decodeFile("sample-v2-kpop.jsonl")
        let retweet = try #require(tweets.first { $0.id == "1440717170493689866" })
        #expect(retweet.retweetOf == "1440691114135080963")
        #expect(retweet.text.hasPrefix("#TopKPopEcuador\n@BTS_twt"))
        #expect(HashtagExtractor.extractDisplay(retweet.text) == ["TopKPopEcuador", "Butter", "Lisa", "charts", "kpop", "bts", "blackpink", "straykids"])
    }

    @Test func v2OriginalsAgreeWithTheirEntities() throws {
        // For tweets that are not retweets, text and entities describe the same text: they must agree.
        var compared = 0
        for name in ["sample-v2-brexit.jsonl", "sample-v2-kpop.jsonl", "twarc-hashtags-tweets1.jsonl"] {
            for line in try SharedData.lines(name) {
                let page = try JSONParser.parse(line)
                for element in page["data"]?.arrayValue ?? [] {
                    let retweeted = element["referenced_tweets"]?.arrayValue?.contains { $0["type"]?.stringValue == "retweeted" } ?? false
                    guard !retweeted, element["note_tweet"] == nil, let text = element["text"]?.stringValue else { continue }
                    let expected = element["entities"]?["hashtags"]?.arrayValue?.compactMap { $0["tag"]?.stringValue } ?? []
                    #expect(HashtagExtractor.extractDisplay(text) == expected, "\(element["id"]?.idValue ?? "")")
                    compared += 1
                }
            }
        }
        #expect(compared > 100)
    }

    @Test func originalTweetFields() throws {
        let tweets = try decodeFile("sample-v2-brexit.jsonl")
        let tweet = try #require(tweets.first { $0.id == "1440716895355764743" })
        #expect(tweet.authorId == "4203239195")
        #expect(tweet.authorName == "WarmongerHodges")
        #expect(!tweet.isRetweet)
        #expect(HashtagExtractor.extractDisplay(tweet.text) == ["PeoplesVote", "Brexit"])
    }

    @Test func recordsAndMinimalTweets() throws {
        let record = try TweetDecoder.decode(JSONParser.parse(#"{"id": "u7", "tweets": ["I love #pizza", "coffee time"]}"#))
        #expect(record.map(\.id) == ["u7-0", "u7-1"])
        #expect(record.map(\.text) == ["I love #pizza", "coffee time"])
        #expect(record.allSatisfy { $0.format == .record && $0.authorId == "u7" })

        let minimal = try TweetDecoder.decode(JSONParser.parse(#"{"id": 42, "text": "hi", "created_at": "2024-02-29T12:00:00Z"}"#))
        #expect(minimal == [Tweet(id: "42", createdAt: Timestamp(parsing: "2024-02-29T12:00:00Z"), text: "hi", format: .minimal)])

        let uuid = try TweetDecoder.decode(JSONParser.parse(#"{"id": "3f1e6a4c-1d2b-4a8e-9a61-0b6f8e6d2c11", "text": "x"}"#))
        #expect(uuid.first?.id == "3f1e6a4c-1d2b-4a8e-9a61-0b6f8e6d2c11")
    }

    @Test func v2SingleTweetAndNoteTweet() throws {
        let tweets = try TweetDecoder.decode(JSONParser.parse(#"""
            {"data": {"id": "9", "text": "short…", "note_tweet": {"text": "the long text #Long"}, "author_id": "5",
                      "created_at": "2023-01-01T00:00:00.000Z"},
             "includes": {"users": [{"id": "5", "username": "five"}]}}
            """#))
        #expect(tweets.count == 1)
        #expect(tweets[0].text == "the long text #Long")
        #expect(tweets[0].authorName == "five")
    }

    @Test(arguments: [
        (#"{"text": "no id"}"#, RejectReason.missingId, "no 'id' field"),
        (#"{"id": "1"}"#, .missingText, "tweet 1 has no 'text'"),
        (#"{"id": true, "text": "x"}"#, .wrongType, "'id' must be a string or number, got boolean"),
        (#"{"id": "1", "text": 5}"#, .wrongType, "'text' must be a string, got number"),
        (#"{"id_str": "1", "text": "x", "created_at": "soon"}"#, .wrongType, "'created_at' is not a recognized time: \"soon\""),
        (#"{"data": []}"#, .empty, "v2 response with an empty 'data' array"),
        (#"{"id": "1", "text": "x", "created_at": 9000000000000000}"#, .wrongType, "'created_at' is outside the years 1 to 9999: 9000000000000000"),
        (#"{"id": "1", "text": "x", "created_at": -9223372036854775808}"#, .wrongType, "'created_at' must be an integer epoch time, got -9223372036854775808"),
        (#"{"id": "1", "text": "x", "created_at": 9223372036854775807}"#, .wrongType, "'created_at' must be an integer epoch time, got 9223372036854775807"),
        (#"{"id": "1", "text": "x", "created_at": "0001-01-01T00:00:00+01:00"}"#, .wrongType, "'created_at' is outside the years 1 to 9999: \"0001-01-01T00:00:00+01:00\""),
        (#"{"id": "1", "text": "x", "created_at": "9999-12-31T23:59:59-01:00"}"#, .wrongType, "'created_at' is outside the years 1 to 9999: \"9999-12-31T23:59:59-01:00\""),
        (#"{"id": "dup\u0000", "text": "x"}"#, .wrongType, "'id' contains a NUL character"),
        (#"{"id_str": "\u0000", "text": "x"}"#, .wrongType, "'id_str' contains a NUL character"),
        (#"{"id": "1", "text": "x", "lang": "e\u0000n"}"#, .wrongType, "'lang' contains a NUL character"),
        ("{\"id\": \"\(String(repeating: "9", count: 257))\", \"text\": \"x\"}", .wrongType, "'id' is longer than 256 bytes"),
        ("{\"id\": \"1\", \"text\": \"x\", \"lang\": \"\(String(repeating: "e", count: 65))\"}", .wrongType, "'lang' is longer than 64 bytes"),
        ("{\"data\": {\"id\": \"1\", \"text\": \"x\", \"lang\": \"\(String(repeating: "e", count: 65))\"}}", .wrongType, "'lang' is longer than 64 bytes"),
        (#"{"id": "1", "text": "x", "created_at": "0000-01-01T00:00:00Z"}"#, .wrongType, "'created_at' is not a recognized time: \"0000-01-01T00:00:00Z\""),
        (#"{"data": 3}"#, .wrongType, "'data' must be an object or array, got number"),
        (#"{"hello": "world"}"#, .unknownFormat, "object has no tweet fields (keys: hello)"),
        (#"[1, 2]"#, .unknownFormat, "expected a JSON object, got array"),
        (#"{"id": "1", "tweets": "x"}"#, .wrongType, "'tweets' must be an array"),
        (#"{"id":"#, .invalidJSON, "unexpected end of input at byte 6"),
    ] as [(String, RejectReason, String)])
    func rejectsWithReasonAndMessage(input: String, reason: RejectReason, message: String) {
        do {
            let tweets = try TweetDecoder.decode(bytes: Array(input.utf8))
            Issue.record("accepted \(input): \(tweets)")
        } catch {
            #expect(error.reason == reason)
            #expect(error.message == message)
        }
    }

    @Test func rejectsOversizedPayloads() {
        let big = Array(#"{"id":"1","text":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 2000) + Array(#""}"#.utf8)
        #expect(throws: TweetRejection(.tooLarge, "payload is 2020 bytes, the limit is 1024")) {
            try TweetDecoder.decode(bytes: big, maximumBytes: 1024)
        }
        #expect((try? TweetDecoder.decode(bytes: big, maximumBytes: 4096))?.count == 1)
    }

    @Test func boundsTheFanOutOfPagesAndRecords() throws {
        let page = Array(#"{"data":[{"id":"1","text":"a"},{"id":"2","text":"b"},{"id":"3","text":"c"}]}"#.utf8)
        let record = Array(#"{"id":"u","tweets":["a","b","c"]}"#.utf8)
        #expect(throws: TweetRejection(.tooManyTweets, "the v2 page holds more than 2 tweets (the limit per payload)")) {
            try TweetDecoder.decode(bytes: page, maximumTweets: 2)
        }
        #expect(throws: TweetRejection(.tooManyTweets, "record u holds more than 2 tweets (the limit per payload)")) {
            try TweetDecoder.decode(bytes: record, maximumTweets: 2)
        }
        #expect(try TweetDecoder.decode(bytes: page, maximumTweets: 3).map(\.id) == ["1", "2", "3"])
        #expect(try TweetDecoder.decode(bytes: record, maximumTweets: 3).map(\.id) == ["u-0", "u-1", "u-2"])
        // A bomb of tiny texts is refused without decoding them.
        let bomb = Array(#"{"id":"b","tweets":["#.utf8) + Array(repeating: Array(#""x","#.utf8), count: 100_000).joined() + Array(#""x"]}"#.utf8)
        #expect(throws: TweetRejection(.tooManyTweets, "record b holds more than 500 tweets (the limit per payload)")) {
            try TweetDecoder.decode(bytes: bomb, maximumTweets: 500)
        }
    }
}

@Suite struct TweetFileTests {
    /// A document that is one tweet goes out as read, to the byte (spacing, escapes, key order and
    /// fields the decoder ignores included); a page or a record is cut into new payloads.
    @Test func singleTweetDocumentsArePublishedAsRead() throws {
        let lines = [
            #"{ "id_str" : "7", "text":"caf\u00e9 #X", "extra": [1, 2.50, null] , "user": {"id_str": "3"} }"#,
            #"{"data": {"id": "8", "text": "hi"}, "includes": {"users": []}, "meta": {"k": true}}"#,
            #"{"id": 9, "text": "minimal", "created_at": "2024-02-29T12:00:00Z"}"#,
        ]
        let (tweets, problems) = TweetFile.read(Array((lines.joined(separator: "\n") + "\n").utf8))
        #expect(problems.isEmpty)
        #expect(tweets.map(\.id) == ["7", "8", "9"])
        #expect(tweets.map { String(decoding: $0.payloadBytes, as: UTF8.self) } == lines)
        #expect(tweets[0].payload == (try JSONParser.parse(lines[0])))

        let (cut, _) = TweetFile.read(Array(#"{"id": "r", "tweets": ["x"]}"#.utf8)
            + Array("\n".utf8) + Array(#"{"data": [{"id": "p1", "text": "a"}]}"#.utf8))
        #expect(cut.map(\.id) == ["r-0", "p1"])
        #expect(cut.allSatisfy { $0.originalBytes == nil })
        #expect(try cut.map { try TweetDecoder.decode(bytes: $0.payloadBytes)[0].text } == ["x", "a"])
    }

    @Test func splitsPagesIntoSelfContainedSingleResponses() throws {
        let (tweets, problems) = TweetFile.read(try SharedData.bytes("sample-v2-kpop.jsonl"))
        #expect(problems.isEmpty)
        #expect(tweets.count == 100)
        // Each payload alone decodes to the same tweet the page gave, author and retweet text included.
        let fromPage = try TweetDecoder.decode(bytes: try SharedData.bytes("sample-v2-kpop.jsonl"))
        for (outgoing, expected) in zip(tweets, fromPage) {
            let alone = try TweetDecoder.decode(outgoing.payload)
            #expect(alone == [expected])
            #expect(outgoing.id == expected.id)
        }
    }

    @Test func readsArraysRecordsAndReportsBadLines() {
        let file = """
            {"id": "a", "text": "one"}
            not json
            {"id": "r", "tweets": ["x", "y"]}
            {"text": "no id"}
            [{"id": "b", "text": "two"}]
            """
        let (tweets, problems) = TweetFile.read(Array(file.utf8))
        #expect(tweets.map(\.id) == ["a", "r-0", "r-1", "b"])
        #expect(problems.map(\.line) == [2, 4])
        #expect(problems.map(\.rejection.reason) == [.invalidJSON, .missingId])
        #expect(problems[0].description == "line 2: invalid_json: invalid literal, expected 'null' at byte 0")
    }

    @Test func tweetKeyFindsIdsInEveryShape() {
        #expect(TweetKey.extract(Array(#"{"data":{"id":"7","text":"x"}}"#.utf8)) == "7")
        #expect(TweetKey.extract(Array(#"{"id_str":"8","id":8}"#.utf8)) == "8")
        #expect(TweetKey.extract(Array(#"{"id":9,"text":"x"}"#.utf8)) == "9")
        #expect(TweetKey.extract(Array("nope".utf8)) == nil)
    }
}
