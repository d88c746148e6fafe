/// Turns JSON in any supported shape into normalized tweets.
///
/// Shapes, detected in this order:
/// - an object with `data` → API v2 response: `data` is one tweet or a page (array) of them;
///   authors resolve through `includes.users`, referenced tweets through `includes.tweets`;
/// - an object with a `tweets` array and an `id` → a record; its i-th text becomes tweet
///   `<id>-<i>` (0-based) written by author `<id>`;
/// - an object with `id_str`, `user`, `full_text`, `extended_tweet` or `retweeted_status` → API v1.1;
/// - an object with `author_id`, `referenced_tweets`, `note_tweet` or `edit_history_tweet_ids` → a bare v2 tweet;
/// - any other object with `id` and `text` → minimal.
///
/// Text rule: the tweet's own untruncated text is used (`note_tweet.text`, `extended_tweet.full_text`,
/// `full_text`, then `text`); for a retweet, the retweeted original's untruncated text. Hashtags are
/// extracted from that text, never taken from `entities`, because a retweet's `entities` describe a
/// cut-off copy of the text (`RT @user: … #NiU…`) and disagree with it.
public enum TweetDecoder {
    /// Parses and decodes one payload. Only the fields a tweet needs become Swift values.
    /// `maximumTweets` bounds the fan-out of a v2 page or a record (each tweet becomes a record of
    /// its own downstream); a larger one is rejected before any tweet is decoded.
    public static func decode(bytes: [UInt8], maximumBytes: Int? = nil, maximumTweets: Int? = nil) throws(TweetRejection) -> [Tweet] {
        if let maximumBytes, bytes.count > maximumBytes {
            throw TweetRejection(.tooLarge, "payload is \(bytes.count) bytes, the limit is \(maximumBytes)")
        }
        let tape: JSONTape
        do {
            tape = try JSONTape.parse(bytes)
        } catch {
            throw TweetRejection(error)
        }
        return try tape.withRoot { root throws(TweetRejection) in try decode(node: root, maximumTweets: maximumTweets) }
    }

    public static func decode(_ value: JSONValue) throws(TweetRejection) -> [Tweet] {
        try decode(node: value)
    }

    static func decode<N: JSONReadable>(node object: N, maximumTweets: Int? = nil) throws(TweetRejection) -> [Tweet] {
        guard object.isObject else {
            throw TweetRejection(.unknownFormat, "expected a JSON object, got \(object.typeName)")
        }
        switch TweetShape.detect(object) {
        case .v2Response: return try decodeV2Response(object, maximumTweets: maximumTweets)
        case .record: return try decodeRecord(object, maximumTweets: maximumTweets)
        case .v1: return [try decodeV1(object)]
        case .v2Tweet: return [try decodeV2Tweet(object, includes: V2Includes<N>(nil))]
        case .minimal: return [try decodeMinimal(object)]
        case .unknown:
            let keys = object.keys.prefix(8).joined(separator: ", ")
            throw TweetRejection(.unknownFormat, "object has no tweet fields (keys: \(keys))")
        }
    }

    // MARK: Field helpers

    static func requiredId<N: JSONReadable>(_ object: N, _ keys: StaticString...) throws(TweetRejection) -> String {
        for key in keys {
            guard let value = object[key], !value.isNull else { continue }
            guard let id = value.idValue else {
                throw TweetRejection(.wrongType, "'\(key)' must be a string or number, got \(value.typeName)")
            }
            guard !id.isEmpty else { throw TweetRejection(.missingId, "'\(key)' is empty") }
            try checkKey(id, key)
            return id
        }
        throw TweetRejection(.missingId, "no '\(keys.map { "\($0)" }.joined(separator: "' or '"))' field")
    }

    /// Ids and languages are keys in the store: a NUL would be dropped on the way in (making one
    /// id equal to another), and an over-long value exceeds what an index entry can hold.
    static func checkKey(_ value: String, _ key: StaticString, maximumBytes: Int = Wire.maximumIdBytes) throws(TweetRejection) {
        guard value.utf8.count <= maximumBytes else {
            throw TweetRejection(.wrongType, "'\(key)' is longer than \(maximumBytes) bytes")
        }
        guard !value.utf8.contains(0) else { throw TweetRejection(.wrongType, "'\(key)' contains a NUL character") }
    }

    static func language<N: JSONReadable>(_ object: N) throws(TweetRejection) -> String? {
        guard let lang = try optionalString(object, "lang") else { return nil }
        try checkKey(lang, "lang", maximumBytes: Wire.maximumLanguageBytes)
        return lang
    }

    static func optionalString<N: JSONReadable>(_ object: N?, _ key: StaticString) throws(TweetRejection) -> String? {
        guard let value = object?[key], !value.isNull else { return nil }
        guard let string = value.stringValue else {
            throw TweetRejection(.wrongType, "'\(key)' must be a string, got \(value.typeName)")
        }
        return string
    }

    static func optionalId<N: JSONReadable>(_ object: N?, _ key: StaticString) throws(TweetRejection) -> String? {
        guard let value = object?[key], !value.isNull else { return nil }
        guard let id = value.idValue else {
            throw TweetRejection(.wrongType, "'\(key)' must be a string or number, got \(value.typeName)")
        }
        return id
    }

    static func optionalObject<N: JSONReadable>(_ object: N?, _ key: StaticString) throws(TweetRejection) -> N? {
        guard let value = object?[key], !value.isNull else { return nil }
        guard value.isObject else {
            throw TweetRejection(.wrongType, "'\(key)' must be an object, got \(value.typeName)")
        }
        return value
    }

    static func timestamp<N: JSONReadable>(_ object: N, _ key: StaticString = "created_at") throws(TweetRejection) -> Timestamp? {
        guard let value = object[key], !value.isNull else { return nil }
        if let text = value.stringValue {
            guard let time = Timestamp(parsing: text) else {
                throw TweetRejection(.wrongType, "'\(key)' is not a recognized time: \"\(text.prefix(40))\"")
            }
            // A zone offset can move 0001-01-01 or 9999-12-31 out of the years the store holds.
            guard time.isStorable else {
                throw TweetRejection(.wrongType, "'\(key)' is outside the years 1 to 9999: \"\(text.prefix(40))\"")
            }
            return time
        }
        if let digits = value.numberText {
            // Epoch seconds or milliseconds (v1.1 `timestamp_ms` is milliseconds).
            // `magnitude`, not `abs`: abs(Int64.min) traps.
            guard let number = Int64(digits), number.magnitude < UInt64(Int64.max / 1000) else {
                throw TweetRejection(.wrongType, "'\(key)' must be an integer epoch time, got \(digits)")
            }
            let time = Timestamp(millisecondsSinceEpoch: number > 100_000_000_000 ? number : number * 1000)
            guard time.isStorable else {
                throw TweetRejection(.wrongType, "'\(key)' is outside the years 1 to 9999: \(digits)")
            }
            return time
        }
        throw TweetRejection(.wrongType, "'\(key)' must be a string, got \(value.typeName)")
    }

    // MARK: v1.1

    static func v1Text<N: JSONReadable>(_ object: N) throws(TweetRejection) -> String? {
        if let extended = try optionalObject(object, "extended_tweet"),
           let full = try optionalString(extended, "full_text") {
            return full
        }
        if let full = try optionalString(object, "full_text") { return full }
        return try optionalString(object, "text")
    }

    static func decodeV1<N: JSONReadable>(_ object: N) throws(TweetRejection) -> Tweet {
        let id = try requiredId(object, "id_str", "id")
        let user = try optionalObject(object, "user")
        var text = try v1Text(object)
        var retweetOf: String?
        if let original = try optionalObject(object, "retweeted_status") {
            retweetOf = try requiredId(original, "id_str", "id")
            text = try v1Text(original) ?? text
        }
        guard let text else { throw TweetRejection(.missingText, "tweet \(id) has no 'text' or 'full_text'") }
        var authorId = try optionalId(user, "id_str")
        if authorId == nil { authorId = try optionalId(user, "id") }
        return Tweet(
            id: id,
            createdAt: try timestamp(object),
            text: text,
            lang: try language(object),
            authorId: authorId,
            authorName: try optionalString(user, "screen_name"),
            retweetOf: retweetOf,
            format: .v1
        )
    }

    // MARK: v2

    /// `includes` of a v2 response, looked up by id (the last of duplicate ids wins).
    struct V2Includes<N: JSONReadable> {
        var users: IdIndex<N>
        var tweets: IdIndex<N>

        init(_ includes: N?) {
            users = IdIndex(includes?["users"]?.elements)
            tweets = IdIndex(includes?["tweets"]?.elements)
        }
    }

    /// Objects of an array by their `id`: a linear scan for the few a single tweet carries, a
    /// dictionary for a page's worth.
    struct IdIndex<N: JSONReadable> {
        private var pairs: [(id: String, node: N)] = []
        private var map: [String: N] = [:]

        init(_ elements: N.Elements?) {
            guard let elements else { return }
            for element in elements where element.isObject {
                if let id = element["id"]?.idValue { pairs.append((id, element)) }
            }
            if pairs.count > 8 {
                for pair in pairs { map[pair.id] = pair.node }
                pairs = []
            }
        }

        subscript(id: String) -> N? {
            if !map.isEmpty { return map[id] }
            return pairs.last { $0.id == id }?.node
        }
    }

    /// Throws when `elements` holds more than `maximum` items (counted without decoding them).
    static func checkFanOut<S: Sequence>(_ elements: S, maximum: Int?, _ what: String) throws(TweetRejection) {
        guard let maximum else { return }
        var count = 0
        for _ in elements {
            count += 1
            if count > maximum {
                throw TweetRejection(.tooManyTweets, "\(what) holds more than \(maximum) tweets (the limit per payload)")
            }
        }
    }

    static func decodeV2Response<N: JSONReadable>(_ object: N, maximumTweets: Int? = nil) throws(TweetRejection) -> [Tweet] {
        let includes = V2Includes<N>(try optionalObject(object, "includes"))
        guard let data = object["data"] else { throw TweetRejection(.unknownFormat, "no 'data'") }
        if data.isObject { return [try decodeV2Tweet(data, includes: includes)] }
        guard let tweets = data.elements else {
            throw TweetRejection(.wrongType, "'data' must be an object or array, got \(data.typeName)")
        }
        try checkFanOut(tweets, maximum: maximumTweets, "the v2 page")
        var result: [Tweet] = []
        for (index, element) in tweets.enumerated() {
            guard element.isObject else {
                throw TweetRejection(.wrongType, "data[\(index)] must be an object, got \(element.typeName)")
            }
            result.append(try decodeV2Tweet(element, includes: includes))
        }
        guard !result.isEmpty else { throw TweetRejection(.empty, "v2 response with an empty 'data' array") }
        return result
    }

    static func v2Text<N: JSONReadable>(_ tweet: N) throws(TweetRejection) -> String? {
        if let note = try optionalObject(tweet, "note_tweet"), let text = try optionalString(note, "text") {
            return text
        }
        return try optionalString(tweet, "text")
    }

    static func decodeV2Tweet<N: JSONReadable>(_ tweet: N, includes: V2Includes<N>) throws(TweetRejection) -> Tweet {
        let id = try requiredId(tweet, "id")
        var text = try v2Text(tweet)
        var retweetOf: String?
        if let references = tweet["referenced_tweets"]?.elements {
            for reference in references {
                guard reference.isObject, reference["type"]?.stringValue == "retweeted",
                      let originalId = reference["id"]?.idValue
                else { continue }
                retweetOf = originalId
                if let original = includes.tweets[originalId], let full = try v2Text(original) {
                    text = full
                }
            }
        }
        guard let text else { throw TweetRejection(.missingText, "tweet \(id) has no 'text'") }
        let authorId = try optionalId(tweet, "author_id")
        return Tweet(
            id: id,
            createdAt: try timestamp(tweet),
            text: text,
            lang: try language(tweet),
            authorId: authorId,
            authorName: authorId.flatMap { includes.users[$0]?["username"]?.stringValue },
            retweetOf: retweetOf,
            format: .v2
        )
    }

    // MARK: Records and minimal

    static func decodeRecord<N: JSONReadable>(_ object: N, maximumTweets: Int? = nil) throws(TweetRejection) -> [Tweet] {
        let id = try requiredId(object, "id")
        guard let texts = object["tweets"]?.elements else {
            throw TweetRejection(.wrongType, "'tweets' must be an array")
        }
        guard texts.first(where: { _ in true }) != nil else { throw TweetRejection(.empty, "record \(id) has no tweets") }
        try checkFanOut(texts, maximum: maximumTweets, "record \(id)")
        let createdAt = try timestamp(object)
        let lang = try language(object)
        var result: [Tweet] = []
        for (index, element) in texts.enumerated() {
            guard let text = element.stringValue else {
                throw TweetRejection(.wrongType, "tweets[\(index)] of record \(id) must be a string, got \(element.typeName)")
            }
            result.append(Tweet(id: "\(id)-\(index)", createdAt: createdAt, text: text, lang: lang, authorId: id, format: .record))
        }
        return result
    }

    static func decodeMinimal<N: JSONReadable>(_ object: N) throws(TweetRejection) -> Tweet {
        let id = try requiredId(object, "id")
        guard let text = try optionalString(object, "text") else {
            throw TweetRejection(.missingText, "tweet \(id) has no 'text'")
        }
        return Tweet(
            id: id, createdAt: try timestamp(object), text: text, lang: try language(object),
            authorId: try optionalId(object, "author_id"), authorName: try optionalString(object, "author"),
            format: try optionalString(object, "format") == SourceFormat.csv.rawValue ? .csv : .minimal
        )
    }
}

/// Which shape a JSON object is; see `TweetDecoder` for the rules.
enum TweetShape {
    case v2Response, record, v1, v2Tweet, minimal, unknown

    static func detect<N: JSONReadable>(_ object: N) -> TweetShape {
        if object["data"] != nil { return .v2Response }
        if object["tweets"] != nil, object["id"] != nil { return .record }
        if object["id_str"] != nil || object["user"] != nil || object["full_text"] != nil
            || object["extended_tweet"] != nil || object["retweeted_status"] != nil {
            return .v1
        }
        if object["author_id"] != nil || object["referenced_tweets"] != nil || object["note_tweet"] != nil
            || object["edit_history_tweet_ids"] != nil {
            return .v2Tweet
        }
        if object["id"] != nil || object["text"] != nil { return .minimal }
        return .unknown
    }
}
