/// A validated JSON document as a flat list of entries over its bytes (a "tape").
///
/// Scanning checks everything `JSONParser` promises — RFC 8259 grammar, strict UTF-8 (escapes
/// included: no lone surrogates), bounded nesting — but allocates nothing per value: an entry
/// records a value's kind, its byte range and where the next sibling starts. Strings and numbers
/// become Swift values only when a reader asks for them, so a decoder that needs 6 fields of a
/// 5 KB tweet pays for 6 strings, not 200.
///
/// Layout: a container's entry is followed by its contents; an object's contents alternate key
/// entries and value subtrees. `next` of every entry is the index just past its subtree.
/// `@unchecked`: the tape is written only while parsing, before anyone else can see it, and
/// read-only afterwards; it owns raw memory, which the compiler cannot see through.
final class JSONTape: @unchecked Sendable {
    enum Kind: UInt8, Sendable {
        case object, array, string, escapedString, number, `true`, `false`, null
    }

    struct Entry: Sendable {
        var kind: Kind
        /// For strings, the first byte after the opening quote; for others, the first byte.
        var start: UInt32
        /// For strings, the closing quote; for numbers and literals, one past the last byte.
        var end: UInt32
        var next: UInt32
    }

    /// Owned copies of the document and its entries (read-only after `parse`).
    let bytes: UnsafeMutableBufferPointer<UInt8>
    let entries: UnsafeMutableBufferPointer<Entry>

    private init(bytes: [UInt8], entries: UnsafeMutableBufferPointer<Entry>) {
        self.bytes = .allocate(capacity: bytes.count)
        _ = self.bytes.initialize(from: bytes)
        self.entries = entries
    }

    deinit {
        bytes.deallocate()
        entries.deallocate()
    }

    /// Scans exactly one document; trailing non-whitespace is an error.
    static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONTape {
        let entries = try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in
            var scanner = JSONScanner(buffer)
            do throws(JSONParseError) {
                try scanner.scanDocument()
            } catch {
                scanner.discard()
                throw error
            }
            return scanner.finish()
        }
        return JSONTape(bytes: bytes, entries: entries)
    }

    /// Reads the document through its root; nodes must not outlive `body` (they do not retain
    /// the tape, which keeps the decoder free of reference counting).
    func withRoot<R, E: Error>(_ body: (JSONTapeNode) throws(E) -> R) throws(E) -> R {
        defer { withExtendedLifetime(self) {} }
        return try body(JSONTapeNode(tape: view, index: 0))
    }

    var view: TapeView { TapeView(entries: UnsafePointer(entries.baseAddress!), bytes: UnsafePointer(bytes.baseAddress!)) }
}

/// Read access to a tape's memory, without reference counting; valid while the tape lives.
struct TapeView: @unchecked Sendable {
    let entries: UnsafePointer<JSONTape.Entry>
    let bytes: UnsafePointer<UInt8>

    typealias Kind = JSONTape.Kind


    @inline(__always)
    func kind(_ index: Int) -> Kind { entries[index].kind }

    @inline(__always)
    func next(_ index: Int) -> Int { Int(entries[index].next) }

    /// The decoded text of a string entry (or a number's digits).
    func text(_ index: Int) -> String {
        let entry = entries[index]
        let slice = UnsafeBufferPointer(start: bytes + Int(entry.start), count: Int(entry.end - entry.start))
        guard entry.kind == .escapedString else { return String(decoding: slice, as: UTF8.self) }
        return String(decoding: JSONScanner.unescape(slice), as: UTF8.self)
    }

    /// True when string entry `index` spells `key` (escapes resolved).
    @inline(__always)
    func textEquals(_ index: Int, _ key: StaticString) -> Bool {
        let entry = entries[index]
        let count = key.utf8CodeUnitCount
        if entry.kind == .escapedString { return text(index).utf8.elementsEqual(UnsafeBufferPointer(start: key.utf8Start, count: count)) }
        guard Int(entry.end - entry.start) == count else { return false }
        let base = bytes + Int(entry.start)
        let keyBytes = key.utf8Start
        for i in 0..<count where base[i] != keyBytes[i] { return false }
        return true
    }
}

/// One value inside a `JSONTape`, valid inside the tape's `withRoot`.
struct JSONTapeNode: Sendable {
    let tape: TapeView
    let index: Int

    var kind: JSONTape.Kind { tape.kind(index) }

    /// The value of `key` when this is an object that has it (the first occurrence).
    subscript(key: StaticString) -> JSONTapeNode? {
        guard kind == .object else { return nil }
        let end = tape.next(index)
        var i = index + 1
        while i < end {
            if tape.textEquals(i, key) { return JSONTapeNode(tape: tape, index: i + 1) }
            i = tape.next(i + 1)
        }
        return nil
    }

    /// Member keys in document order (for messages).
    var keys: [String] {
        guard kind == .object else { return [] }
        var keys: [String] = []
        let end = Int(tape.entries[index].next)
        var i = index + 1
        while i < end {
            keys.append(tape.text(i))
            i = Int(tape.entries[i + 1].next)
        }
        return keys
    }

    /// Elements when this is an array.
    var elements: Elements? { kind == .array ? Elements(node: self) : nil }

    struct Elements: Sequence, Sendable {
        let node: JSONTapeNode

        var isEmpty: Bool { node.index + 1 == Int(node.tape.entries[node.index].next) }

        func makeIterator() -> Iterator {
            Iterator(tape: node.tape, position: node.index + 1, end: Int(node.tape.entries[node.index].next))
        }

        struct Iterator: IteratorProtocol {
            let tape: TapeView
            var position: Int
            let end: Int

            mutating func next() -> JSONTapeNode? {
                guard position < end else { return nil }
                defer { position = Int(tape.entries[position].next) }
                return JSONTapeNode(tape: tape, index: position)
            }
        }
    }

    /// Builds the equivalent `JSONValue` tree.
    var value: JSONValue {
        switch kind {
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .number: return .number(tape.text(index))
        case .string, .escapedString: return .string(tape.text(index))
        case .array:
            var values: [JSONValue] = []
            for element in Elements(node: self) { values.append(element.value) }
            return .array(values)
        case .object:
            var members: [(key: String, value: JSONValue)] = []
            let end = Int(tape.entries[index].next)
            var i = index + 1
            while i < end {
                members.append((tape.text(i), JSONTapeNode(tape: tape, index: i + 1).value))
                i = Int(tape.entries[i + 1].next)
            }
            return .object(JSONObject(members))
        }
    }
}

/// The one JSON grammar of the project: validates and records entries; `JSONParser` and the
/// tweet decoder both read what it produces.
struct JSONScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    /// Entries written so far, in memory the tape takes over (`finish`) or freed (`discard`).
    private var entries: UnsafeMutablePointer<JSONTape.Entry>
    private var capacity: Int
    private var count = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        // Roughly one entry per 12 bytes of typical tweet JSON; grows if needed.
        capacity = min(16 + bytes.count / 12, 1 << 16)
        entries = .allocate(capacity: capacity)
    }

    func finish() -> UnsafeMutableBufferPointer<JSONTape.Entry> {
        UnsafeMutableBufferPointer(start: entries, count: count)
    }

    func discard() {
        entries.deallocate()
    }

    @inline(__always)
    private mutating func append(_ entry: JSONTape.Entry) {
        if count == capacity {
            let larger = UnsafeMutablePointer<JSONTape.Entry>.allocate(capacity: capacity * 2)
            larger.moveInitialize(from: entries, count: count)
            entries.deallocate()
            entries = larger
            capacity *= 2
        }
        (entries + count).initialize(to: entry)
        count += 1
    }

    mutating func scanDocument() throws(JSONParseError) {
        guard bytes.count < Int(UInt32.max) else { throw error(.invalidJSON, "document larger than 4 GiB") }
        skipWhitespace()
        try scanValue(depth: 0)
        skipWhitespace()
        if index != bytes.count {
            throw error(.invalidJSON, "unexpected data after the JSON value")
        }
    }

    private func error(_ kind: JSONParseError.Kind, _ message: String) -> JSONParseError {
        JSONParseError(kind: kind, message: message, offset: index)
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    @inline(__always)
    private mutating func leaf(_ kind: JSONTape.Kind, _ start: Int, _ end: Int) {
        append(JSONTape.Entry(kind: kind, start: UInt32(start), end: UInt32(end), next: UInt32(count + 1)))
    }

    private mutating func scanValue(depth: Int) throws(JSONParseError) {
        guard index < bytes.count else { throw error(.invalidJSON, "unexpected end of input") }
        let start = index
        switch bytes[index] {
        case UInt8(ascii: "{"): try scanObject(depth: depth + 1)
        case UInt8(ascii: "["): try scanArray(depth: depth + 1)
        case UInt8(ascii: "\""): try scanString()
        case UInt8(ascii: "t"): try expectLiteral("true"); leaf(.true, start, index)
        case UInt8(ascii: "f"): try expectLiteral("false"); leaf(.false, start, index)
        case UInt8(ascii: "n"): try expectLiteral("null"); leaf(.null, start, index)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber(); leaf(.number, start, index)
        default:
            throw error(.invalidJSON, "unexpected character '\(Self.printable(bytes[index]))'")
        }
    }

    static func printable(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error(.invalidJSON, "unexpected end of input") }
        let base = literal.utf8Start
        for i in 0..<count where bytes[index + i] != base[i] {
            throw error(.invalidJSON, "invalid literal, expected '\(literal)'")
        }
        index += count
    }

    /// Opens a container entry; `close` fills in its end and the index past its contents.
    private mutating func open(_ kind: JSONTape.Kind) -> Int {
        append(JSONTape.Entry(kind: kind, start: UInt32(index), end: 0, next: 0))
        index += 1
        return count - 1
    }

    private mutating func close(_ container: Int) {
        index += 1
        entries[container].end = UInt32(index)
        entries[container].next = UInt32(count)
    }

    private mutating func scanObject(depth: Int) throws(JSONParseError) {
        guard depth <= JSONParser.maximumDepth else { throw error(.tooDeep, "nesting deeper than \(JSONParser.maximumDepth)") }
        let container = open(.object)
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            return close(container)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error(.invalidJSON, "expected a string key")
            }
            try scanString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw error(.invalidJSON, "expected ':' after key")
            }
            index += 1
            skipWhitespace()
            try scanValue(depth: depth)
            skipWhitespace()
            guard index < bytes.count else { throw error(.invalidJSON, "unexpected end of input in object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { return close(container) }
            throw error(.invalidJSON, "expected ',' or '}' in object")
        }
    }

    private mutating func scanArray(depth: Int) throws(JSONParseError) {
        guard depth <= JSONParser.maximumDepth else { throw error(.tooDeep, "nesting deeper than \(JSONParser.maximumDepth)") }
        let container = open(.array)
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            return close(container)
        }
        while true {
            skipWhitespace()
            try scanValue(depth: depth)
            skipWhitespace()
            guard index < bytes.count else { throw error(.invalidJSON, "unexpected end of input in array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { return close(container) }
            throw error(.invalidJSON, "expected ',' or ']' in array")
        }
    }

    private mutating func scanNumber() throws(JSONParseError) {
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error(.invalidJSON, "invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error(.invalidJSON, "invalid number fraction") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error(.invalidJSON, "invalid number exponent") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
    }

    @inline(__always)
    private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// Scans a string, validating its UTF-8 and escapes, and records it (as a key or a value).
    private mutating func scanString() throws(JSONParseError) {
        index += 1  // opening quote
        let start = index
        var escaped = false
        while index < bytes.count {
            skipPlainASCII()
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\"") {
                leaf(escaped ? .escapedString : .string, start, index)
                index += 1
                return
            }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                try checkEscape()
                continue
            }
            if byte < 0x20 { throw error(.invalidJSON, "control character in string") }
            guard let length = UTF8Validation.sequenceLength(bytes, at: index) else {
                index = start
                throw error(.invalidUTF8, "string is not valid UTF-8")
            }
            index += length
        }
        throw error(.invalidJSON, "unterminated string")
    }

    /// Moves `index` to the first byte that is not plain string ASCII (a quote, a backslash, a
    /// control character or a non-ASCII byte).
    @inline(__always)
    private mutating func skipPlainASCII() {
        index = JSONBytes.firstSpecial(bytes.baseAddress!, from: index, count: bytes.count, stopAtNonASCII: true)
    }

    /// Checks the escape at `index` (a backslash) and moves past it.
    private mutating func checkEscape() throws(JSONParseError) {
        index += 1
        guard index < bytes.count else { throw error(.invalidJSON, "unterminated string") }
        let escaped = bytes[index]
        index += 1
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return
        case UInt8(ascii: "u"):
            let scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw error(.invalidUTF8, "unpaired surrogate \\u\(String(scalar, radix: 16))")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error(.invalidUTF8, "invalid low surrogate \\u\(String(low, radix: 16))")
                }
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw error(.invalidUTF8, "unpaired surrogate \\u\(String(scalar, radix: 16))")
            }
        default:
            throw error(.invalidJSON, "invalid escape '\\\(Self.printable(escaped))'")
        }
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error(.invalidJSON, "truncated \\u escape") }
        guard let value = Self.hexValue(bytes, index) else {
            throw error(.invalidJSON, "invalid hex digit in \\u escape")
        }
        index += 4
        return value
    }

    static func hexValue(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32? {
        var value: UInt32 = 0
        for i in at..<(at + 4) {
            let byte = bytes[i]
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }

    /// The bytes of a string whose escapes the scanner has already checked, with escapes resolved.
    static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            let byte = raw[i]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                i += 1
                continue
            }
            let escaped = raw[i + 1]
            i += 2
            switch escaped {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hexValue(raw, i) ?? 0xFFFD
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    let low = hexValue(raw, i + 2) ?? 0xDC00
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}")!)
            default: out.append(escaped)  // " \ /
            }
        }
        return out
    }
}

/// Strict UTF-8 (Unicode table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
enum UTF8Validation {
    /// The length of the well-formed sequence starting with the non-ASCII byte at `index`, or nil.
    @inline(__always)
    static func sequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        let lead = bytes[index]
        let remaining = bytes.count - index
        @inline(__always) func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            offset < remaining && bytes[index + offset] >= low && bytes[index + offset] <= high
        }
        switch lead {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : nil
        case 0xE0:
            return continuation(1, 0xA0) && continuation(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE, 0xEF:
            return continuation(1) && continuation(2) ? 3 : nil
        case 0xED:
            return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : nil
        case 0xF0:
            return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : nil
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : nil
        case 0xF4:
            return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : nil
        default:
            return nil
        }
    }
}
