/// A hashtag found in a text: as written (display) and its aggregation key.
public struct Hashtag: Sendable, Equatable, Hashable {
    /// As written, without `#`.
    public var display: String
    /// Compatibility-normalized, case-folded: `#Brexit`, `#BREXIT` and `#ｂｒｅｘｉｔ` share one key.
    public var key: String

    public init(display: String, key: String) {
        self.display = display
        self.key = key
    }

    public init(display: String) {
        self.init(display: display, key: HashtagExtractor.key(for: display))
    }
}

/// Extracts hashtags by Twitter's rules (twitter-text `extractHashtags`):
/// - `#` or full-width `＃`, not followed by U+FE0F or U+20E3 (keycap emoji);
/// - preceded by the start of text, U+FE0E/U+FE0F, or a character that is neither a hashtag
///   character nor `&` (so no hashtag inside a word or an HTML entity);
/// - the tag is the longest run of hashtag characters (letters, marks, decimal digits, `_`,
///   ZWNJ/ZWJ and a few script-specific punctuation marks) and must contain a letter or mark;
/// - a tag directly followed by `#`, `＃` or `://` is dropped, and so is one inside a URL.
public enum HashtagExtractor {
    /// Identifies the rules in enriched records, so derived data can be recomputed when they change.
    public static let version = "twitter-text-3.1"

    public static func extract(_ text: String) -> [Hashtag] {
        extractDisplay(text).map(Hashtag.init(display:))
    }

    public static func extractDisplay(_ text: String) -> [String] {
        // Fast reject: no '#' (0x23) and no '＃' (EF BC 83).
        guard UTF8Scan.containsAny(text, 0x23, 0xEF) else { return [] }

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

    // MARK: Character classes

    static func isLetterOrMark(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 {
            return (c.value >= 0x41 && c.value <= 0x5A) || (c.value >= 0x61 && c.value <= 0x7A)
        }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark:
            return true
        default:
            return false
        }
    }

    /// Script punctuation twitter-text allows inside a tag.
    static let specialCharacters: Set<UInt32> = [
        0x200C, 0x200D, 0xA67E, 0x05BE, 0x05F3, 0x05F4, 0xFF5E, 0x301C, 0x309B, 0x309C, 0x30A0, 0x30FB,
        0x3003, 0x0F0B, 0x0F0C, 0x00B7,
    ]

    static func isHashtagCharacter(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 {
            let v = c.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        if isLetterOrMark(c) || specialCharacters.contains(c.value) { return true }
        return c.properties.generalCategory == .decimalNumber
    }

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

    // MARK: Keys

    /// The aggregation key: NFKC-normalized and lower-cased (ASCII fast path).
    public static func key(for display: String) -> String {
        var ascii = true
        for byte in display.utf8 where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii {
            return String(decoding: display.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
        }
        return UnicodeNormalization.nfkc(display).lowercased()
    }
}
