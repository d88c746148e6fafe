/// Extracts `@user` mentions (twitter-text's rule, simplified to ASCII handles): `@` or `＠`,
/// not preceded by a letter, digit, `_` or one of `!@#$%&*`, then 1–20 of `[A-Za-z0-9_]`,
/// not followed by `@` or `://`.
public enum MentionExtractor {
    public static func extract(_ text: String) -> [String] {
        // Fast reject on bytes: '@' (0x40) or the first byte of '＠' (EF BC A0).
        guard UTF8Scan.containsAny(text, 0x40, 0xEF) else { return [] }
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
