/// Assigns categories to a text by whole-word keyword matching.
///
/// The table is compiled into a word trie: a hash table from a phrase's first word to the phrases
/// that start with it. Each word of the text costs one lookup (two for a plural), plus a few word
/// comparisons where a phrase starts, so matching is linear in the text whatever the table size.
/// Matching is case-insensitive, a trailing plural `s` is accepted (`pizzas` → `pizza`), hashtags
/// count as words (`#pizza` → food), and a tweet may get several categories, in table order.
///
/// ASCII words are looked up by their bytes (FNV-1a, open addressing); words with other scalars
/// by Swift string equality, which treats canonically equivalent spellings (`café` precomposed or
/// with a combining accent) as the same word.
public struct CategoryMatcher: Sendable {
    public let table: CategoryTable
    public let version: String

    /// A phrase's remaining words after its first, and its category index.
    struct Continuation: Sendable {
        var rest: [String]
        var category: Int
    }

    struct Phrases: Sendable {
        var ascii = ByteKeyTable<[Continuation]>()
        var unicode: [String: [Continuation]] = [:]
        /// Whether any first word is non-ASCII; if none is, a non-ASCII text word can only match
        /// by folding to ASCII.
        var hasUnicodeKeys = false

        mutating func add(_ first: String, _ continuation: Continuation) {
            if first.utf8.allSatisfy({ $0 < 0x80 }) {
                ascii.update(Array(first.utf8), default: []) { $0.append(continuation) }
            } else {
                hasUnicodeKeys = true
            }
            unicode[first, default: []].append(continuation)
        }

        /// Phrases starting with word k of `words` (or with it minus a plural `s`).
        func lookup(_ words: WordList, _ k: Int) -> [Continuation]? {
            if !words.isUnicode(k) {
                let word = words.raw(k)
                if let found = ascii[word] { return found }
                if word.count > 2, word.last == UInt8(ascii: "s") { return ascii[UnsafeBufferPointer(rebasing: word.dropLast())] }
                return nil
            }
            guard hasUnicodeKeys || words.mayFoldToASCII(k) else { return nil }
            let word = words.string(k)
            if let found = unicode[word] { return found }
            if word.utf8.count > 2, word.utf8.last == UInt8(ascii: "s") { return unicode[String(word.dropLast())] }
            return nil
        }
    }

    /// Phrases for every language, and per language code the extra ones; one shared reference,
    /// so copying a matcher (into a closure, a service) costs a retain.
    private final class Compiled: Sendable {
        let common: Phrases
        let languages: [String: Phrases]

        init(common: Phrases, languages: [String: Phrases]) {
            self.common = common
            self.languages = languages
        }
    }

    private let compiled: Compiled

    public init(_ table: CategoryTable) {
        self.table = table
        self.version = table.version
        func add(_ keyword: String, _ index: Int, to phrases: inout Phrases) {
            let words = WordTokenizer.normalizedPhrase(keyword)
            guard let first = words.first else { return }
            phrases.add(first, Continuation(rest: Array(words.dropFirst()), category: index))
        }
        var common = Phrases()
        var languages: [String: Phrases] = [:]
        for (index, category) in table.categories.enumerated() {
            for keyword in category.keywords { add(keyword, index, to: &common) }
            for (language, keywords) in category.languageKeywords {
                for keyword in keywords { add(keyword, index, to: &languages[language.lowercased(), default: Phrases()]) }
            }
        }
        self.compiled = Compiled(common: common, languages: languages)
    }

    private static func wordMatches(_ words: WordList, _ k: Int, _ keyword: String) -> Bool {
        let word = words.string(k)
        return word == keyword || (word.utf8.count == keyword.utf8.count + 1 && word.hasSuffix("s") && word.hasPrefix(keyword))
    }

    /// Category names for `text` (in language `lang`, when known); `[CategoryTable.uncategorized]`
    /// when nothing matches.
    public func categories(for text: String, lang: String? = nil) -> [String] {
        let compiled = self.compiled
        let language = compiled.languages.isEmpty ? nil : lang.flatMap { compiled.languages[$0.lowercased()] }
        var matched = CategorySet(count: table.categories.count)
        WordList.with(text) { words in
            func match(_ candidates: [Continuation], at position: Int) {
                for candidate in candidates where !matched.contains(candidate.category) {
                    guard position + 1 + candidate.rest.count <= words.count else { continue }
                    var ok = true
                    for (offset, keyword) in candidate.rest.enumerated() where !Self.wordMatches(words, position + 1 + offset, keyword) {
                        ok = false
                        break
                    }
                    if ok { matched.insert(candidate.category) }
                }
            }
            for position in 0..<words.count {
                if let candidates = compiled.common.lookup(words, position) { match(candidates, at: position) }
                if let language, let candidates = language.lookup(words, position) { match(candidates, at: position) }
            }
        }
        guard !matched.isEmpty else { return [CategoryTable.uncategorized] }
        return table.categories.indices.filter { matched.contains($0) }.map { table.categories[$0].name }
    }
}

/// Matched category indices: a bit mask for up to 64 categories, a flag array beyond.
struct CategorySet {
    private var mask: UInt64 = 0
    private var flags: [Bool]

    init(count: Int) {
        flags = count > 64 ? Array(repeating: false, count: count) : []
    }

    var isEmpty: Bool { mask == 0 && !flags.contains(true) }

    @inline(__always)
    func contains(_ index: Int) -> Bool { index < 64 && flags.isEmpty ? mask & (1 << UInt64(index)) != 0 : flags[index] }

    @inline(__always)
    mutating func insert(_ index: Int) {
        if flags.isEmpty { mask |= 1 << UInt64(index) } else { flags[index] = true }
    }
}

/// A small hash table keyed by byte strings (FNV-1a 64, linear probing), looked up with a
/// buffer so the caller never builds a `String` or `Array` for a probe.
struct ByteKeyTable<Value: Sendable>: Sendable {
    private var slots: [Int32] = Array(repeating: -1, count: 16)
    private var keys: [[UInt8]] = []
    private var values: [Value] = []

    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inline(__always)
    private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }

    private func slot(for key: UnsafeBufferPointer<UInt8>) -> (slot: Int, found: Bool) {
        let mask = slots.count - 1
        var s = Self.hash(key) & mask
        while true {
            let entry = slots[s]
            if entry < 0 { return (s, false) }
            if keys[Int(entry)].withUnsafeBufferPointer({ Self.equal($0, key) }) { return (s, true) }
            s = (s + 1) & mask
        }
    }

    subscript(key: UnsafeBufferPointer<UInt8>) -> Value? {
        let (s, found) = slot(for: key)
        return found ? values[Int(slots[s])] : nil
    }

    mutating func update(_ key: [UInt8], default value: Value, _ change: (inout Value) -> Void) {
        let (s, found) = key.withUnsafeBufferPointer { slot(for: $0) }
        if found {
            change(&values[Int(slots[s])])
            return
        }
        var new = value
        change(&new)
        keys.append(key)
        values.append(new)
        slots[s] = Int32(keys.count - 1)
        if keys.count * 2 > slots.count { rehash() }
    }

    private mutating func rehash() {
        slots = Array(repeating: -1, count: slots.count * 2)
        for (index, key) in keys.enumerated() {
            let s = key.withUnsafeBufferPointer { slot(for: $0).slot }
            slots[s] = Int32(index)
        }
    }
}
