import ChirpCore

/// Builds the binary format of `COPY … FROM STDIN (FORMAT binary)`: a signature header, then per
/// row a 16-bit field count and per field a 32-bit length (-1 for NULL) and the value in
/// PostgreSQL's binary send format, then a -1 trailer. Nothing is parsed on the server side but
/// lengths: no escaping here, no timestamp or array literal parsing there.
///
/// The column types must match the target table exactly (`integer` ↔ `int32`, `bigint` ↔
/// `int64`, `timestamptz` ↔ `timestamp`, `text[]` ↔ `textArray`). `bytes` is always a complete
/// stream: the trailer is written after every row and replaced by the next one.
public struct CopyBinaryEncoder: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var rowCount = 0
    private var fieldCountAt = -1
    private var fields: Int16 = 0

    static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]
    static let trailer: [UInt8] = [0xFF, 0xFF]
    /// `text`'s type OID, which binary array values name for their elements.
    static let textOID: Int32 = 25
    /// PostgreSQL's epoch, 2000-01-01T00:00:00Z, in milliseconds since 1970.
    static let postgresEpochMilliseconds: Int64 = 946_684_800_000

    public init(capacity: Int = 1 << 16) {
        bytes.reserveCapacity(capacity)
        bytes += Self.signature
        append(Int32(0))  // flags: no OIDs
        append(Int32(0))  // header extension length
        bytes += Self.trailer
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// Overwrites the big-endian `value` written earlier at `offset`.
    private mutating func patch<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeBytes(of: value.bigEndian) { encoded in
            for i in 0..<encoded.count { bytes[offset + i] = encoded[i] }
        }
    }

    /// Counts a field in its row (starting the row at its first field); its length comes next.
    private mutating func beginField() {
        if fieldCountAt < 0 {
            bytes.removeLast(Self.trailer.count)
            fieldCountAt = bytes.count
            append(Int16(0))
        }
        fields += 1
    }

    /// Starts a field of `length` bytes.
    private mutating func field(length: Int32) {
        beginField()
        append(length)
    }

    /// Text as a 32-bit length and its bytes, as fields and array elements both are. PostgreSQL
    /// text cannot hold NUL (JSON's `\u0000`): it is dropped, as the server would refuse the row.
    private mutating func appendText(_ source: UnsafeBufferPointer<UInt8>) {
        if source.contains(0) {
            let kept = source.filter { $0 != 0 }
            append(Int32(kept.count))
            bytes += kept
        } else {
            append(Int32(source.count))
            bytes.append(contentsOf: source)
        }
    }

    public mutating func null() {
        field(length: -1)
    }

    public mutating func text(_ value: String?) {
        guard var text = value else { return null() }
        beginField()
        text.withUTF8 { appendText($0) }
    }

    /// A text column from UTF-8 bytes.
    public mutating func utf8(_ value: [UInt8]?) {
        guard let value else { return null() }
        beginField()
        value.withUnsafeBufferPointer { appendText($0) }
    }

    /// An `integer` column.
    public mutating func int32(_ value: Int32?) {
        guard let value else { return null() }
        field(length: 4)
        append(value)
    }

    /// A `bigint` column.
    public mutating func int64(_ value: Int64?) {
        guard let value else { return null() }
        field(length: 8)
        append(value)
    }

    public mutating func bool(_ value: Bool) {
        field(length: 1)
        bytes.append(value ? 1 : 0)
    }

    /// A `timestamptz` column: microseconds since 2000-01-01T00:00:00Z.
    public mutating func timestamp(_ value: Timestamp?) {
        guard let value else { return null() }
        field(length: 8)
        append((value.millisecondsSinceEpoch - Self.postgresEpochMilliseconds) * 1000)
    }

    /// A `text[]` column: one dimension from 1 (none when empty), no NULL elements. Written in
    /// place: the field's length is filled in at the end.
    public mutating func textArray(_ values: [String]) {
        field(length: 0)
        let lengthAt = bytes.count - 4
        append(Int32(values.isEmpty ? 0 : 1))  // dimensions
        append(Int32(0))  // no NULLs
        append(Self.textOID)
        if !values.isEmpty {
            append(Int32(values.count))
            append(Int32(1))  // lower bound
        }
        for var value in values {
            value.withUTF8 { appendText($0) }
        }
        patch(Int32(bytes.count - lengthAt - 4), at: lengthAt)
    }

    /// A stream of one row taken from `bytes[range]` (a row's field count through its last field).
    public static func single(row: ArraySlice<UInt8>) -> CopyBinaryEncoder {
        var encoder = CopyBinaryEncoder(capacity: signature.count + 8 + row.count + trailer.count)
        encoder.bytes.removeLast(trailer.count)
        encoder.bytes += row
        encoder.bytes += trailer
        encoder.rowCount = 1
        return encoder
    }

    public mutating func endRow() {
        precondition(fieldCountAt >= 0, "a row needs at least one field")
        patch(fields, at: fieldCountAt)
        bytes += Self.trailer
        fieldCountAt = -1
        fields = 0
        rowCount += 1
    }
}
