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
    /// Parses and decodes one payload.
    public static func decode(bytes: some Collection<UInt8>, maximumBytes: Int? = nil) throws(TweetRejection) -> [Tweet] {
        if let maximumBytes, bytes.count > maximumBytes {
            throw TweetRejection(.tooLarge, "payload is \(bytes.count) bytes, the limit is \(maximumBytes)")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw TweetRejection(error)
        }
        return try decode(value)
    }

    public static func decode(_ value: JSONValue) throws(TweetRejection) -> [Tweet] {
        guard case .object(let object) = value else {
            throw TweetRejection(.unknownFormat, "expected a JSON object, got \(value.typeName)")
        }
        switch TweetShape.detect(object) {
        case .v2Response: return try decodeV2Response(object)
        case .record: return try decodeRecord(object)
        case .v1: return [try decodeV1(object)]
        case .v2Tweet: return [try decodeV2Tweet(object, includes: V2Includes(nil))]
        case .minimal: return [try decodeMinimal(object)]
        case .unknown:
            let keys = object.keys.prefix(8).joined(separator: ", ")
            throw TweetRejection(.unknownFormat, "object has no tweet fields (keys: \(keys))")
        }
    }

    // MARK: Field helpers

    static func requiredId(_ object: JSONObject, _ keys: String...) throws(TweetRejection) -> String {
        for key in keys {
            guard let value = object[key], !value.isNull else { continue }
            guard let id = value.idValue else {
                throw TweetRejection(.wrongType, "'\(key)' must be a string or number, got \(value.typeName)")
            }
            guard !id.isEmpty else { throw TweetRejection(.missingId, "'\(key)' is empty") }
            return id
        }
        throw TweetRejection(.missingId, "no '\(keys.joined(separator: "' or '"))' field")
    }

    static func optionalString(_ object: JSONObject?, _ key: String) throws(TweetRejection) -> String? {
        guard let value = object?[key], !value.isNull else { return nil }
        guard let string = value.stringValue else {
            throw TweetRejection(.wrongType, "'\(key)' must be a string, got \(value.typeName)")
        }
        return string
    }

    static func optionalId(_ object: JSONObject?, _ key: String) throws(TweetRejection) -> String? {
        guard let value = object?[key], !value.isNull else { return nil }
        guard let id = value.idValue else {
            throw TweetRejection(.wrongType, "'\(key)' must be a string or number, got \(value.typeName)")
        }
        return id
    }

    static func optionalObject(_ object: JSONObject?, _ key: String) throws(TweetRejection) -> JSONObject? {
        guard let value = object?[key], !value.isNull else { return nil }
        guard let nested = value.objectValue else {
            throw TweetRejection(.wrongType, "'\(key)' must be an object, got \(value.typeName)")
        }
        return nested
    }

    static func timestamp(_ object: JSONObject, _ key: String = "created_at") throws(TweetRejection) -> Timestamp? {
        guard let value = object[key], !value.isNull else { return nil }
        switch value {
        case .string(let text):
            guard let time = Timestamp(parsing: text) else {
                throw TweetRejection(.wrongType, "'\(key)' is not a recognized time: \"\(text.prefix(40))\"")
            }
            return time
        case .number(let digits):
            // Epoch seconds or milliseconds (v1.1 `timestamp_ms` is milliseconds).
            guard let number = Int64(digits), abs(number) < Int64.max / 1000 else {
                throw TweetRejection(.wrongType, "'\(key)' must be an integer epoch time, got \(digits)")
            }
            let time = Timestamp(millisecondsSinceEpoch: number > 100_000_000_000 ? number : number * 1000)
            guard time.isStorable else {
                throw TweetRejection(.wrongType, "'\(key)' is outside the years 1 to 9999: \(digits)")
            }
            return time
        default:
            throw TweetRejection(.wrongType, "'\(key)' must be a string, got \(value.typeName)")
        }
    }

    // MARK: v1.1

    static func v1Text(_ object: JSONObject) throws(TweetRejection) -> String? {
        if let extended = try optionalObject(object, "extended_tweet"),
           let full = try optionalString(extended, "full_text") {
            return full
        }
        if let full = try optionalString(object, "full_text") { return full }
        return try optionalString(object, "text")
    }

    static func decodeV1(_ object: JSONObject) throws(TweetRejection) -> Tweet {
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
            lang: try optionalString(object, "lang"),
            authorId: authorId,
            authorName: try optionalString(user, "screen_name"),
            retweetOf: retweetOf,
            format: .v1
        )
    }

    // MARK: v2

    /// `includes` of a v2 response, indexed by id.
    struct V2Includes {
        var users: [String: JSONObject] = [:]
        var tweets: [String: JSONObject] = [:]

        init(_ includes: JSONObject?) {
            for user in includes?["users"]?.arrayValue ?? [] {
                if let object = user.objectValue, let id = object["id"]?.idValue { users[id] = object }
            }
            for tweet in includes?["tweets"]?.arrayValue ?? [] {
                if let object = tweet.objectValue, let id = object["id"]?.idValue { tweets[id] = object }
            }
        }
    }

    static func decodeV2Response(_ object: JSONObject) throws(TweetRejection) -> [Tweet] {
        let includes = V2Includes(try optionalObject(object, "includes"))
        switch object["data"] {
        case .object(let tweet)?:
            return [try decodeV2Tweet(tweet, includes: includes)]
        case .array(let tweets)?:
            guard !tweets.isEmpty else { throw TweetRejection(.empty, "v2 response with an empty 'data' array") }
            var result: [Tweet] = []
            result.reserveCapacity(tweets.count)
            for (index, element) in tweets.enumerated() {
                guard let tweet = element.objectValue else {
                    throw TweetRejection(.wrongType, "data[\(index)] must be an object, got \(element.typeName)")
                }
                result.append(try decodeV2Tweet(tweet, includes: includes))
            }
            return result
        case let other?:
            throw TweetRejection(.wrongType, "'data' must be an object or array, got \(other.typeName)")
        case nil:
            throw TweetRejection(.unknownFormat, "no 'data'")
        }
    }

    static func v2Text(_ tweet: JSONObject) throws(TweetRejection) -> String? {
        if let note = try optionalObject(tweet, "note_tweet"), let text = try optionalString(note, "text") {
            return text
        }
        return try optionalString(tweet, "text")
    }

    static func decodeV2Tweet(_ tweet: JSONObject, includes: V2Includes) throws(TweetRejection) -> Tweet {
        let id = try requiredId(tweet, "id")
        var text = try v2Text(tweet)
        var retweetOf: String?
        if let references = tweet["referenced_tweets"]?.arrayValue {
            for reference in references {
                guard let ref = reference.objectValue, ref["type"]?.stringValue == "retweeted",
                      let originalId = ref["id"]?.idValue
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
            lang: try optionalString(tweet, "lang"),
            authorId: authorId,
            authorName: authorId.flatMap { includes.users[$0]?["username"]?.stringValue },
            retweetOf: retweetOf,
            format: .v2
        )
    }

    // MARK: Records and minimal

    static func decodeRecord(_ object: JSONObject) throws(TweetRejection) -> [Tweet] {
        let id = try requiredId(object, "id")
        guard let texts = object["tweets"]?.arrayValue else {
            throw TweetRejection(.wrongType, "'tweets' must be an array")
        }
        guard !texts.isEmpty else { throw TweetRejection(.empty, "record \(id) has no tweets") }
        let createdAt = try timestamp(object)
        var result: [Tweet] = []
        for (index, element) in texts.enumerated() {
            guard let text = element.stringValue else {
                throw TweetRejection(.wrongType, "tweets[\(index)] of record \(id) must be a string, got \(element.typeName)")
            }
            result.append(Tweet(id: "\(id)-\(index)", createdAt: createdAt, text: text,
                                lang: try optionalString(object, "lang"), authorId: id, format: .record))
        }
        return result
    }

    static func decodeMinimal(_ object: JSONObject) throws(TweetRejection) -> Tweet {
        let id = try requiredId(object, "id")
        guard let text = try optionalString(object, "text") else {
            throw TweetRejection(.missingText, "tweet \(id) has no 'text'")
        }
        return Tweet(
            id: id, createdAt: try timestamp(object), text: text, lang: try optionalString(object, "lang"),
            authorId: try optionalId(object, "author_id"), authorName: try optionalString(object, "author"),
            format: try optionalString(object, "format") == SourceFormat.csv.rawValue ? .csv : .minimal
        )
    }
}

/// Which shape a JSON object is; see `TweetDecoder` for the rules.
enum TweetShape {
    case v2Response, record, v1, v2Tweet, minimal, unknown

    static func detect(_ object: JSONObject) -> TweetShape {
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
