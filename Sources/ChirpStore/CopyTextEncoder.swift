/// Builds the text format of `COPY … FROM STDIN`: tab-separated columns, newline-terminated rows,
/// `\N` for NULL, backslash escapes for backslash, tab, newline and carriage return. Arrays are
/// written as PostgreSQL array literals (`{"a","b"}`) and then escaped like any other text.
public struct CopyTextEncoder: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var columnInRow = 0
    public private(set) var rowCount = 0

    public init(capacity: Int = 1 << 16) {
        bytes.reserveCapacity(capacity)
    }

    private mutating func separator() {
        if columnInRow > 0 { bytes.append(0x09) }
        columnInRow += 1
    }

    public mutating func null() {
        separator()
        bytes.append(0x5C)
        bytes.append(UInt8(ascii: "N"))
    }

    public mutating func text(_ value: String?) {
        guard var text = value else { return null() }
        separator()
        text.withUTF8 { appendEscaped($0) }
    }

    /// A text column from UTF-8 bytes.
    public mutating func utf8(_ value: [UInt8]?) {
        guard let value else { return null() }
        separator()
        value.withUnsafeBufferPointer { appendEscaped($0) }
    }

    public mutating func int(_ value: (some BinaryInteger)?) {
        guard let value else { return null() }
        separator()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func bool(_ value: Bool) {
        separator()
        bytes.append(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    /// A `text[]` column.
    public mutating func textArray(_ values: [String]) {
        separator()
        var literal: [UInt8] = [UInt8(ascii: "{")]
        for (i, value) in values.enumerated() {
            if i > 0 { literal.append(UInt8(ascii: ",")) }
            literal.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { literal.append(UInt8(ascii: "\\")) }
                literal.append(byte)
            }
            literal.append(UInt8(ascii: "\""))
        }
        literal.append(UInt8(ascii: "}"))
        literal.withUnsafeBufferPointer { appendEscaped($0) }
    }

    public mutating func endRow() {
        bytes.append(0x0A)
        columnInRow = 0
        rowCount += 1
    }

    private mutating func appendEscaped(_ source: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for i in 0..<source.count {
            let byte = source[i]
            guard byte == 0x5C || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x00 else { continue }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<i]))
            runStart = i + 1
            switch byte {
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            default: break  // NUL: PostgreSQL text cannot hold it; JSON \u0000 is dropped
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<source.count]))
    }
}
