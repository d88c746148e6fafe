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
    func nextHashSign(from index: Int) -> Int? { next(0x23, orFullWidthEndingIn: 0x83, from: index) }

    /// The next `@` or `＠` (EF BC A0) at or after `index`.
    func nextAtSign(from index: Int) -> Int? { next(0x40, orFullWidthEndingIn: 0xA0, from: index) }

    /// The next ASCII `sign`, or its full-width form (EF BC `last`), at or after `index`.
    private func next(_ sign: UInt8, orFullWidthEndingIn last: UInt8, from index: Int) -> Int? {
        var i = index
        while i < bytes.count {
            let byte = bytes[i]
            if byte == sign { return i }
            if byte == 0xEF, i + 2 < bytes.count, bytes[i + 1] == 0xBC, bytes[i + 2] == last { return i }
            i += 1
        }
        return nil
    }
}

/// Eight-bytes-at-a-time search for the bytes JSON strings treat specially.
enum JSONBytes {
    /// The first index at or after `from` (up to `count`) holding a quote, a backslash or a control
    /// character — or any non-ASCII byte when `stopAtNonASCII`. In each mask the lowest set bit
    /// marks a real hit: borrows only carry upward from one.
    @inline(__always)
    static func firstSpecial(_ base: UnsafePointer<UInt8>, from: Int, count: Int, stopAtNonASCII: Bool) -> Int {
        let raw = UnsafeRawPointer(base)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var index = from
        while index + 8 <= count {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            var special = ((word &- ones &* 0x20) & ~word & highs)
                | ((quote &- ones) & ~quote & highs)
                | ((backslash &- ones) & ~backslash & highs)
            if stopAtNonASCII { special |= word & highs }
            if special != 0 { return index + special.trailingZeroBitCount >> 3 }
            index += 8
        }
        while index < count {
            let byte = base[index]
            if byte < 0x20 || byte == 0x22 || byte == 0x5C || (stopAtNonASCII && byte >= 0x80) { return index }
            index += 1
        }
        return count
    }
}
