/// Why a byte sequence is not a JSON document.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case invalidJSON = "invalid_json"
        case invalidUTF8 = "invalid_utf8"
        case tooDeep = "too_deep"
    }

    public var kind: Kind
    public var message: String
    /// Byte offset into the input where the problem was found.
    public var offset: Int

    public var description: String { "\(message) at byte \(offset)" }
}

/// A strict RFC 8259 parser over UTF-8 bytes.
///
/// Strings must be valid UTF-8 (a payload that is not is a dead letter, never silently repaired),
/// nesting is bounded so hostile input cannot exhaust the stack, and numbers keep their text.
/// The grammar lives in `JSONScanner`; this builds the `JSONValue` tree from its tape.
public enum JSONParser {
    public static let maximumDepth = 256

    /// Parses exactly one document; trailing non-whitespace is an error.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try JSONTape.parse(bytes).withRoot { $0.value }
    }

    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        try parse(Array(bytes))
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}
