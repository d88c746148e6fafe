/// Reads a tweets file in chunks, in either input format, into per-tweet payloads: the one path
/// the sender and `chirp-categorizer classify` share.
public struct TweetInputReader: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        /// JSON array, JSON lines or concatenated documents, any tweet shape.
        case json
        /// CSV with a header row, mapped by `CSVMapping`.
        case csv
    }

    public typealias Item = Result<[OutgoingTweet], TweetFileProblem>

    private let format: Format
    private let maximumBytes: Int?
    private var json = JSONDocumentSplitter()
    private var rows = CSVRowSplitter()
    private var csv: CSVTweetReader

    public init(format: Format, csvMapping: CSVMapping = CSVMapping(), maximumBytes: Int? = nil) {
        self.format = format
        self.maximumBytes = maximumBytes
        self.csv = CSVTweetReader(mapping: csvMapping)
    }

    /// `auto` picks CSV for a `.csv` file name, JSON otherwise.
    public static func format(named name: String, path: String) -> Format? {
        if name == "auto" { return path.lowercased().hasSuffix(".csv") ? .csv : .json }
        return Format(rawValue: name)
    }

    public mutating func feed(_ chunk: some Sequence<UInt8>) throws(CSVTweetReader.HeaderError) -> [Item] {
        try feed(Array(chunk))
    }

    public mutating func feed(_ chunk: [UInt8]) throws(CSVTweetReader.HeaderError) -> [Item] {
        switch format {
        case .json: return json.feed(chunk).map(decode)
        case .csv: return try csvItems(rows.feed(chunk))
        }
    }

    public mutating func finish() throws(CSVTweetReader.HeaderError) -> [Item] {
        switch format {
        case .json: return json.finish().map(decode)
        case .csv: return try csvItems(rows.finish())
        }
    }

    private func decode(_ document: JSONDocumentSplitter.Document) -> Item {
        if let maximumBytes, document.bytes.count > maximumBytes {
            return .failure(TweetFileProblem(line: document.line, rejection: TweetRejection(
                .tooLarge, "document is \(document.bytes.count) bytes, the limit is \(maximumBytes)")))
        }
        return TweetFile.decode(document)
    }

    private mutating func csvItems(_ rows: [CSVRowSplitter.Row]) throws(CSVTweetReader.HeaderError) -> [Item] {
        var items: [Item] = []
        for row in rows {
            switch try csv.read(row) {
            case .success(let tweet)?: items.append(.success([tweet]))
            case .failure(let problem)?: items.append(.failure(problem))
            case nil: break
            }
        }
        return items
    }
}
