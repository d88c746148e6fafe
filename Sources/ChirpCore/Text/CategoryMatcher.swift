/// Assigns categories to a text by whole-word keyword matching.
///
/// The table is compiled into a word trie: a hash map from a first word to the phrases that start
/// with it. Each word of the text costs one hash lookup (two for a plural), plus a few word
/// comparisons where a phrase starts, so matching is linear in the text whatever the table size.
/// Matching is case-insensitive, a trailing plural `s` is accepted (`pizzas` → `pizza`), hashtags
/// count as words (`#pizza` → food), and a tweet may get several categories, in table order.
public struct CategoryMatcher: Sendable {
    public let table: CategoryTable
    public let version: String

    /// A phrase's remaining words after its first, and its category index.
    struct Continuation: Sendable {
        var rest: [String]
        var category: Int
    }

    /// Phrases for every language, and per language code the extra ones.
    private let firstWords: [String: [Continuation]]
    private let languageFirstWords: [String: [String: [Continuation]]]

    public init(_ table: CategoryTable) {
        self.table = table
        self.version = table.version
        func add(_ keyword: String, _ index: Int, to map: inout [String: [Continuation]]) {
            let words = WordTokenizer.normalizedPhrase(keyword)
            guard let first = words.first else { return }
            map[first, default: []].append(Continuation(rest: Array(words.dropFirst()), category: index))
        }
        var firstWords: [String: [Continuation]] = [:]
        var languageFirstWords: [String: [String: [Continuation]]] = [:]
        for (index, category) in table.categories.enumerated() {
            for keyword in category.keywords { add(keyword, index, to: &firstWords) }
            for (language, keywords) in category.languageKeywords {
                for keyword in keywords { add(keyword, index, to: &languageFirstWords[language.lowercased(), default: [:]]) }
            }
        }
        self.firstWords = firstWords
        self.languageFirstWords = languageFirstWords
    }

    private static func lookup(_ word: String, in map: [String: [Continuation]]) -> [Continuation]? {
        if let found = map[word] { return found }
        if word.utf8.count > 2, word.utf8.last == UInt8(ascii: "s") {
            return map[String(word.dropLast())]
        }
        return nil
    }

    private static func wordMatches(_ word: String, _ keyword: String) -> Bool {
        word == keyword || (word.utf8.count == keyword.utf8.count + 1 && word.hasSuffix("s") && word.hasPrefix(keyword))
    }

    /// Category names for `text` (in language `lang`, when known); `[CategoryTable.uncategorized]`
    /// when nothing matches.
    public func categories(for text: String, lang: String? = nil) -> [String] {
        let words = WordTokenizer.words(text)
        let languageMap = lang.flatMap { languageFirstWords[$0.lowercased()] }
        var matched = [Bool](repeating: false, count: table.categories.count)
        var any = false
        for (position, word) in words.enumerated() {
            let common = Self.lookup(word, in: firstWords)
            let specific = languageMap.flatMap { Self.lookup(word, in: $0) }
            guard common != nil || specific != nil else { continue }
            for candidate in (common ?? []) + (specific ?? []) where !matched[candidate.category] {
                let end = position + 1 + candidate.rest.count
                guard end <= words.count else { continue }
                var ok = true
                for (offset, keyword) in candidate.rest.enumerated() where !Self.wordMatches(words[position + 1 + offset], keyword) {
                    ok = false
                    break
                }
                if ok {
                    matched[candidate.category] = true
                    any = true
                }
            }
        }
        guard any else { return [CategoryTable.uncategorized] }
        return table.categories.indices.filter { matched[$0] }.map { table.categories[$0].name }
    }
}
