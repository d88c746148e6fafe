import Testing
@testable import ChirpCore

@Suite struct CSVTests {
    func rows(_ text: String, chunk: Int = .max) -> [CSVRowSplitter.Row] {
        var splitter = CSVRowSplitter()
        let bytes = Array(text.utf8)
        var result: [CSVRowSplitter.Row] = []
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + min(chunk, bytes.count))
            result += splitter.feed(bytes[index..<end])
            index = end
        }
        return result + splitter.finish()
    }

    @Test func quotedFieldsEscapedQuotesAndNewlines() {
        let text = "id,text,created_at\r\n1,\"Hello, \"\"world\"\"\nsecond line\",2024-01-01T00:00:00Z\r\n\n2,plain,\n"
        let parsed = rows(text)
        #expect(parsed.map(\.fields) == [
            ["id", "text", "created_at"],
            ["1", "Hello, \"world\"\nsecond line", "2024-01-01T00:00:00Z"],
            ["2", "plain", ""],
        ])
        #expect(parsed.map(\.line) == [1, 2, 5])
        #expect(rows(text, chunk: 3) == parsed)
    }

    @Test func lastRowWithoutNewlineAndUnicode() {
        #expect(rows("a,b\n東京,\"#ラーメン\"").map(\.fields) == [["a", "b"], ["東京", "#ラーメン"]])
    }

    @Test func mapsColumnsToMinimalTweets() throws {
        var reader = TweetInputReader(format: .csv, csvMapping: CSVMapping(idColumn: "tweet_id", textColumn: "body", timeColumn: "ts"))
        let csv = "tweet_id,ts,body,lang\n7,Wed Oct 10 20:19:24 +0000 2018,#Pizza time,en\n,2024-01-01T00:00:00Z,no id,en\n8,,only text,\n9,not a time,x,\n"
        let items = try reader.feed(Array(csv.utf8)) + reader.finish()
        #expect(items.count == 4)
        let first = try #require(try items[0].get().first)
        let tweet = try #require(try TweetDecoder.decode(first.payload).first)
        #expect(tweet.id == "7")
        #expect(tweet.format == .csv)
        #expect(tweet.lang == "en")
        #expect(tweet.createdAt == Timestamp(parsing: "2018-10-10T20:19:24Z"))
        #expect(Enricher().enrich(tweet, fallbackTime: Timestamp(millisecondsSinceEpoch: 0)).categories == ["food"])
        guard case .failure(let missing) = items[1] else { Issue.record("row without id accepted"); return }
        #expect(missing.line == 3)
        #expect(missing.rejection.reason == .missingId)
        #expect(try items[2].get().first?.createdAt == nil)
        guard case .failure(let badTime) = items[3] else { Issue.record("bad time accepted"); return }
        #expect(badTime.rejection.reason == .wrongType)
    }

    @Test func headerWithoutRequiredColumnIsAnError() {
        var reader = TweetInputReader(format: .csv)
        #expect(throws: CSVTweetReader.HeaderError(message: "the CSV header has no column 'text' (columns: id, body)")) {
            try reader.feed(Array("id,body\n1,x\n".utf8))
        }
    }

    @Test func autoFormatFollowsTheFileName() {
        #expect(TweetInputReader.format(named: "auto", path: "/x/Export.CSV") == .csv)
        #expect(TweetInputReader.format(named: "auto", path: "tweets.jsonl") == .json)
        #expect(TweetInputReader.format(named: "xml", path: "a") == nil)
    }
}
