/// Read access to a JSON value, for decoders that work on both representations: the `JSONValue`
/// tree (documents the sender builds or rewrites) and `JSONTapeNode` (payloads read straight off
/// the wire, where only the fields a decoder asks for become Swift values).
public protocol JSONReadable: Sendable {
    associatedtype Elements: Sequence where Elements.Element == Self

    /// The value of `key` when this is an object that has it.
    subscript(key: StaticString) -> Self? { get }
    var isObject: Bool { get }
    /// An object's keys in document order; empty for other values.
    var keys: [String] { get }
    /// An array's elements; nil for other values.
    var elements: Elements? { get }
    var stringValue: String? { get }
    /// A number's source text.
    var numberText: String? { get }
    var isNull: Bool { get }
    /// A short name of the value's type for error messages ("expected string, got number").
    var typeName: String { get }
}

extension JSONReadable {
    /// A string, or a number's digits: ids arrive either way (`"id": 1` and `"id": "1"`).
    public var idValue: String? { stringValue ?? numberText }
}

extension JSONValue: JSONReadable {
    public subscript(key: StaticString) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        let wanted = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        for member in object.members where member.key.utf8.elementsEqual(wanted) { return member.value }
        return nil
    }

    public var isObject: Bool { objectValue != nil }
    public var keys: [String] { objectValue?.keys ?? [] }
    public var elements: [JSONValue]? { arrayValue }
    public var numberText: String? {
        if case .number(let digits) = self { return digits }
        return nil
    }
}

extension JSONTapeNode: JSONReadable {
    var isObject: Bool { kind == .object }

    var stringValue: String? {
        kind == .string || kind == .escapedString ? tape.text(index) : nil
    }

    var numberText: String? { kind == .number ? tape.text(index) : nil }

    var isNull: Bool { kind == .null }

    var typeName: String {
        switch kind {
        case .null: return "null"
        case .true, .false: return "boolean"
        case .number: return "number"
        case .string, .escapedString: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}
