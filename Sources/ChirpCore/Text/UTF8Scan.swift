/// Byte scans over a string's UTF-8 storage (tight loops; `String.UTF8View` iteration is not).
enum UTF8Scan {
    /// True when any byte of `text` equals `a` or `b`.
    static func containsAny(_ text: String, _ a: UInt8, _ b: UInt8) -> Bool {
        var text = text
        return text.withUTF8 { buffer in buffer.contains { $0 == a || $0 == b } }
    }
}

/// Scalar access into well-formed UTF-8 (a Swift string's storage) by byte offset, so the text
/// rules can skip to the few places that matter and decode only there.
struct UTF8Text {
    let bytes: UnsafeBufferPointer<UInt8>

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Byte length of the scalar starting at `index`.
    @inline(__always)
    func length(at index: Int) -> Int {
        let lead = bytes[index]
        if lead < 0x80 { return 1 }
        if lead < 0xE0 { return 2 }
        if lead < 0xF0 { return 3 }
        return 4
    }

    @inline(__always)
    func scalar(at index: Int) -> Unicode.Scalar {
        let lead = UInt32(bytes[index])
        if lead < 0x80 { return Unicode.Scalar(UInt8(lead)) }
        @inline(__always) func tail(_ offset: Int) -> UInt32 { UInt32(bytes[index + offset] & 0x3F) }
        let value: UInt32
        if lead < 0xE0 {
            value = (lead & 0x1F) << 6 | tail(1)
        } else if lead < 0xF0 {
            value = (lead & 0x0F) << 12 | tail(1) << 6 | tail(2)
        } else {
            value = (lead & 0x07) << 18 | tail(1) << 12 | tail(2) << 6 | tail(3)
        }
        return Unicode.Scalar(value) ?? "\u{FFFD}"
    }

    /// Start of the scalar that ends just before `index` (> 0).
    @inline(__always)
    func start(before index: Int) -> Int {
        var i = index - 1
        while i > 0, bytes[i] & 0xC0 == 0x80 { i -= 1 }
        return i
    }

    @inline(__always)
    func scalar(before index: Int) -> Unicode.Scalar { scalar(at: start(before: index)) }

    /// The next `#` or `＃` (EF BC 83) at or after `index`.
    func nextHashSign(from index: Int) -> Int? {
        var i = index
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x23 { return i }
            if byte == 0xEF, i + 2 < bytes.count, bytes[i + 1] == 0xBC, bytes[i + 2] == 0x83 { return i }
            i += 1
        }
        return nil
    }

    /// The next `@` or `＠` (EF BC A0) at or after `index`.
    func nextAtSign(from index: Int) -> Int? {
        var i = index
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x40 { return i }
            if byte == 0xEF, i + 2 < bytes.count, bytes[i + 1] == 0xBC, bytes[i + 2] == 0xA0 { return i }
            i += 1
        }
        return nil
    }
}
