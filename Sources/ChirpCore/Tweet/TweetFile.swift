/// One tweet ready to publish: its id (the MQTT/Kafka key), event time (for pacing) and a
/// self-contained JSON payload in the tweet's own format.
public struct OutgoingTweet: Sendable, Equatable {
    public var id: String
    public var createdAt: Timestamp?
    /// The payload as a JSON tree (parsed from `originalBytes` on first use when the tweet was read
    /// straight from a document: publishing as is never needs the tree).
    public var payload: JSONValue {
        get { tree ?? originalBytes.flatMap { try? JSONParser.parse($0) } ?? .null }
        set { tree = newValue; originalBytes = nil }
    }
    private var tree: JSONValue?
    /// The document's own bytes when the payload is the whole document (not cut from a page or
    /// record): published as read, without re-serializing.
    public var originalBytes: [UInt8]?

    public init(id: String, createdAt: Timestamp?, payload: JSONValue, originalBytes: [UInt8]? = nil) {
        self.id = id
        self.createdAt = createdAt
        self.tree = payload
        self.originalBytes = originalBytes
    }

    /// A tweet whose payload is a whole, valid document.
    init(id: String, createdAt: Timestamp?, document: [UInt8]) {
        self.id = id
        self.createdAt = createdAt
        self.originalBytes = document
    }

    public var payloadBytes: [UInt8] { originalBytes ?? payload.serialized }

    public static func == (lhs: OutgoingTweet, rhs: OutgoingTweet) -> Bool {
        lhs.id == rhs.id && lhs.createdAt == rhs.createdAt && lhs.payload == rhs.payload
    }
}

/// A problem with one document of a tweets file; the rest of the file is still read.
public struct TweetFileProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line where the bad document starts.
    public var line: Int
    public var rejection: TweetRejection
    public var description: String { "line \(line): \(rejection)" }
}

/// Reads a tweets file: a JSON array, JSON lines, or concatenated JSON documents (a pretty-printed
/// v2 page), each element a tweet in any format `TweetDecoder` accepts. A v2 page is split into one
/// `{data, includes}` response per tweet that keeps only the includes that tweet needs; a record is
/// split into one minimal tweet per text. Every other tweet is passed through unchanged.
public enum TweetFile {
    /// Reads a whole file held in memory. The sender streams instead (`JSONDocumentSplitter`
    /// + `decode(_:)`); this is the same logic for tests and small files.
    public static func read(_ bytes: [UInt8]) -> (tweets: [OutgoingTweet], problems: [TweetFileProblem]) {
        var splitter = JSONDocumentSplitter()
        var tweets: [OutgoingTweet] = []
        var problems: [TweetFileProblem] = []
        for document in splitter.feed(bytes) + splitter.finish() {
            switch decode(document) {
            case .success(let found): tweets.append(contentsOf: found)
            case .failure(let problem): problems.append(problem)
            }
        }
        return (tweets, problems)
    }

    /// Parses one document cut out by `JSONDocumentSplitter` and splits it into tweets.
    public static func decode(_ document: JSONDocumentSplitter.Document) -> Result<[OutgoingTweet], TweetFileProblem> {
        do throws(TweetRejection) {
            let tape: JSONTape
            do { tape = try JSONTape.parse(document.bytes) } catch { throw TweetRejection(error) }
            // Most documents are one tweet, published as read: decode them from the tape, no tree.
            let whole = try tape.withRoot { root throws(TweetRejection) -> OutgoingTweet? in
                guard root.isObject else { return nil }
                switch TweetShape.detect(root) {
                case .record: return nil
                case .v2Response where root["data"]?.isObject != true: return nil
                default:
                    let tweet = try TweetDecoder.decode(node: root)[0]
                    return OutgoingTweet(id: tweet.id, createdAt: tweet.createdAt, document: document.bytes)
                }
            }
            if let whole { return .success([whole]) }
            let value = tape.withRoot { $0.value }
            guard case .array(let elements) = value else { return .success(try split(value)) }
            var tweets: [OutgoingTweet] = []
            for element in elements { tweets += try split(element) }
            return .success(tweets)
        } catch {
            return .failure(TweetFileProblem(line: document.line, rejection: error))
        }
    }

    /// Splits one document into per-tweet payloads; validates each through `TweetDecoder`.
    public static func split(_ value: JSONValue) throws(TweetRejection) -> [OutgoingTweet] {
        let decoded = try TweetDecoder.decode(value)
        guard case .object(let object) = value else { return [] }
        switch TweetShape.detect(value) {
        case .v2Response:
            guard case .array(let page)? = object["data"] else {
                return [OutgoingTweet(id: decoded[0].id, createdAt: decoded[0].createdAt, payload: value)]
            }
            let includes = object["includes"]?.objectValue
            return zip(page, decoded).map { element, tweet in
                OutgoingTweet(id: tweet.id, createdAt: tweet.createdAt,
                              payload: singleResponse(element, includes: includes))
            }
        case .record:
            return decoded.map { tweet in
                var minimal = JSONObject([("id", .string(tweet.id)), ("text", .string(tweet.text))])
                if let createdAt = tweet.createdAt { minimal["created_at"] = .string(createdAt.iso8601) }
                if let author = tweet.authorId { minimal["author_id"] = .string(author) }
                if let lang = tweet.lang { minimal["lang"] = .string(lang) }
                return OutgoingTweet(id: tweet.id, createdAt: tweet.createdAt, payload: .object(minimal))
            }
        default:
            return [OutgoingTweet(id: decoded[0].id, createdAt: decoded[0].createdAt, payload: value)]
        }
    }

    /// `{data: tweet, includes: {users, tweets}}` holding only what this tweet refers to.
    static func singleResponse(_ tweet: JSONValue, includes: JSONObject?) -> JSONValue {
        var wantedTweets = Set<String>()
        var wantedUsers = Set<String>()
        if let author = tweet["author_id"]?.idValue { wantedUsers.insert(author) }
        for reference in tweet["referenced_tweets"]?.arrayValue ?? [] {
            if let id = reference["id"]?.idValue { wantedTweets.insert(id) }
        }
        let referenced = (includes?["tweets"]?.arrayValue ?? []).filter { element in
            guard let id = element["id"]?.idValue, wantedTweets.contains(id) else { return false }
            if let author = element["author_id"]?.idValue { wantedUsers.insert(author) }
            return true
        }
        let users = (includes?["users"]?.arrayValue ?? []).filter { element in
            element["id"]?.idValue.map(wantedUsers.contains) ?? false
        }
        var newIncludes = JSONObject()
        if !users.isEmpty { newIncludes["users"] = .array(users) }
        if !referenced.isEmpty { newIncludes["tweets"] = .array(referenced) }
        var response = JSONObject([("data", tweet)])
        if !newIncludes.members.isEmpty { response["includes"] = .object(newIncludes) }
        return .object(response)
    }
}
