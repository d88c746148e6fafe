/// A record's headers kept in one buffer, so that reading them costs one allocation however many
/// there are, and looking one up compares bytes. Each header is stored as its name's length
/// (2 bytes, little endian), the name, its value's length (4 bytes, little endian; all ones for a
/// header without a value) and the value.
public struct RecordHeaders: Sendable {
    public private(set) var storage: [UInt8] = []
    public private(set) var count = 0

    private static let noValue: UInt32 = .max

    public init() {}

    public init(minimumCapacity: Int) {
        storage.reserveCapacity(minimumCapacity)
    }

    /// Bytes one header takes in `storage`.
    public static func storedSize(nameBytes: Int, valueBytes: Int) -> Int { 6 + nameBytes + valueBytes }

    /// Adds a header; `value` nil is a header without a value. Names longer than 65 535 bytes are
    /// cut there (Kafka has no such names in practice).
    public mutating func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?) {
        let nameCount = min(name.count, Int(UInt16.max))
        storage.append(UInt8(truncatingIfNeeded: nameCount))
        storage.append(UInt8(truncatingIfNeeded: nameCount >> 8))
        storage.append(contentsOf: UnsafeRawBufferPointer(rebasing: name[0..<nameCount]))
        let length = value.map { UInt32(truncatingIfNeeded: $0.count) } ?? Self.noValue
        for shift in stride(from: 0, to: 32, by: 8) { storage.append(UInt8(truncatingIfNeeded: length >> UInt32(shift))) }
        if let value { storage.append(contentsOf: value) }
        count += 1
    }

    public mutating func append(_ name: String, bytes value: UnsafeRawBufferPointer?) {
        var name = name
        name.withUTF8 { append(name: UnsafeRawBufferPointer($0), value: value) }
    }

    public mutating func append(_ name: String, _ value: [UInt8]?) {
        guard let value else { return append(name, bytes: nil) }
        value.withUnsafeBytes { append(name, bytes: $0) }
    }

    public mutating func append(_ name: String, _ value: String) {
        var value = value
        value.withUTF8 { append(name, bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Adds a header holding `value` in decimal, as `int64` reads it back.
    public mutating func append(_ name: String, _ value: Int64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for "-9223372036854775808"
        withUnsafeMutableBytes(of: &digits) { buffer in
            var magnitude = value.magnitude
            var at = buffer.count
            repeat {
                at -= 1
                buffer[at] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 { at -= 1; buffer[at] = UInt8(ascii: "-") }
            append(name, bytes: UnsafeRawBufferPointer(rebasing: buffer[at...]))
        }
    }

    /// Calls `body` with each header's name and value (nil: none), in order.
    public func forEach(_ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer?) throws -> Void) rethrows {
        try storage.withUnsafeBytes { bytes in
            var at = 0
            while let (nameRange, valueRange, next) = Self.entry(in: bytes, at: at) {
                try body(UnsafeRawBufferPointer(rebasing: bytes[nameRange]), valueRange.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) })
                at = next
            }
        }
    }

    /// Calls `body` with the value of the last header called `name`; nil when there is none or it
    /// has no value.
    public func withValue<R>(_ name: String, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        var name = name
        return name.withUTF8 { wanted in
            storage.withUnsafeBytes { bytes -> R? in
                var found: Range<Int>?? = nil
                var at = 0
                while let (nameRange, valueRange, next) = Self.entry(in: bytes, at: at) {
                    if nameRange.count == wanted.count, wanted.elementsEqual(UnsafeRawBufferPointer(rebasing: bytes[nameRange])) {
                        found = .some(valueRange)
                    }
                    at = next
                }
                guard case .some(.some(let range)) = found else { return nil }
                return body(UnsafeRawBufferPointer(rebasing: bytes[range]))
            }
        }
    }

    /// The header stored at `at`: where its name and value (nil: none) are in `bytes`, and where
    /// the next one starts; nil past the last.
    private static func entry(in bytes: UnsafeRawBufferPointer, at: Int) -> (name: Range<Int>, value: Range<Int>?, next: Int)? {
        guard at + 2 <= bytes.count else { return nil }
        let lengthAt = at + 2 + (Int(bytes[at]) | Int(bytes[at + 1]) << 8)
        var length: UInt32 = 0
        for i in 0..<4 { length |= UInt32(bytes[lengthAt + i]) << UInt32(8 * i) }
        let valueStart = lengthAt + 4
        let valueRange = length == noValue ? nil : valueStart..<valueStart + Int(length)
        return (at + 2..<lengthAt, valueRange, valueRange?.upperBound ?? valueStart)
    }

    /// The value of the last header called `name`.
    public subscript(name: String) -> [UInt8]? {
        withValue(name) { Array($0) }
    }

    public func string(_ name: String) -> String? {
        withValue(name) { String(decoding: $0, as: UTF8.self) }
    }

    /// The value read as a decimal integer (optional leading minus); nil when absent or not one.
    public func int64(_ name: String) -> Int64? {
        withValue(name) { Self.int64(decimal: $0) } ?? nil
    }

    /// `bytes` read as a decimal integer (optional leading minus, nothing else); nil when they
    /// are not one or it does not fit.
    public static func int64(decimal bytes: UnsafeRawBufferPointer) -> Int64? {
        var index = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { index = 1 }
        guard index < bytes.count, bytes.count - index <= 19 else { return nil }
        var value: Int64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? times.subtractingReportingOverflow(Int64(digit)) : times.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        return value
    }

    /// Every header in order, as names and values.
    public var all: [(name: String, value: [UInt8]?)] {
        var result: [(String, [UInt8]?)] = []
        forEach { name, value in result.append((String(decoding: name, as: UTF8.self), value.map { Array($0) })) }
        return result
    }
}
