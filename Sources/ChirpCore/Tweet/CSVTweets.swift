/// Splits CSV (RFC 4180) fed in chunks into rows: comma-separated fields, optionally in double
/// quotes; inside quotes, `""` is a quote and commas and newlines are data. Rows end with LF or
/// CRLF. Memory is bounded by the longest row.
public struct CSVRowSplitter: Sendable {
    public struct Row: Sendable, Equatable {
        public var fields: [String]
        /// 1-based line the row starts on.
        public var line: Int
    }

    private var field: [UInt8] = []
    private var fields: [String] = []
    private var inQuotes = false
    private var quoteSeen = false  // a quote inside a quoted field: end of quotes, or the first of ""
    private var line = 1
    private var rowLine = 1
    private var rowStarted = false

    public init() {}

    public mutating func feed(_ chunk: some Sequence<UInt8>) -> [Row] {
        var rows: [Row] = []
        for byte in chunk { process(byte, into: &rows) }
        return rows
    }

    public mutating func finish() -> [Row] {
        var rows: [Row] = []
        if rowStarted || !field.isEmpty || !fields.isEmpty { endRow(into: &rows) }
        return rows
    }

    private mutating func process(_ byte: UInt8, into rows: inout [Row]) {
        if !rowStarted {
            rowStarted = true
            rowLine = line
        }
        if byte == 0x0A { line += 1 }
        if inQuotes {
            if quoteSeen {
                quoteSeen = false
                if byte == UInt8(ascii: "\"") {
                    field.append(byte)
                    return
                }
                inQuotes = false  // closing quote; fall through to handle this byte unquoted
            } else if byte == UInt8(ascii: "\"") {
                quoteSeen = true
                return
            } else {
                field.append(byte)
                return
            }
        }
        switch byte {
        case UInt8(ascii: "\""):
            if field.isEmpty { inQuotes = true } else { field.append(byte) }
        case UInt8(ascii: ","):
            endField()
        case 0x0A:
            if field.last == 0x0D { field.removeLast() }
            endRow(into: &rows)
        default:
            field.append(byte)
        }
    }

    private mutating func endField() {
        fields.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: true)
    }

    private mutating func endRow(into rows: inout [Row]) {
        if inQuotes && quoteSeen { inQuotes = false; quoteSeen = false }
        endField()
        // A blank line is no row.
        if !(fields.count == 1 && fields[0].isEmpty) {
            rows.append(Row(fields: fields, line: rowLine))
        }
        fields.removeAll(keepingCapacity: true)
        rowStarted = false
    }
}

/// Which CSV columns hold a tweet's fields (the header row names them).
public struct CSVMapping: Sendable, Equatable {
    public var idColumn: String
    public var textColumn: String
    public var timeColumn: String?
    public var langColumn: String?
    public var authorColumn: String?

    public init(idColumn: String = "id", textColumn: String = "text", timeColumn: String? = "created_at",
                langColumn: String? = "lang", authorColumn: String? = "author") {
        self.idColumn = idColumn
        self.textColumn = textColumn
        self.timeColumn = timeColumn
        self.langColumn = langColumn
        self.authorColumn = authorColumn
    }
}

/// Turns CSV rows into minimal tweets (`{"id","text","created_at","lang","author","format":"csv"}`),
/// the first row being the header. Id and text columns must exist; time, language and author
/// columns are used when present.
public struct CSVTweetReader: Sendable {
    public let mapping: CSVMapping
    private var columns: [String: Int]?

    public init(mapping: CSVMapping) {
        self.mapping = mapping
    }

    /// The header problem, if the header row lacks a required column.
    public struct HeaderError: Error, Sendable, CustomStringConvertible, Equatable {
        public var message: String
        public var description: String { message }
    }

    /// nil for the header row; a tweet or a problem for every other row.
    public mutating func read(_ row: CSVRowSplitter.Row) throws(HeaderError) -> Result<OutgoingTweet, TweetFileProblem>? {
        guard let columns else {
            var index: [String: Int] = [:]
            for (i, name) in row.fields.enumerated() where index[name.trimmingSpaces] == nil { index[name.trimmingSpaces] = i }
            for required in [mapping.idColumn, mapping.textColumn] where index[required] == nil {
                throw HeaderError(message: "the CSV header has no column '\(required)' (columns: \(row.fields.joined(separator: ", ")))")
            }
            self.columns = index
            return nil
        }
        func value(_ column: String?) -> String? {
            guard let column, let i = columns[column], i < row.fields.count else { return nil }
            let text = row.fields[i]
            return text.isEmpty ? nil : text
        }
        var object = JSONObject()
        object["id"] = value(mapping.idColumn).map(JSONValue.string)
        object["text"] = value(mapping.textColumn).map(JSONValue.string)
        object["created_at"] = value(mapping.timeColumn).map(JSONValue.string)
        object["lang"] = value(mapping.langColumn).map(JSONValue.string)
        object["author"] = value(mapping.authorColumn).map(JSONValue.string)
        object["format"] = .string(SourceFormat.csv.rawValue)
        let payload = JSONValue.object(object)
        do throws(TweetRejection) {
            let tweet = try TweetDecoder.decode(payload)[0]
            return .success(OutgoingTweet(id: tweet.id, createdAt: tweet.createdAt, payload: payload))
        } catch {
            return .failure(TweetFileProblem(line: row.line, rejection: error))
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first == " " || scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        while scalars.last == " " { scalars.removeLast() }
        return String(scalars)
    }
}
