/// Byte scans over a string's UTF-8 storage (tight loops; `String.UTF8View` iteration is not).
enum UTF8Scan {
    /// True when any byte of `text` equals `a` or `b`.
    static func containsAny(_ text: String, _ a: UInt8, _ b: UInt8) -> Bool {
        var text = text
        return text.withUTF8 { buffer in buffer.contains { $0 == a || $0 == b } }
    }
}
