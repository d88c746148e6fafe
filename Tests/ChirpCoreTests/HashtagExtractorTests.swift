import Testing
@testable import ChirpCore

@Suite struct HashtagExtractorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var group: String
        var description: String
        var text: String
        var expected: [String]
        var testDescription: String { "\(group): \(description)" }
    }

    static func conformanceCases() throws -> [Case] {
        try SharedData.lines("hashtag_cases.jsonl").map { line in
            let value = try JSONParser.parse(line)
            return Case(
                group: value["group"]?.stringValue ?? "",
                description: value["description"]?.stringValue ?? "",
                text: value["text"]?.stringValue ?? "",
                expected: value["expected"]?.arrayValue?.compactMap(\.stringValue) ?? []
            )
        }
    }

    @Test func conformanceFileHasAll76Cases() throws {
        #expect(try Self.conformanceCases().count == 76)
    }

    @Test(arguments: try conformanceCases())
    func twitterTextConformance(_ c: Case) {
        #expect(HashtagExtractor.extractDisplay(c.text) == c.expected, "\(c.text.debugDescription)")
    }

    @Test func keysFoldCaseAndWidth() {
        #expect(Hashtag(display: "Brexit").key == "brexit")
        #expect(Hashtag(display: "BREXIT").key == "brexit")
        #expect(Hashtag(display: "ｈａｓｈｔａｇ１２３").key == "hashtag123")
        #expect(Hashtag(display: "Ateş").key == "ateş")
    }

    @Test func noHashtagInsideWordsEntitiesOrURLs() {
        #expect(HashtagExtractor.extractDisplay("foo#bar &#39; https://x.com/a#frag") == [])
        #expect(HashtagExtractor.extractDisplay("#one#two") == [])
        #expect(HashtagExtractor.extractDisplay("Love #Pizza and #pizza!") == ["Pizza", "pizza"])
        // Found by the fuzzer: a tag whose last letter shares a grapheme cluster with an emoji
        // modifier after it, and a tag that starts with a combining mark.
        #expect(HashtagExtractor.extractDisplay("a #tag\u{1F3FF} b") == ["tag"])
        #expect(HashtagExtractor.extractDisplay("x \u{1F3FF}#\u{05B5}t\u{1F3FF}#") == ["\u{05B5}t"])
    }

    @Test func urlTokensEndAtWhitespaceAndAreJudgedByTheirFirstSlash() {
        #expect(HashtagExtractor.extractDisplay("go http://x.y/#a #b") == ["b"])
        #expect(HashtagExtractor.extractDisplay("example.com/page#top\tand #after") == ["after"])
        #expect(HashtagExtractor.extractDisplay("a/#b") == ["b"])  // no host before the slash
        #expect(HashtagExtractor.extractDisplay("x:/#a") == ["a"])  // one slash is no scheme
        #expect(HashtagExtractor.extractDisplay(":/#a :// #b") == ["a", "b"])
        #expect(HashtagExtractor.extractDisplay("über.de/#a ünï.co/x#b") == [])
        #expect(HashtagExtractor.extractDisplay("1.2/#a") == ["a"])  // a numeric "tld" is no host
        #expect(HashtagExtractor.extractDisplay("ftp://h/#a.#b\u{3000}#c") == ["c"])  // ideographic space ends the token
    }

    /// Hash signs that all share one whitespace-free token: each used to walk back to the token's
    /// start, so the cost grew with the square of the length: 135 billion bytes walked for this input,
    /// where the linear scan reads its 900 000 bytes. No time limit: a limit counts from the start of the
    /// test, and the simulation suites running beside it can hold its thread for over a minute.
    @Test func manyHashSignsInOneTokenStayLinear() {
        let unit = ".#a"
        let plain = String(repeating: unit, count: 300_000)
        #expect(HashtagExtractor.extractDisplay(plain).count == 300_000)
        let inURL = "x.com/" + plain
        #expect(HashtagExtractor.extractDisplay(inURL).isEmpty)
    }
}
