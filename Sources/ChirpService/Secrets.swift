import Foundation

/// Keeps secrets out of what the services print: the start-up line, errors and metrics see values
/// through `Secrets.redact`, and options marked secret are never shown at all.
public enum Secrets {
    public static let mask = "***"

    /// Whether a `key=value` setting's value is secret: librdkafka's `sasl.password`,
    /// `ssl.key.password`, `ssl.key.pem`, `sasl.jaas.config`, `sasl.oauthbearer.client.secret`,
    /// libpq's `password`, and the like.
    public static func isSecretKey<S: StringProtocol>(_ key: S) -> Bool {
        let key = key.lowercased()
        return ["password", "secret", "jaas", "token", "credential", "pem"].contains { key.contains($0) }
            || key.hasSuffix("key") && !key.hasSuffix("location")
    }

    /// `text` with the password of every URL (`scheme://user:password@host`) and the value of every
    /// secret `key=value` setting replaced by `***`. A setting's value runs to the end of its line,
    /// or to a comma, semicolon, ampersand or white space that the next `key=` follows: a value may
    /// itself hold those (`sasl.password=a,b`, `password='p q'`).
    public static func redact(_ text: String) -> String {
        var bytes = Array(text.utf8)
        redactURLPasswords(&bytes)
        redactSecretSettings(&bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "&") || byte == UInt8(ascii: " ")
            || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    private static func redactURLPasswords(_ bytes: inout [UInt8]) {
        var index = 0
        while index + 2 < bytes.count {
            guard bytes[index] == UInt8(ascii: ":"), bytes[index + 1] == UInt8(ascii: "/"), bytes[index + 2] == UInt8(ascii: "/") else {
                index += 1
                continue
            }
            let start = index + 3
            // The userinfo ends at the last '@' before the query or white space: a password may
            // hold ',', ';' or '&', and a mistyped one '/' or '#' (which a URL parser would take
            // for the path: such a URL is refused, but must not be shown on its way there).
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "?"), !isWhitespace(bytes[end]) {
                // Another URL starts here (a list of them): this one's userinfo ends before it.
                if bytes[end] == UInt8(ascii: ":"), end + 2 < bytes.count, bytes[end + 1] == UInt8(ascii: "/"), bytes[end + 2] == UInt8(ascii: "/") {
                    while end > start, isSchemeByte(bytes[end - 1]) { end -= 1 }
                    break
                }
                end += 1
            }
            guard let at = bytes[start..<end].lastIndex(of: UInt8(ascii: "@")),
                  let colon = bytes[start..<at].firstIndex(of: UInt8(ascii: ":")), colon + 1 < at
            else {
                index = end
                continue
            }
            bytes.replaceSubrange((colon + 1)..<at, with: Array(mask.utf8))
            index = colon + 1 + mask.utf8.count
        }
    }

    private static func redactSecretSettings(_ bytes: inout [UInt8]) {
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "=") else {
                index += 1
                continue
            }
            // libpq takes `password = value` too: for its password keywords, blanks around '='
            // belong to neither side (elsewhere a key ends at the '=').
            var keyEnd = index
            while keyEnd > 0, isBlank(bytes[keyEnd - 1]) { keyEnd -= 1 }
            var keyStart = keyEnd
            while keyStart > 0, isKeyByte(bytes[keyStart - 1]) { keyStart -= 1 }
            let spaced = ["password", "sslpassword"].contains(String(decoding: bytes[keyStart..<keyEnd], as: UTF8.self).lowercased())
            if !spaced {
                keyEnd = index
                keyStart = keyEnd
                while keyStart > 0, isKeyByte(bytes[keyStart - 1]) { keyStart -= 1 }
            }
            var valueStart = index + 1
            while spaced, valueStart < bytes.count, isBlank(bytes[valueStart]) { valueStart += 1 }
            var valueEnd = valueStart
            while valueEnd < bytes.count, bytes[valueEnd] != UInt8(ascii: "\n"), bytes[valueEnd] != UInt8(ascii: "\r"),
                  !(isSeparator(bytes[valueEnd]) && startsSetting(bytes, at: valueEnd + 1)) { valueEnd += 1 }
            let key = String(decoding: bytes[keyStart..<keyEnd], as: UTF8.self)
            if isSecretKey(key), valueEnd > valueStart {
                bytes.replaceSubrange(valueStart..<valueEnd, with: Array(mask.utf8))
                index = valueStart + mask.utf8.count
            } else {
                index = max(valueEnd, index + 1)
            }
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    /// Whether `key=` (or `key = `) starts at `index` (after optional white space).
    private static func startsSetting(_ bytes: [UInt8], at index: Int) -> Bool {
        var position = index
        while position < bytes.count, isWhitespace(bytes[position]) { position += 1 }
        let keyStart = position
        while position < bytes.count, isKeyByte(bytes[position]) { position += 1 }
        let keyEnd = position
        while position < bytes.count, isBlank(bytes[position]) { position += 1 }
        return keyEnd > keyStart && position < bytes.count && bytes[position] == UInt8(ascii: "=")
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// Why `value` cannot be a secret: a placeholder left from an example file. nil when it can.
    public static func placeholderProblem(_ value: String) -> String? {
        value.lowercased().hasPrefix("change-me") ? "is a placeholder ('change-me…'): set a real secret" : nil
    }

    /// Why a text of `key=value` settings (Kafka's, libpq's keywords, a URL's query) cannot be
    /// used: a secret setting holds a placeholder.
    public static func settingsPlaceholderProblem(_ text: String) -> String? {
        for item in text.split(whereSeparator: { ",\n\r\t &?;".contains($0) }) {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, isSecretKey(parts[0].trimmingCharacters(in: .whitespaces)) else { continue }
            if let problem = placeholderProblem(parts[1].trimmingCharacters(in: .whitespaces)) {
                return "sets \(parts[0].trimmingCharacters(in: .whitespaces)), which \(problem)"
            }
        }
        return nil
    }

    /// Why the URL in `value` cannot be used as it is: its user part (before the last '@') holds a
    /// character a URL parser takes for something else ('/', '#', '?', another '@') or a '%' that
    /// starts no escape. Such a URL would fail in ways whose messages quote pieces of the
    /// password. nil when it is fine or no URL.
    public static func urlShapeProblem(_ value: String) -> String? {
        // Only a value that is one URL (`scheme://…`); settings texts that hold URLs among other
        // values (Kafka's) are not one.
        guard let scheme = value.range(of: "://"), !value[..<scheme.lowerBound].isEmpty,
              value[..<scheme.lowerBound].utf8.allSatisfy(isSchemeByte) else { return nil }
        let rest = value[scheme.upperBound...].prefix { $0 != "?" && $0 != "\n" }
        guard let at = rest.lastIndex(of: "@") else { return nil }
        let userinfo = Array(rest[..<at].utf8)
        var index = 0
        var bad = false
        while index < userinfo.count, !bad {
            switch userinfo[index] {
            case UInt8(ascii: "/"), UInt8(ascii: "#"), UInt8(ascii: "?"), UInt8(ascii: "@"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                bad = true
            case UInt8(ascii: "%"):
                bad = index + 2 >= userinfo.count || !isHexDigit(userinfo[index + 1]) || !isHexDigit(userinfo[index + 2])
                index += 3
                continue
            default:
                break
            }
            index += 1
        }
        return bad ? "holds a user name or password with '/', '#', '?', '@', a blank or a '%' that starts no escape: percent-encode them (%2F, %23, %3F, %40, %20, %25)" : nil
    }

    private static func isSchemeByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
    }

    /// The password of a URL (`scheme://user:password@host…`), if it has one.
    public static func urlPassword(_ url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return nil }
        return String(authority[authority.index(after: colon)..<at])
    }
}
