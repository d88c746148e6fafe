/// Extracts `@user` mentions (twitter-text's rule, simplified to ASCII handles): `@` or `＠`,
/// not preceded by a letter, digit, `_` or one of `!@#$%&*`, then 1–20 of `[A-Za-z0-9_]`,
/// not followed by `@` or `://`.
public enum MentionExtractor {
    public static func extract(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { bytes in
            let text = UTF8Text(bytes)
            var result: [String] = []
            var i = 0
            while let at = text.nextAtSign(from: i) {
                let handleStart = at + text.length(at: at)
                i = handleStart
                if at > 0 {
                    let p = text.scalar(before: at)
                    if p.value < 0x80 {
                        if isHandleByte(UInt8(p.value)) || "!@#$%&*".utf8.contains(UInt8(p.value)) { continue }
                    } else if p.properties.isAlphabetic {
                        continue
                    }
                }
                var end = handleStart
                while end < bytes.count, isHandleByte(bytes[end]), end - handleStart < 21 { end += 1 }
                let length = end - handleStart
                guard length >= 1, length <= 20 else { continue }
                if end < bytes.count {
                    let next = bytes[end]
                    if next == 0x40 || isHandleByte(next) { continue }  // `@`, or longer than 20
                    if next == 0xEF, end + 2 < bytes.count, bytes[end + 1] == 0xBC, bytes[end + 2] == 0xA0 { continue }
                    if next == UInt8(ascii: ":"), end + 2 < bytes.count, bytes[end + 1] == UInt8(ascii: "/"),
                       bytes[end + 2] == UInt8(ascii: "/") {
                        continue
                    }
                }
                result.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[handleStart..<end]), as: UTF8.self))
                i = end
            }
            return result
        }
    }

    @inline(__always)
    static func isHandleByte(_ v: UInt8) -> Bool {
        (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
    }
}
