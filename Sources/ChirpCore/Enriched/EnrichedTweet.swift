/// The record on `tweets.enriched`: a normalized tweet with hashtags and categories.
///
/// Wire format: one compact JSON object, schema version in `"v"`. Consumers must ignore unknown
/// keys; a breaking change bumps `"v"`.
///
///     {"v":1,"id":"…","created_at":"2021-09-22T16:37:29.000Z","text":"…","lang":"en",
///      "author_id":"…","author":"…","retweet_of":null,"format":"v2",
///      "hashtags":[{"tag":"Brexit","key":"brexit"}],"mentions":["…"],
///      "categories":["food"],"rules":{"hashtags":"twitter-text-3.1","categories":"ct-…"}}
public struct EnrichedTweet: Sendable, Equatable {
    /// Written as a literal by `encoded()`; change both together.
    public static let schemaVersion = 1

    public var id: String
    /// Event time: the tweet's `created_at`, or the publish time when the payload had none.
    public var createdAt: Timestamp
    public var text: String
    public var lang: String?
    public var authorId: String?
    public var authorName: String?
    public var retweetOf: String?
    public var format: SourceFormat
    public var hashtags: [Hashtag]
    public var mentions: [String]
    public var categories: [String]
    public var hashtagRules: String
    public var categoryRules: String

    public init(
        id: String, createdAt: Timestamp, text: String, lang: String?, authorId: String?, authorName: String?,
        retweetOf: String?, format: SourceFormat, hashtags: [Hashtag], mentions: [String], categories: [String],
        hashtagRules: String, categoryRules: String
    ) {
        self.id = id
        self.createdAt = createdAt
        self.text = text
        self.lang = lang
        self.authorId = authorId
        self.authorName = authorName
        self.retweetOf = retweetOf
        self.format = format
        self.hashtags = hashtags
        self.mentions = mentions
        self.categories = categories
        self.hashtagRules = hashtagRules
        self.categoryRules = categoryRules
    }

    public var isRetweet: Bool { retweetOf != nil }

    public func encoded() -> [UInt8] {
        // Keys and punctuation go out as whole literal runs; schema version 1 is part of the first.
        var w = JSONWriter(capacity: 320 + text.utf8.count + hashtags.count * 48)
        w.raw(#"{"v":1,"id":"#); w.string(id)
        w.raw(#","created_at":"#); w.timestamp(createdAt)
        w.raw(#","text":"#); w.string(text)
        w.raw(#","lang":"#); w.optionalString(lang)
        w.raw(#","author_id":"#); w.optionalString(authorId)
        w.raw(#","author":"#); w.optionalString(authorName)
        w.raw(#","retweet_of":"#); w.optionalString(retweetOf)
        w.raw(#","format":"#); w.string(format.rawValue)
        w.raw(#","hashtags":["#)
        for (i, tag) in hashtags.enumerated() {
            w.raw(i == 0 ? #"{"tag":"# : #",{"tag":"#); w.string(tag.display)
            w.raw(#","key":"#); w.string(tag.key)
            w.raw("}")
        }
        w.raw(#"],"mentions":"#); w.stringArray(mentions)
        w.raw(#","categories":"#); w.stringArray(categories)
        w.raw(#","rules":{"hashtags":"#); w.string(hashtagRules)
        w.raw(#","categories":"#); w.string(categoryRules)
        w.raw("}}")
        return w.bytes
    }

    /// Decodes a record written by `encoded()` (or by a newer minor version).
    /// The most hashtags a tweet may have: the store numbers them in a smallint.
    public static let maximumHashtags = Int(Int16.max)

    public static func decode(_ bytes: [UInt8]) throws(TweetRejection) -> EnrichedTweet {
        let tape: JSONTape
        do { tape = try JSONTape.parse(bytes) } catch { throw TweetRejection(error) }
        return try tape.withRoot { object throws(TweetRejection) in try decode(object) }
    }

    private static func decode(_ object: JSONTapeNode) throws(TweetRejection) -> EnrichedTweet {
        guard object.isObject else {
            throw TweetRejection(.unknownFormat, "enriched record must be an object, got \(object.typeName)")
        }
        guard let version = object["v"], version.numberText == String(schemaVersion) else {
            throw TweetRejection(.unknownFormat, "unsupported enriched schema version \(object["v"].map { "\($0.value)" } ?? "none")")
        }
        let id = try TweetDecoder.requiredId(object, "id")
        guard let createdAt = try TweetDecoder.timestamp(object) else {
            throw TweetRejection(.wrongType, "enriched record \(id) has no created_at")
        }
        guard let text = try TweetDecoder.optionalString(object, "text") else {
            throw TweetRejection(.missingText, "enriched record \(id) has no text")
        }
        let rules = try TweetDecoder.optionalObject(object, "rules")
        var hashtags: [Hashtag] = []
        for element in object["hashtags"]?.elements.map(Array.init) ?? [] {
            guard let display = element["tag"]?.stringValue, let key = element["key"]?.stringValue else {
                throw TweetRejection(.wrongType, "enriched record \(id) has a malformed hashtag")
            }
            hashtags.append(Hashtag(display: display, key: key))
        }
        guard hashtags.count <= maximumHashtags else {
            throw TweetRejection(.tooManyHashtags, "enriched record \(id) has \(hashtags.count) hashtags; the store numbers at most \(maximumHashtags)")
        }
        return EnrichedTweet(
            id: id, createdAt: createdAt, text: text,
            lang: try TweetDecoder.language(object),
            authorId: try TweetDecoder.optionalString(object, "author_id"),
            authorName: try TweetDecoder.optionalString(object, "author"),
            retweetOf: try TweetDecoder.optionalString(object, "retweet_of"),
            format: SourceFormat(rawValue: try TweetDecoder.optionalString(object, "format") ?? "") ?? .minimal,
            hashtags: hashtags,
            mentions: object["mentions"]?.elements?.compactMap(\.stringValue) ?? [],
            categories: object["categories"]?.elements?.compactMap(\.stringValue) ?? [],
            hashtagRules: try TweetDecoder.optionalString(rules, "hashtags") ?? "",
            categoryRules: try TweetDecoder.optionalString(rules, "categories") ?? ""
        )
    }
}

/// Turns normalized tweets into enriched records with the current rules.
public struct Enricher: Sendable {
    public let matcher: CategoryMatcher

    public init(table: CategoryTable = .default) {
        matcher = CategoryMatcher(table)
    }

    /// `fallbackTime` is used when the tweet has no `created_at` (records, minimal tweets).
    public func enrich(_ tweet: Tweet, fallbackTime: Timestamp) -> EnrichedTweet {
        EnrichedTweet(
            id: tweet.id, createdAt: tweet.createdAt ?? fallbackTime, text: tweet.text, lang: tweet.lang,
            authorId: tweet.authorId, authorName: tweet.authorName, retweetOf: tweet.retweetOf, format: tweet.format,
            hashtags: HashtagExtractor.extract(tweet.text),
            mentions: MentionExtractor.extract(tweet.text),
            categories: matcher.categories(for: tweet.text, lang: tweet.lang),
            hashtagRules: HashtagExtractor.version,
            categoryRules: matcher.version
        )
    }
}
