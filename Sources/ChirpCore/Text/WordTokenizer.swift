/// Splits text into lower-cased words: maximal runs of letters, marks and digits. Everything else
/// (spaces, punctuation, `#`, `@`, `_`, emoji) separates words, so `#pizza` yields `pizza` and
/// `bandwidth` never yields `band`.
public enum WordTokenizer {
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        forEachWord(text) { words.append($0) }
        return words
    }

    /// Calls `body` with each lower-cased word, in order. ASCII text is scanned as bytes (a word
    /// of up to 15 bytes is a small string, no allocation); other text goes scalar by scalar.
    @inline(__always)
    public static func forEachWord(_ text: String, _ body: (String) -> Void) {
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
