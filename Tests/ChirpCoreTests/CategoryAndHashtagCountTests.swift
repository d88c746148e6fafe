import Foundation
import Testing
@testable import ChirpCore

@Suite struct TwarcHashtagCountTests {
    /// Upstream's twarc-hashtags counts `entities.hashtags[].tag` of `data[]` tweets, case-folded,
    /// one per occurrence. Counting with our aggregation key must reproduce its expected output.
    @Test func reproducesUpstreamCounts() throws {
        var counts: [String: Int] = [:]
        for line in try SharedData.lines("twarc-hashtags-tweets1.jsonl") {
            let page = try JSONParser.parse(line)
            for tweet in page["data"]?.arrayValue ?? [] {
                for tag in tweet["entities"]?["hashtags"]?.arrayValue ?? [] {
                    if let display = tag["tag"]?.stringValue { counts[Hashtag(display: display).key, default: 0] += 1 }
                }
            }
        }
        let expectedValue = try JSONParser.parse(try SharedData.bytes("twarc-hashtags-expected.json"))
        var expected: [String: Int] = [:]
        for member in try #require(expectedValue.objectValue).members {
            expected[member.key] = Int(member.value.idValue ?? "")
        }
        #expect(expected.count == 9)
        #expect(counts == expected)
    }
}

@Suite struct CategoryMatcherTests {
    let matcher = CategoryMatcher(.default)

    @Test func defaultTableIsTenByFive() {
        #expect(CategoryTable.default.categories.count == 10)
        #expect(CategoryTable.default.categories.allSatisfy { $0.keywords.count == 5 })
    }

    @Test(arguments: [
        ("Best pizza in town", ["food"]),
        ("PIZZA!!!", ["food"]),
        ("two pizzas and a beer", ["food", "drinks"]),
        ("#pizza night", ["food"]),
        ("The tech conference", ["technology"]),
        ("a new technique", ["uncategorized"]),
        ("more bandwidth please", ["uncategorized"]),
        ("the band played", ["music"]),
        ("flight to the hotel, then a concert", ["travel", "music"]),
        ("", ["uncategorized"]),
        ("coffee_break", ["food"]),
        ("Gott und god", ["religion"]),
    ])
    func categorizes(text: String, expected: [String]) {
        #expect(matcher.categories(for: text) == expected)
    }

    @Test func phrasesAndUnicodeKeywords() {
        let table = CategoryTable([
            .init(name: "food", keywords: ["ice cream", "crème brûlée"]),
            .init(name: "places", keywords: ["東京", "new york city"]),
        ])
        let matcher = CategoryMatcher(table)
        #expect(matcher.categories(for: "I want ICE CREAM now") == ["food"])
        #expect(matcher.categories(for: "ice and cream") == ["uncategorized"])
        #expect(matcher.categories(for: "Crème Brûlée in New York City") == ["food", "places"])
        #expect(matcher.categories(for: "東京 2024") == ["places"])
        #expect(matcher.categories(for: "new york") == ["uncategorized"])
    }

    @Test func perLanguageKeywordsApplyToThatLanguageOnly() throws {
        let table = try CategoryTableFile.parse(Array(#"""
            {"mode": "extend", "categories": {"food": {"keywords": ["taco"], "es": ["helado"], "de": ["Eis"]}}}
            """#.utf8))
        let matcher = CategoryMatcher(table)
        #expect(matcher.categories(for: "un helado por favor", lang: "es") == ["food"])
        #expect(matcher.categories(for: "un helado por favor", lang: "pt") == ["uncategorized"])
        #expect(matcher.categories(for: "un helado por favor") == ["uncategorized"])
        #expect(matcher.categories(for: "Ein Eis bitte", lang: "DE") == ["food"])
        #expect(matcher.categories(for: "taco", lang: "ja") == ["food"])
        #expect(try table.version != CategoryTableFile.parse(Array(#"{"mode": "extend", "categories": {"food": {"keywords": ["taco"]}}}"#.utf8)).version)
    }

    @Test func versionIsAContentHash() {
        let a = CategoryTable([.init(name: "x", keywords: ["one"])])
        let b = CategoryTable([.init(name: "x", keywords: ["One"])])
        let c = CategoryTable([.init(name: "x", keywords: ["two"])])
        #expect(a.version == b.version)
        #expect(a.version != c.version)
        #expect(CategoryTable.default.version.hasPrefix("ct-"))
        #expect(CategoryTable.default.version.count == 19)
    }

    @Test func tableFileReplacesOrExtends() throws {
        let replaced = try CategoryTableFile.parse(Array(#"{"categories": {"pets": ["dog", "cat"]}}"#.utf8))
        #expect(replaced.categories.map(\.name) == ["pets"])
        let extended = try CategoryTableFile.parse(Array(#"{"mode": "extend", "categories": {"food": ["taco"], "pets": ["dog"]}}"#.utf8))
        #expect(extended.categories.count == 11)
        #expect(extended.categories.first { $0.name == "food" }?.keywords.last == "taco")
        #expect(CategoryMatcher(extended).categories(for: "dog eats taco and pizza") == ["food", "pets"])
    }

    @Test(arguments: [
        (#"{"categories": {"a": "dog"}}"#, "category 'a': keywords must be a list, or an object of language → list"),
        (#"{"categories": {"a": {"keywords": ["x"], "123": ["y"]}}}"#, "category 'a': '123' is no language code (use 'keywords' for all languages)"),
        (#"{"mode": "merge", "categories": {}}"#, "mode must be 'replace' or 'extend', got 'merge'"),
        (#"{"categories": {"a": [""]}}"#, "category 'a': every keyword must be a non-empty string with a letter or digit"),
        (#"{"categories": {}}"#, "category file defines no categories"),
        ("[", "category file is not valid JSON: unexpected end of input at byte 1"),
    ])
    func tableFileErrors(input: String, message: String) {
        do {
            _ = try CategoryTableFile.parse(Array(input.utf8))
            Issue.record("accepted \(input)")
        } catch {
            #expect(error.message == message)
        }
    }
}

@Suite struct EnrichedTweetTests {
    @Test func roundTripsThroughItsWireFormat() throws {
        let tweet = Tweet(id: "123", createdAt: Timestamp(parsing: "2021-09-22T16:37:29Z"), text: "Pizza \"time\"\n#Food @bob",
                          lang: "en", authorId: "9", authorName: "alice", retweetOf: "100", format: .v2)
        let enriched = Enricher().enrich(tweet, fallbackTime: Timestamp(millisecondsSinceEpoch: 0))
        #expect(enriched.hashtags == [Hashtag(display: "Food", key: "food")])
        #expect(enriched.mentions == ["bob"])
        #expect(enriched.categories == ["food"])
        #expect(enriched.categoryRules == CategoryTable.default.version)
        let decoded = try EnrichedTweet.decode(enriched.encoded())
        #expect(decoded == enriched)
        let json = String(decoding: enriched.encoded(), as: UTF8.self)
        #expect(json.hasPrefix(#"{"v":1,"id":"123","created_at":"2021-09-22T16:37:29.000Z","text":"Pizza \"time\"\n#Food @bob""#))
    }

    @Test func fallbackTimeWhenTheTweetHasNone() {
        let tweet = Tweet(id: "1", text: "x", format: .minimal)
        let enriched = Enricher().enrich(tweet, fallbackTime: Timestamp(millisecondsSinceEpoch: 5000))
        #expect(enriched.createdAt.millisecondsSinceEpoch == 5000)
    }

    @Test func rejectsOtherSchemaVersions() {
        #expect(throws: TweetRejection.self) { try EnrichedTweet.decode(Array(#"{"v":2,"id":"1"}"#.utf8)) }
    }

    @Test func mentions() {
        #expect(MentionExtractor.extract("hi @alice and @bob_2! mail a@b.com @toolongtoolongtoolong1 RT @x: y") == ["alice", "bob_2", "x"])
    }
}
