/// Appends compact JSON to a byte buffer. Used for enriched records, log lines and re-serialized
/// payloads; escaping follows RFC 8259 (control characters, quote, backslash), everything else is
/// written as UTF-8.
///
/// The buffer is raw memory the writer owns (it is non-copyable), so each piece costs a capacity
/// check and a copy, not an array append; `bytes` hands out the result.
public struct JSONWriter: ~Copyable, @unchecked Sendable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    public private(set) var count = 0

    public init(capacity: Int = 256) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deallocate()
    }

    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    public var string: String { String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self) }

    // MARK: Buffer

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        larger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = larger
        capacity = newCapacity
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    private mutating func put(_ buffer: UnsafeBufferPointer<UInt8>) {
        guard let source = buffer.baseAddress, buffer.count > 0 else { return }
        reserve(buffer.count)
        (base + count).update(from: source, count: buffer.count)
        count += buffer.count
    }

    // MARK: JSON

    public mutating func raw(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        reserve(length)
        (base + count).update(from: text.utf8Start, count: length)
        count += length
    }

    public mutating func rawString(_ text: String) {
        var text = text
        text.withUTF8 { put($0) }
    }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { buffer in
            reserve(buffer.count + 2)
            base[count] = UInt8(ascii: "\"")
            count += 1
            guard let source = buffer.baseAddress else { return put(UInt8(ascii: "\"")) }
            var runStart = 0
            while true {
                let special = JSONBytes.firstSpecial(source, from: runStart, count: buffer.count, stopAtNonASCII: false)
                put(UnsafeBufferPointer(rebasing: buffer[runStart..<special]))
                guard special < buffer.count else { break }
                runStart = special + 1
                reserve(6 + buffer.count - special)
                let byte = buffer[special]
                switch byte {
                case UInt8(ascii: "\""): put(0x5C); put(0x22)
                case UInt8(ascii: "\\"): put(0x5C); put(0x5C)
                case 0x0A: put(0x5C); put(UInt8(ascii: "n"))
                case 0x0D: put(0x5C); put(UInt8(ascii: "r"))
                case 0x09: put(0x5C); put(UInt8(ascii: "t"))
                default:
                    let hex: StaticString = "0123456789abcdef"
                    raw("\\u00")
                    put(hex.utf8Start[Int(byte >> 4)])
                    put(hex.utf8Start[Int(byte & 0xF)])
                }
            }
            put(UInt8(ascii: "\""))
        }
    }

    /// A timestamp as a JSON string in ISO 8601.
    public mutating func timestamp(_ value: Timestamp) {
        reserve(Timestamp.maximumISO8601Length + 2)
        base[count] = UInt8(ascii: "\"")
        count += 1
        count += value.writeISO8601(to: base + count)
        base[count] = UInt8(ascii: "\"")
        count += 1
    }

    public mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { raw("null") }
    }

    public mutating func int(_ value: some BinaryInteger) {
        if value >= 0 && value < 10 { return put(UInt8(0x30 + Int(value))) }
        rawString(String(value))
    }

    public mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }

    public mutating func stringArray(_ values: [String]) {
        put(UInt8(ascii: "["))
        for (i, value) in values.enumerated() {
            if i > 0 { put(UInt8(ascii: ",")) }
            string(value)
        }
        put(UInt8(ascii: "]"))
    }

    /// Writes `"key":` preceded by a comma unless it is the first member.
    public mutating func key(_ name: StaticString, first: Bool = false) {
        let length = name.utf8CodeUnitCount
        reserve(length + 4)
        if !first { base[count] = UInt8(ascii: ","); count += 1 }
        base[count] = UInt8(ascii: "\"")
        let source = name.utf8Start
        for i in 0..<length { base[count + 1 + i] = source[i] }
        base[count + 1 + length] = UInt8(ascii: "\"")
        base[count + 2 + length] = UInt8(ascii: ":")
        count += length + 3
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let b): bool(b)
        case .number(let n): rawString(n)
        case .string(let s): string(s)
        case .array(let elements):
            put(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { put(UInt8(ascii: ",")) }
                self.value(element)
            }
            put(UInt8(ascii: "]"))
        case .object(let object):
            put(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { put(UInt8(ascii: ",")) }
                string(member.key)
                put(UInt8(ascii: ":"))
                self.value(member.value)
            }
            put(UInt8(ascii: "}"))
        }
    }
}

extension JSONValue {
    /// Compact serialization.
    public var serialized: [UInt8] {
        var writer = JSONWriter()
        writer.value(self)
        return writer.bytes
    }
}
