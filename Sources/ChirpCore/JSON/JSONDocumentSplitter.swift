/// Finds complete JSON documents in a byte stream fed in chunks, without parsing them: JSON lines,
/// concatenated documents, or — when the stream starts with `[` — the elements of one top-level
/// array. Memory is bounded by the largest single document, not the stream.
///
/// It tracks only nesting depth and string/escape state, so it never rejects anything: a broken
/// document is still cut out (up to the next newline at depth 0, for JSON lines) and the parser
/// then reports what is wrong with it.
public struct JSONDocumentSplitter: Sendable {
    /// A document's bytes and the 1-based line it starts on.
    public struct Document: Sendable {
        public var bytes: [UInt8]
        public var line: Int
    }

    private enum Mode { case undecided, documents, array, arrayDone }

    private var mode = Mode.undecided
    private var current: [UInt8] = []
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var line = 1
    private var startLine = 1
    private var sawBOMCheck = false
    /// Decided by the first document: if it fits on one line, the stream is JSON lines, and a
    /// newline always ends a document (a broken line cannot swallow the lines after it).
    private var linesMode: Bool?

    public init() {}

    /// Feeds the next chunk; returns the documents it completed.
    public mutating func feed(_ chunk: some Sequence<UInt8>) -> [Document] {
        feed(Array(chunk))
    }

    public mutating func feed(_ chunk: [UInt8]) -> [Document] {
        chunk.withUnsafeBufferPointer { feed(buffer: $0) }
    }

    private mutating func feed(buffer: UnsafeBufferPointer<UInt8>) -> [Document] {
        var out: [Document] = []
        var i = 0
        while i < buffer.count {
            let byte = buffer[i]
            if !sawBOMCheck {
                i += 1
                // Skip a UTF-8 byte-order mark (EF BB BF) at the very start.
                if byte == 0xEF || (current.first == 0xEF && current.count < 3) {
                    current.append(byte)
                    if current.count == 3 {
                        if current == [0xEF, 0xBB, 0xBF] { current = [] }
                        sawBOMCheck = true
                    }
                    continue
                }
                sawBOMCheck = true
                process(byte, into: &out)
                continue
            }
            if inString && !escaped && (mode == .documents || mode == .array) {
                // Inside a string only a quote, a backslash or a newline (JSON lines) matters:
                // copy the run before the next one at once.
                let special = JSONBytes.firstSpecial(buffer.baseAddress!, from: i, count: buffer.count, stopAtNonASCII: false)
                if special > i {
                    current.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[i..<special]))
                    i = special
                    continue
                }
            }
            process(byte, into: &out)
            i += 1
        }
        return out
    }

    /// Ends the stream; returns a trailing incomplete document, if any (the parser will report it).
    public mutating func finish() -> [Document] {
        defer { current = [] }
        let trimmed = current.drop { Self.isWhitespace($0) }
        guard !trimmed.isEmpty else { return [] }
        return [Document(bytes: current, line: startLine)]
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private mutating func process(_ byte: UInt8, into out: inout [Document]) {
        defer { if byte == 0x0A { line += 1 } }
        switch mode {
        case .undecided:
            if Self.isWhitespace(byte) { return }
            if byte == UInt8(ascii: "[") {
                mode = .array
                return
            }
            mode = .documents
            process(byte, into: &out)
        case .arrayDone:
            return
        case .documents, .array:
            if current.isEmpty || current.allSatisfy(Self.isWhitespace) {
                if Self.isWhitespace(byte) { return }
                if mode == .array && (byte == UInt8(ascii: ",")) { return }
                if mode == .array && byte == UInt8(ascii: "]") && depth == 0 {
                    mode = .arrayDone
                    return
                }
                current = []
                startLine = line
            }
            if byte == 0x0A && mode == .documents && linesMode == true {
                emit(into: &out)
                return
            }
            if inString {
                current.append(byte)
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                return
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                current.append(byte)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                current.append(byte)
                if depth == 1 && current.count == 1 { return }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 && mode == .array && byte == UInt8(ascii: "]") {
                    // End of the top-level array right after a scalar element.
                    emit(into: &out)
                    mode = .arrayDone
                    return
                }
                depth = max(0, depth - 1)
                current.append(byte)
                if depth == 0 { emit(into: &out) }
            case UInt8(ascii: ","):
                if depth == 0 && mode == .array { emit(into: &out) } else { current.append(byte) }
            case 0x0A:
                // A newline at depth 0 ends a scalar or broken JSON-lines document.
                if depth == 0 && mode == .documents { emit(into: &out) } else { current.append(byte) }
            default:
                current.append(byte)
            }
        }
    }

    private mutating func emit(into out: inout [Document]) {
        if mode == .documents && linesMode == nil { linesMode = !current.contains(0x0A) }
        let size = current.count
        if !current.allSatisfy(Self.isWhitespace) {
            out.append(Document(bytes: current, line: startLine))
        }
        current = []
        current.reserveCapacity(min(size + size / 2, 1 << 16))  // the next document is likely alike
        depth = 0
        inString = false
        escaped = false
    }
}
