import Testing
@testable import ChirpCore

@Suite struct OffsetTrackerTests {
    @Test func commitsOnlyContiguousCompletedOffsets() {
        var tracker = OffsetTracker()
        tracker.begin(partition: 0, offset: 10, parts: 1)
        tracker.begin(partition: 0, offset: 11, parts: 2)
        tracker.begin(partition: 0, offset: 12, parts: 1)
        tracker.complete(partition: 0, offset: 12)
        tracker.complete(partition: 0, offset: 11)
        #expect(tracker.takeCommittable().isEmpty)  // 10 is still out, 11 half done
        tracker.complete(partition: 0, offset: 10)
        #expect(tracker.takeCommittable().map(\.offset) == [11])
        tracker.complete(partition: 0, offset: 11)
        #expect(tracker.takeCommittable().map(\.offset) == [13])
        #expect(tracker.takeCommittable().isEmpty)  // nothing new
        #expect(tracker.pendingDeliveries == 0)
    }

    @Test func zeroPartOffsetsAreDoneAtOnceAndPartitionsAreIndependent() {
        var tracker = OffsetTracker()
        tracker.begin(partition: 1, offset: 0, parts: 0)
        tracker.begin(partition: 2, offset: 5, parts: 1)
        let ready = tracker.takeCommittable()
        #expect(ready.count == 1)
        #expect(ready.first?.partition == 1)
        #expect(ready.first?.offset == 1)
        #expect(tracker.pendingOffsets == 1)
    }

    @Test func redeliveryStartsThePartitionOver() {
        var tracker = OffsetTracker()
        tracker.begin(partition: 0, offset: 7, parts: 1)
        tracker.begin(partition: 0, offset: 3, parts: 1)  // seek back after a rebalance
        tracker.complete(partition: 0, offset: 7)
        #expect(tracker.takeCommittable().isEmpty)
        tracker.complete(partition: 0, offset: 3)
        #expect(tracker.takeCommittable().map(\.offset) == [4])
    }

    @Test func manyOffsetsStayCheap() {
        var tracker = OffsetTracker()
        for offset in 0..<50_000 { tracker.begin(partition: 0, offset: Int64(offset), parts: 1) }
        for offset in 0..<50_000 { tracker.complete(partition: 0, offset: Int64(offset)) }
        #expect(tracker.takeCommittable().map(\.offset) == [50_000])
        #expect(tracker.pendingOffsets == 0)
    }
}

@Suite struct ReplayTests {
    @Test func rateSpacesTweetsEvenly() {
        var pacer = ReplayPacer(pace: .rate(4))
        #expect((0..<5).map { pacer.dueSeconds(index: $0, eventTime: nil) } == [0, 0.25, 0.5, 0.75, 1])
    }

    @Test func originalTimingDividedBySpeedup() {
        var pacer = ReplayPacer(pace: .original(speedup: 2))
        let t = { (s: Int64) in Timestamp(millisecondsSinceEpoch: 1_000_000 + s * 1000) }
        #expect(pacer.dueSeconds(index: 0, eventTime: t(0)) == 0)
        #expect(pacer.dueSeconds(index: 1, eventTime: t(10)) == 5)
        #expect(pacer.dueSeconds(index: 2, eventTime: nil) == 5)       // no time: right after the previous
        #expect(pacer.dueSeconds(index: 3, eventTime: t(4)) == 5)      // out of order: never earlier
        #expect(pacer.dueSeconds(index: 4, eventTime: t(30)) == 15)
    }

    @Test func unlimitedIsAlwaysDue() {
        var pacer = ReplayPacer(pace: .unlimited)
        #expect(pacer.dueSeconds(index: 1000, eventTime: nil) == 0)
    }

    @Test func rewriterShiftsTimesAndSuffixesIds() throws {
        let v1 = try JSONParser.parse(#"{"id": 5, "id_str": "5", "created_at": "Wed Oct 10 20:19:24 +0000 2018", "text": "x", "user": {}}"#)
        let rewritten = PayloadRewriter.rewrite(v1, idSuffix: "~2", shiftMilliseconds: 3_600_000)
        #expect(rewritten["id_str"] == .string("5~2"))
        #expect(rewritten["created_at"] == .string("Wed Oct 10 21:19:24 +0000 2018"))
        let v2 = try JSONParser.parse(#"{"data": {"id": "7", "text": "x", "created_at": "2021-01-01T00:00:00.000Z"}}"#)
        let shifted = PayloadRewriter.rewrite(v2, idSuffix: nil, shiftMilliseconds: -1000)
        #expect(shifted["data"]?["created_at"] == .string("2020-12-31T23:59:59.000Z"))
        #expect(shifted["data"]?["id"] == .string("7"))
        #expect(try TweetDecoder.decode(rewritten).first?.id == "5~2")
    }

    @Test func generatorIsDeterministicAndDecodable() throws {
        let settings = SyntheticTweets.Settings(count: 2000, seed: 9, start: Timestamp(parsing: "2024-01-01T00:00:00Z")!, spanSeconds: 3600)
        var a = SyntheticTweets(settings)
        var b = SyntheticTweets(settings)
        var ids = Set<String>()
        var languages = Set<String>()
        var retweets = 0
        var hashtags: [String: Int] = [:]
        var uncategorized = 0
        let matcher = CategoryMatcher(.default)
        while let line = a.next() {
            #expect(line == b.next())
            let tweets = try TweetDecoder.decode(bytes: line)
            let tweet = try #require(tweets.first)
            ids.insert(tweet.id)
            languages.insert(tweet.lang ?? "")
            if tweet.isRetweet { retweets += 1 }
            for tag in HashtagExtractor.extract(tweet.text) { hashtags[tag.key, default: 0] += 1 }
            if matcher.categories(for: tweet.text) == [CategoryTable.uncategorized] { uncategorized += 1 }
            let time = try #require(tweet.createdAt)
            #expect(time >= settings.start)
            #expect(time.millisecondsSinceEpoch <= settings.start.millisecondsSinceEpoch + 3_600_000)
        }
        #expect(b.next() == nil)
        #expect(ids.count == 2000)
        #expect(languages.count >= 6)
        #expect((100...300).contains(retweets))
        // Zipf: the most used hashtag is far more common than the median one.
        let sorted = hashtags.values.sorted(by: >)
        #expect(sorted[0] > 10 * sorted[sorted.count / 2])
        #expect(uncategorized > 0 && uncategorized < 1000)
    }

    /// A wide vocabulary: tags past the 300 built-in ones are `tagN`, N at most the vocabulary,
    /// the Zipf head is the same tags, and the default draws only the built-in ones.
    @Test func generatorVocabularyWidensTheTail() throws {
        func hashtags(vocabulary: Int?) throws -> [String: Int] {
            var settings = SyntheticTweets.Settings(count: 20_000, seed: 5, start: Timestamp(parsing: "2024-01-01T00:00:00Z")!, spanSeconds: 3600)
            if let vocabulary { settings.vocabulary = vocabulary }
            var generator = SyntheticTweets(settings)
            var counts: [String: Int] = [:]
            while let line = generator.next() {
                let tweet = try #require(try TweetDecoder.decode(bytes: line).first)
                for tag in HashtagExtractor.extract(tweet.text) { counts[tag.key, default: 0] += 1 }
            }
            return counts
        }
        let narrow = try hashtags(vocabulary: nil), wide = try hashtags(vocabulary: 100_000), tiny = try hashtags(vocabulary: 5)
        #expect(narrow.count <= 300)
        #expect(!narrow.keys.contains { $0.hasPrefix("tag") && Int($0.dropFirst(3)) != nil })
        let extra = wide.keys.filter { $0.hasPrefix("tag") && Int($0.dropFirst(3)) != nil }
        #expect(extra.count > 3 * narrow.count)
        #expect(extra.allSatisfy { (301...100_000).contains(Int($0.dropFirst(3))!) })
        #expect(narrow.max { $0.value < $1.value }?.key == wide.max { $0.value < $1.value }?.key)
        #expect(tiny.count == 5)
    }

    /// `--shape v1.1`: the same tweets as v2 from the same seed, as v1.1 statuses that the decoder
    /// reads back with the same fields, with the entities' positions pointing at the text.
    @Test func v1ShapeHoldsTheSameTweets() throws {
        var settings = SyntheticTweets.Settings(count: 3000, seed: 21, start: Timestamp(parsing: "2024-01-01T00:00:00Z")!, spanSeconds: 3600)
        var v2 = SyntheticTweets(settings)
        settings.shape = .v1_1
        var v1 = SyntheticTweets(settings)
        var bytes = 0
        var retweets = 0
        var entities = 0
        while let line = v1.next() {
            bytes += line.count
            let next = v2.next()
            let v2Line = try #require(next)
            let expected = try #require(try TweetDecoder.decode(bytes: v2Line).first)
            let tweet = try #require(try TweetDecoder.decode(bytes: line).first)
            #expect(tweet.format == .v1)
            #expect(tweet.id == expected.id)
            #expect(tweet.text == expected.text)
            // v1.1 gives times to the second.
            #expect(tweet.createdAt?.millisecondsSinceEpoch == (expected.createdAt?.millisecondsSinceEpoch).map { $0 - $0 % 1000 })
            #expect(tweet.lang == expected.lang)
            #expect(tweet.authorId == expected.authorId)
            #expect(tweet.retweetOf == expected.retweetOf)
            if tweet.isRetweet { retweets += 1 }
            let status = try JSONParser.parse(line)
            let scalars = Array((status["text"]?.stringValue ?? "").unicodeScalars)
            for entity in status["entities"]?["hashtags"]?.arrayValue ?? [] {
                let indices = try #require(entity["indices"]?.arrayValue?.compactMap { $0.idValue.flatMap { Int($0) } })
                let tag = try #require(entity["text"]?.stringValue)
                #expect(String(String.UnicodeScalarView(scalars[indices[0]..<indices[1]])) == "#" + tag)
                entities += 1
            }
        }
        #expect(v2.next() == nil)
        #expect((200...400).contains(retweets))
        #expect(entities > 3000)
        // The user object and the entities make a status a little under three times the v2 response.
        #expect((650...1_000).contains(bytes / 3000))
    }
}

@Suite struct RecordHeadersTests {
    @Test func looksUpTheLastHeaderOfAName() {
        var headers = RecordHeaders()
        headers.append("chirp-published-ms", Array("1700000000123".utf8))
        headers.append("chirp-raw-payload", Array(#"{"id":"1"}"#.utf8))
        headers.append("chirp-raw-partition", Array("3".utf8))
        headers.append("chirp-raw-partition", Array("4".utf8))
        #expect(headers.count == 4)
        #expect(headers.int64("chirp-published-ms") == 1_700_000_000_123)
        #expect(headers.string("chirp-raw-payload") == #"{"id":"1"}"#)
        #expect(headers.int64("chirp-raw-partition") == 4)
        #expect(headers["chirp-raw"] == nil)  // a prefix is not a name
        #expect(headers["chirp-raw-partitions"] == nil)
        #expect(headers.all.map(\.name) == ["chirp-published-ms", "chirp-raw-payload", "chirp-raw-partition", "chirp-raw-partition"])
    }

    @Test func keepsEmptyAndMissingValuesApartAndBinaryBytesIntact() {
        var headers = RecordHeaders()
        headers.append("empty", [])
        headers.append("null", nil)
        let binary: [UInt8] = [0, 255, 10, 0, 0, 0, 0xFF, 0xFF]
        headers.append("binary", binary)
        headers.append("", Array("nameless".utf8))
        #expect(headers["empty"] == [])
        #expect(headers["null"] == nil)
        #expect(headers.all[1].value == nil)
        #expect(headers["binary"] == binary)
        #expect(headers.string("") == "nameless")
        #expect(headers.storage.count == RecordHeaders.storedSize(nameBytes: 5, valueBytes: 0) + RecordHeaders.storedSize(nameBytes: 4, valueBytes: 0)
            + RecordHeaders.storedSize(nameBytes: 6, valueBytes: 8) + RecordHeaders.storedSize(nameBytes: 0, valueBytes: 8))
    }

    @Test func readsDecimalIntegersStrictly() {
        var headers = RecordHeaders()
        for (name, value) in [("max", "9223372036854775807"), ("min", "-9223372036854775808"), ("over", "9223372036854775808"),
                              ("spaced", " 12"), ("sign", "-"), ("empty", ""), ("hex", "0x10"), ("zero", "000")] {
            headers.append(name, Array(value.utf8))
        }
        #expect(headers.int64("max") == Int64.max)
        #expect(headers.int64("min") == Int64.min)
        for name in ["over", "spaced", "sign", "empty", "hex", "absent"] { #expect(headers.int64(name) == nil, "\(name)") }
        #expect(headers.int64("zero") == 0)
    }

    @Test func writesIntegersInDecimalAndStringsAsUTF8() {
        var headers = RecordHeaders()
        let numbers: [Int64] = [0, 7, -5, 1_700_000_000_123, Int64.max, Int64.min]
        for (index, number) in numbers.enumerated() { headers.append("n\(index)", number) }
        headers.append("text", "déjà vu")
        #expect(numbers.indices.map { headers.string("n\($0)") }
            == ["0", "7", "-5", "1700000000123", "9223372036854775807", "-9223372036854775808"])
        #expect(numbers.indices.map { headers.int64("n\($0)") } == numbers)
        #expect(headers["text"] == Array("déjà vu".utf8))
        var seen: [String] = []
        headers.forEach { name, value in seen.append(String(decoding: name, as: UTF8.self) + "=" + String(decoding: value ?? UnsafeRawBufferPointer(start: nil, count: 0), as: UTF8.self)) }
        #expect(seen == ["n0=0", "n1=7", "n2=-5", "n3=1700000000123", "n4=9223372036854775807", "n5=-9223372036854775808", "text=déjà vu"])
    }
}
