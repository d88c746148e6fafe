import Testing
@testable import ChirpCore

/// The text rules as first written: scalar by scalar over `Array(text.unicodeScalars)`, one
/// `String` per word. Slow but plain; the byte-level rules in ChirpCore must agree with them on
/// every input (see `ByteLevelRulesTests`).
enum ReferenceRules {
    enum Hashtags {
        static func extractDisplay(_ text: String) -> [String] {
            // Fast reject: no '#' (0x23) and no '＃' (EF BC 83).
            guard text.utf8.contains(0x23) || text.utf8.contains(0xEF) else { return [] }
    
            let scalars = Array(text.unicodeScalars)
            var result: [String] = []
            var i = 0
            while i < scalars.count {
                let c = scalars[i]
                guard c == "#" || c == "\u{FF03}" else { i += 1; continue }
                // Boundary before the hash sign.
                if i > 0 {
                    let previous = scalars[i - 1]
                    let boundary = previous == "\u{FE0E}" || previous == "\u{FE0F}"
                        || !(isHashtagCharacter(previous) || previous == "&")
                    guard boundary else { i += 1; continue }
                }
                let start = i + 1
                if start < scalars.count, scalars[start] == "\u{FE0F}" || scalars[start] == "\u{20E3}" {
                    i = start
                    continue
                }
                var end = start
                var hasLetter = false
                while end < scalars.count, isHashtagCharacter(scalars[end]) {
                    if isLetterOrMark(scalars[end]) { hasLetter = true }
                    end += 1
                }
                guard end > start else { i = start; continue }
                defer { i = end }
                guard hasLetter else { continue }
                if end < scalars.count {
                    let next = scalars[end]
                    if next == "#" || next == "\u{FF03}" { continue }
                    if next == ":", end + 2 < scalars.count, scalars[end + 1] == "/", scalars[end + 2] == "/" { continue }
                }
                if isInsideURL(scalars, hashIndex: i) { continue }
                var tag = String.UnicodeScalarView()
                tag.append(contentsOf: scalars[start..<end])
                result.append(String(tag))
            }
            return result
        }
    
        // Character classes are the production ones: what the reference pins is the scanning.
        static func isLetterOrMark(_ c: Unicode.Scalar) -> Bool { HashtagExtractor.isLetterOrMark(c) }
        static func isHashtagCharacter(_ c: Unicode.Scalar) -> Bool { HashtagExtractor.isHashtagCharacter(c) }
    
        // MARK: URLs
    
        /// True when the `#` at `hashIndex` belongs to a URL: the whitespace-delimited token before it
        /// contains `://`, or starts with a host name (`name.tld`) followed by `/`.
        static func isInsideURL(_ scalars: [Unicode.Scalar], hashIndex: Int) -> Bool {
            var tokenStart = hashIndex
            while tokenStart > 0, !scalars[tokenStart - 1].properties.isWhitespace { tokenStart -= 1 }
            guard tokenStart < hashIndex else { return false }
            let token = scalars[tokenStart..<hashIndex]
            guard let slash = token.firstIndex(of: "/") else { return false }
            if slash > tokenStart + 1, scalars[slash - 1] == ":", slash + 1 < hashIndex + 1, scalars[slash + 1] == "/" {
                return true
            }
            // host.tld/ …
            let host = scalars[tokenStart..<slash]
            guard let lastDot = host.lastIndex(of: ".") else { return false }
            let tld = scalars[(lastDot + 1)..<slash]
            let label = scalars[tokenStart..<lastDot]
            return tld.count >= 2 && tld.allSatisfy { $0.properties.isAlphabetic }
                && !label.isEmpty
                && label.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "-" || $0 == "." }
        }
    
        }

    enum Mentions {
        static func extract(_ text: String) -> [String] {
            // Fast reject on bytes: '@' (0x40) or the first byte of '＠' (EF BC A0).
            guard text.utf8.contains(0x40) || text.utf8.contains(0xEF) else { return [] }
            let scalars = Array(text.unicodeScalars)
            var result: [String] = []
            var i = 0
            while i < scalars.count {
                defer { i += 1 }
                guard scalars[i] == "@" || scalars[i] == "\u{FF20}" else { continue }
                if i > 0 {
                    let p = scalars[i - 1]
                    if isHandleCharacter(p) || "!@#$%&*".unicodeScalars.contains(p) || p.properties.isAlphabetic { continue }
                }
                var end = i + 1
                while end < scalars.count, isHandleCharacter(scalars[end]), end - i <= 20 { end += 1 }
                guard end > i + 1, end - i - 1 <= 20 else { continue }
                if end < scalars.count {
                    if scalars[end] == "@" || scalars[end] == "\u{FF20}" { continue }
                    if isHandleCharacter(scalars[end]) { continue }  // longer than 20
                    if scalars[end] == ":", end + 2 < scalars.count, scalars[end + 1] == "/", scalars[end + 2] == "/" { continue }
                }
                var handle = String.UnicodeScalarView()
                handle.append(contentsOf: scalars[(i + 1)..<end])
                result.append(String(handle))
                i = end - 1
            }
            return result
        }
    
        static func isHandleCharacter(_ c: Unicode.Scalar) -> Bool {
            let v = c.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        }

    enum Words {
        static func words(_ text: String) -> [String] {
            var words: [String] = []
            forEachWord(text) { words.append($0) }
            return words
        }
    
        /// Calls `body` with each lower-cased word, in order. ASCII text is scanned as bytes (a word
        /// of up to 15 bytes is a small string, no allocation); other text goes scalar by scalar.
            static func forEachWord(_ text: String, _ body: (String) -> Void) {
            var text = text
            let ascii = text.withUTF8 { buffer in buffer.allSatisfy { $0 < 0x80 } }
            guard ascii else { return forEachWordUnicode(text, body) }
            text.withUTF8 { buffer in
                var word = [UInt8]()
                word.reserveCapacity(32)
                for byte in buffer {
                    switch byte {
                    case 0x41...0x5A: word.append(byte + 0x20)
                    case 0x61...0x7A, 0x30...0x39: word.append(byte)
                    default:
                        if !word.isEmpty {
                            body(String(decoding: word, as: UTF8.self))
                            word.removeAll(keepingCapacity: true)
                        }
                    }
                }
                if !word.isEmpty { body(String(decoding: word, as: UTF8.self)) }
            }
        }
    
        private static func forEachWordUnicode(_ text: String, _ body: (String) -> Void) {
            var current = String.UnicodeScalarView()
            var nonASCII = false
            func flush() {
                guard !current.isEmpty else { return }
                let word = String(current)
                body(nonASCII ? word.lowercased() : word)
                current = String.UnicodeScalarView()
                nonASCII = false
            }
            for scalar in text.unicodeScalars {
                let v = scalar.value
                if v < 0x80 {
                    if v >= 0x41 && v <= 0x5A {
                        current.append(Unicode.Scalar(v + 0x20)!)
                    } else if (v >= 0x61 && v <= 0x7A) || (v >= 0x30 && v <= 0x39) {
                        current.append(scalar)
                    } else {
                        flush()
                    }
                } else if isWordScalar(scalar) {
                    current.append(scalar)
                    nonASCII = true
                } else {
                    flush()
                }
            }
            flush()
        }
    
        static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool { WordTokenizer.isWordScalar(scalar) }
    }

    /// Categories by the first matcher's rules: a `String`-keyed map from first words.
    static func categories(_ table: CategoryTable, _ text: String, lang: String?) -> [String] {
        struct Phrase { var rest: [String]; var category: Int }
        var common: [String: [Phrase]] = [:]
        var perLanguage: [String: [String: [Phrase]]] = [:]
        for (index, category) in table.categories.enumerated() {
            for keyword in category.keywords {
                let words = Words.words(keyword)
                if let first = words.first { common[first, default: []].append(Phrase(rest: Array(words.dropFirst()), category: index)) }
            }
            for (language, keywords) in category.languageKeywords {
                for keyword in keywords {
                    let words = Words.words(keyword)
                    if let first = words.first {
                        perLanguage[language.lowercased(), default: [:]][first, default: []].append(Phrase(rest: Array(words.dropFirst()), category: index))
                    }
                }
            }
        }
        func lookup(_ word: String, _ map: [String: [Phrase]]) -> [Phrase]? {
            if let found = map[word] { return found }
            if word.utf8.count > 2, word.utf8.last == UInt8(ascii: "s") { return map[String(word.dropLast())] }
            return nil
        }
        func matches(_ word: String, _ keyword: String) -> Bool {
            word == keyword || (word.utf8.count == keyword.utf8.count + 1 && word.hasSuffix("s") && word.hasPrefix(keyword))
        }
        let words = Words.words(text)
        let language = lang.flatMap { perLanguage[$0.lowercased()] }
        var matched = Set<Int>()
        for (position, word) in words.enumerated() {
            for candidate in (lookup(word, common) ?? []) + (language.flatMap { lookup(word, $0) } ?? []) {
                guard position + 1 + candidate.rest.count <= words.count else { continue }
                if candidate.rest.enumerated().allSatisfy({ matches(words[position + 1 + $0.offset], $0.element) }) {
                    matched.insert(candidate.category)
                }
            }
        }
        guard !matched.isEmpty else { return [CategoryTable.uncategorized] }
        return table.categories.indices.filter(matched.contains).map { table.categories[$0].name }
    }
}
