import Testing
@testable import ChirpCore

/// The byte-level text rules (hashtags, mentions, words, categories) give exactly what the plain
/// scalar-by-scalar reference gives: on every text of the shared samples and conformance cases,
/// on generated tweets, and on random strings built from the characters the rules care about.
@Suite struct ByteLevelRulesTests {
    static let tables: [CategoryTable] = [
        .default,
        CategoryTable([
            .init(name: "food", keywords: ["ice cream", "crème brûlée", "café", "pizza"], languageKeywords: ["es": ["helado"]]),
            .init(name: "places", keywords: ["東京", "new york city", "münchen", "k"]),
            .init(name: "music", keywords: ["band", "k pop", "케이팝"]),
        ]),
    ]

    static func sampleTexts() throws -> [(String, String?)] {
        var texts: [(String, String?)] = []
        for name in ["sample-v11.jsonl", "sample-v2-kpop.jsonl", "sample-v2-brexit.jsonl", "twarc-hashtags-tweets1.jsonl"] {
            for line in try SharedData.lines(name) {
                for tweet in (try? TweetDecoder.decode(bytes: Array(line.utf8))) ?? [] { texts.append((tweet.text, tweet.lang)) }
            }
        }
        for line in try SharedData.lines("hashtag_cases.jsonl") {
            texts.append((try JSONParser.parse(line)["text"]?.stringValue ?? "", nil))
        }
        var generator = SyntheticTweets(.init(count: 2000, seed: 11, start: Timestamp(millisecondsSinceEpoch: 0), spanSeconds: 3600))
        while let payload = generator.next() {
            for tweet in try TweetDecoder.decode(bytes: payload) { texts.append((tweet.text, tweet.lang)) }
        }
        return texts
    }

    /// Pieces the rules look at: sign characters, boundaries, URL parts, marks, scripts, emoji.
    static let pieces: [String] = [
        "#", "＃", "@", "＠", " #", " @", " ＃", "&", ":", "/", "//", ".", "_", "-", " ", "\u{3000}", "\u{A0}", "\n", "!", "*",
        "a", "B", "z", "s", "S", "1", "42", "pizza", "Pizzas", "band", "bandwidth", "ice", "cream", "new", "york", "city",
        "café", "cafe\u{301}", "CAFÉ", "brûlée", "crème", "München", "MÜNCHEN", "東京", "케이팝", "k", "pop", "\u{212A}", "bas\u{212A}etball",
        "é", "\u{301}", "\u{5B5}", "\u{FE0F}", "\u{FE0E}", "\u{20E3}", "\u{200D}", "\u{1F3FF}", "😀", "٣", "مرحبا",
        "İ", "ß", "ｈａｓｈ", "x.com", "http", "https://", "www", "co", "helado", "ǅ", "\u{30FB}", "\u{00B7}",
    ]

    static func randomTexts(count: Int) -> [String] {
        var rng = SplitMix64(seed: 2026)
        return (0..<count).map { _ in
            let length = Int(rng.next() % 14) + 1
            return (0..<length).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
        }
    }

    func agree(_ text: String, lang: String?) {
        #expect(HashtagExtractor.extractDisplay(text) == ReferenceRules.Hashtags.extractDisplay(text), "\(text.debugDescription)")
        #expect(MentionExtractor.extract(text) == ReferenceRules.Mentions.extract(text), "\(text.debugDescription)")
        #expect(WordTokenizer.words(text) == ReferenceRules.Words.words(text), "\(text.debugDescription)")
        for hashtag in HashtagExtractor.extract(text) {
            #expect(hashtag.key == UnicodeNormalization.nfkc(hashtag.display).lowercased(), "\(hashtag.display.debugDescription)")
        }
        for table in Self.tables {
            let matcher = CategoryMatcher(table)
            for language in [lang, "es"] {
                #expect(matcher.categories(for: text, lang: language) == ReferenceRules.categories(table, text, lang: language),
                        "\(text.debugDescription) lang \(language ?? "none")")
            }
        }
    }

    @Test func agreeOnRealAndGeneratedTexts() throws {
        let texts = try Self.sampleTexts()
        #expect(texts.count > 2300)
        for (text, lang) in texts { agree(text, lang: lang) }
    }

    @Test func agreeOnRandomTexts() {
        for text in Self.randomTexts(count: 4000) { agree(text, lang: nil) }
    }

    @Test func referenceIsNotVacuous() {
        // The random texts exercise every rule: some find hashtags, mentions, categories.
        let texts = Self.randomTexts(count: 4000)
        #expect(texts.filter { !ReferenceRules.Hashtags.extractDisplay($0).isEmpty }.count > 300)
        #expect(texts.filter { !ReferenceRules.Mentions.extract($0).isEmpty }.count > 250)
        #expect(texts.filter { ReferenceRules.categories(Self.tables[1], $0, lang: nil) != ["uncategorized"] }.count > 300)
    }
}
