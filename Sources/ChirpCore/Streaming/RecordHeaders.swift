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

    public mutating func append(_ name: String, _ value: [UInt8]?) {
        var name = name
        name.withUTF8 { nameBytes in
            if let value {
                value.withUnsafeBytes { append(name: UnsafeRawBufferPointer(nameBytes), value: $0) }
            } else {
                append(name: UnsafeRawBufferPointer(nameBytes), value: nil)
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
                Self.forEachEntry(in: bytes) { nameRange, valueRange in
                    if nameRange.count == wanted.count, wanted.elementsEqual(UnsafeRawBufferPointer(rebasing: bytes[nameRange])) {
                        found = .some(valueRange)
                    }
                }
                guard case .some(.some(let range)) = found else { return nil }
                return body(UnsafeRawBufferPointer(rebasing: bytes[range]))
            }
        }
    }

    /// Walks the stored headers: where each one's name and value (nil: none) are in `bytes`.
    private static func forEachEntry(in bytes: UnsafeRawBufferPointer, _ body: (Range<Int>, Range<Int>?) -> Void) {
        var at = 0
        while at + 2 <= bytes.count {
            let lengthAt = at + 2 + (Int(bytes[at]) | Int(bytes[at + 1]) << 8)
            var length: UInt32 = 0
            for i in 0..<4 { length |= UInt32(bytes[lengthAt + i]) << UInt32(8 * i) }
            let valueStart = lengthAt + 4
            let valueRange = length == noValue ? nil : valueStart..<valueStart + Int(length)
            body(at + 2..<lengthAt, valueRange)
            at = valueRange?.upperBound ?? valueStart
        }
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
        withValue(name) { Self.parseInt64($0) } ?? nil
    }

    static func parseInt64(_ bytes: UnsafeRawBufferPointer) -> Int64? {
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
        storage.withUnsafeBytes { bytes in
            Self.forEachEntry(in: bytes) { nameRange, valueRange in
                result.append((String(decoding: UnsafeRawBufferPointer(rebasing: bytes[nameRange]), as: UTF8.self),
                               valueRange.map { Array(bytes[$0]) }))
            }
        }
        return result
    }
}
