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
        var hashtags: [Hashtag] = []
        forEachHashtag(text) { display, utf8 in hashtags.append(Hashtag(display: display, key: key(for: display, utf8: utf8))) }
        return hashtags
    }

    public static func extractDisplay(_ text: String) -> [String] {
        var tags: [String] = []
        forEachHashtag(text) { display, _ in tags.append(display) }
        return tags
    }

    /// Works on the UTF-8 bytes: jumps from one hash sign to the next (`#` is 0x23, `＃` is
    /// EF BC 83) and decodes only the scalars around it, so text without hash signs costs one scan.
    static func forEachHashtag(_ text: String, _ body: (String, UnsafeBufferPointer<UInt8>) -> Void) {
        var text = text
        text.withUTF8 { bytes in
            let text = UTF8Text(bytes)
            var urls = URLTokenScanner()
            var i = 0
            while let hash = text.nextHashSign(from: i) {
                i = hash + text.length(at: hash)
                // Boundary before the hash sign.
                if hash > 0 {
                    let previous = text.scalar(before: hash)
                    let boundary = previous == "\u{FE0E}" || previous == "\u{FE0F}"
                        || !(isHashtagCharacter(previous) || previous == "&")
                    guard boundary else { continue }
                }
                let start = i
                if start < bytes.count {
                    let first = text.scalar(at: start)
                    if first == "\u{FE0F}" || first == "\u{20E3}" { continue }
                }
                var end = start
                var hasLetter = false
                while end < bytes.count {
                    let c = text.scalar(at: end)
                    guard isHashtagCharacter(c) else { break }
                    if isLetterOrMark(c) { hasLetter = true }
                    end += text.length(at: end)
                }
                guard end > start else { continue }
                i = end
                guard hasLetter else { continue }
                if end < bytes.count {
                    let next = text.scalar(at: end)
                    if next == "#" || next == "\u{FF03}" { continue }
                    if next == ":", end + 2 < bytes.count, bytes[end + 1] == UInt8(ascii: "/"), bytes[end + 2] == UInt8(ascii: "/") {
                        continue
                    }
                }
                if urls.isInsideURL(text, hashAt: hash) { continue }
                let tag = UnsafeBufferPointer(rebasing: bytes[start..<end])
                body(String(decoding: tag, as: UTF8.self), tag)
            }
        }
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

    /// Tells whether a hash sign belongs to a URL: the whitespace-delimited token before it
    /// contains `://`, or starts with a host name (`name.tld`) followed by `/`. Both depend only on
    /// the token up to its first `/` and the byte after it, so the scanner walks the text forward
    /// once, remembering where the current token starts, its first slash and the verdict: the
    /// cost stays linear however many hash signs share a token (`.#a.#a.#a…`).
    struct URLTokenScanner {
        /// Bytes before this are scanned.
        private var scanned = 0
        private var tokenStart = 0
        private var firstSlash: Int?
        private var verdict: Bool?

        /// `hashAt` must not decrease from one call to the next.
        mutating func isInsideURL(_ text: UTF8Text, hashAt: Int) -> Bool {
            while scanned < hashAt {
                let scalar = text.scalar(at: scanned)
                let length = text.length(at: scanned)
                if HashtagExtractor.isTokenSeparator(scalar) {
                    tokenStart = scanned + length
                    firstSlash = nil
                    verdict = nil
                } else if scalar == "/", firstSlash == nil {
                    firstSlash = scanned
                }
                scanned += length
            }
            guard let slash = firstSlash else { return false }
            if let verdict { return verdict }
            let found = HashtagExtractor.isURL(text, tokenStart: tokenStart, firstSlash: slash)
            verdict = found
            return found
        }
    }

    static func isTokenSeparator(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x80 ? (scalar == " " || (scalar.value >= 0x09 && scalar.value <= 0x0D)) : scalar.properties.isWhitespace
    }

    /// The token from `tokenStart` whose first `/` is at `firstSlash` starts a URL: `scheme://`
    /// (at least one scalar before the colon) or `label.tld/` (a top-level domain of two or more
    /// letters, a label of letters, digits, `-` and `.`).
    static func isURL(_ text: UTF8Text, tokenStart: Int, firstSlash: Int) -> Bool {
        var host: [Unicode.Scalar] = []
        var at = tokenStart
        while at < firstSlash {
            host.append(text.scalar(at: at))
            at += text.length(at: at)
        }
        if host.count > 1, host.last == ":", firstSlash + 1 < text.bytes.count, text.bytes[firstSlash + 1] == UInt8(ascii: "/") {
            return true
        }
        guard let lastDot = host.lastIndex(of: ".") else { return false }
        let tld = host[(lastDot + 1)...]
        let label = host[..<lastDot]
        return tld.count >= 2 && tld.allSatisfy { $0.properties.isAlphabetic }
            && !label.isEmpty
            && label.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "-" || $0 == "." }
    }

    // MARK: Keys

    /// The aggregation key: NFKC-normalized and lower-cased (ASCII fast path).
    public static func key(for display: String) -> String {
        var storage = display
        return storage.withUTF8 { key(for: display, utf8: $0) }
    }

    /// `key(for:)` given the display form's bytes: ASCII tags are lower-cased byte by byte, and one
    /// without capitals is its own key (no copy).
    static func key(for display: String, utf8 bytes: UnsafeBufferPointer<UInt8>) -> String {
        var upper = false
        for byte in bytes {
            if byte >= 0x80 { return UnicodeNormalization.nfkc(display).lowercased() }
            if byte >= 0x41 && byte <= 0x5A { upper = true }
        }
        guard upper else { return display }
        return String(unsafeUninitializedCapacity: bytes.count) { buffer in
            for i in 0..<bytes.count {
                let byte = bytes[i]
                buffer[i] = byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
            }
            return bytes.count
        }
    }
}
