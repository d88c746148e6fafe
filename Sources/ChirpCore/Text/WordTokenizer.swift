/// Splits text into lower-cased words: maximal runs of letters, marks and digits. Everything else
/// (spaces, punctuation, `#`, `@`, `_`, emoji) separates words, so `#pizza` yields `pizza` and
/// `bandwidth` never yields `band`.
public enum WordTokenizer {
    public static func words(_ text: String) -> [String] {
        WordList.with(text) { list in (0..<list.count).map(list.string) }
    }

    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber:
            return true
        default:
            return false
        }
    }

    /// A keyword or phrase as the matcher sees it: its words, lower-cased.
    public static func normalizedPhrase(_ phrase: String) -> [String] {
        words(phrase)
    }
}

/// The words of a text in one pass over its UTF-8, in scratch memory (on the stack for tweet-
/// sized texts): ASCII words lower-cased byte by byte; a word holding any other scalar (classified
/// by its Unicode category) keeps its bytes and is lower-cased by Swift's full case mapping only
/// when asked for as a `String`.
struct WordList {
    struct Word {
        var start: Int32
        var end: Int32
        var isUnicode: Bool
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let words: UnsafeBufferPointer<Word>

    var count: Int { words.count }

    /// Calls `body` with the words of `text`; the list is valid only inside `body`.
    static func with<R>(_ text: String, _ body: (WordList) -> R) -> R {
        var text = text
        return text.withUTF8 { source in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, source.count)) { out in
                // A word takes at least one byte and one separator, except the last.
                withUnsafeTemporaryAllocation(of: Word.self, capacity: source.count / 2 + 1) { words in
                    let (byteCount, wordCount) = scan(source, into: out, words: words)
                    return body(WordList(
                        bytes: UnsafeBufferPointer(rebasing: out[0..<byteCount]),
                        words: UnsafeBufferPointer(rebasing: words[0..<wordCount])))
                }
            }
        }
    }

    private static func scan(
        _ source: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>,
        words: UnsafeMutableBufferPointer<Word>
    ) -> (bytes: Int, words: Int) {
        let scalars = UTF8Text(source)
        let count = source.count
        var n = 0
        var wordCount = 0
        var wordStart = 0
        var wordIsASCII = true
        var i = 0
        while true {
            // A word ends at a separator or at the end of the text.
            var separator = i == count
            if !separator {
                let byte = source[i]
                if byte < 0x80 {
                    if byte &- 0x41 < 26 {
                        out[n] = byte + 0x20; n += 1
                    } else if byte &- 0x61 < 26 || byte &- 0x30 < 10 {
                        out[n] = byte; n += 1
                    } else {
                        separator = true
                    }
                    i += 1
                } else {
                    let length = scalars.length(at: i)
                    if WordTokenizer.isWordScalar(scalars.scalar(at: i)) {
                        for j in i..<(i + length) { out[n] = source[j]; n += 1 }
                        wordIsASCII = false
                    } else {
                        separator = true
                    }
                    i += length
                }
            }
            if separator {
                if n > wordStart {
                    words[wordCount] = Word(start: Int32(wordStart), end: Int32(n), isUnicode: !wordIsASCII)
                    wordCount += 1
                    wordStart = n
                    wordIsASCII = true
                }
                if i >= count { return (n, wordCount) }
            }
        }
    }

    /// True when word k has a non-ASCII scalar (compare it as a `String`).
    @inline(__always)
    func isUnicode(_ k: Int) -> Bool { words[k].isUnicode }

    /// Word k's bytes: lower-cased for ASCII words, as written for the others.
    @inline(__always)
    func raw(_ k: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[Int(words[k].start)..<Int(words[k].end)])
    }

    func string(_ k: Int) -> String {
        let text = String(decoding: raw(k), as: UTF8.self)
        return words[k].isUnicode ? text.lowercased() : text
    }

    /// True when unicode word k could equal an ASCII keyword: it holds the Kelvin sign (E2 84 AA),
    /// the one non-ASCII letter whose lower case is ASCII.
    func mayFoldToASCII(_ k: Int) -> Bool {
        let word = raw(k)
        guard word.count >= 3 else { return false }
        for i in 0..<(word.count - 2) where word[i] == 0xE2 && word[i + 1] == 0x84 && word[i + 2] == 0xAA { return true }
        return false
    }
}
