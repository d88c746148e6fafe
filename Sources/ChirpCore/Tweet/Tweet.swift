/// The input shape a tweet arrived in.
public enum SourceFormat: String, Sendable, CaseIterable {
    /// Twitter API v1.1 tweet object (`id_str`, `user`, `extended_tweet`, `retweeted_status`).
    case v1 = "v1.1"
    /// Twitter API v2 tweet (`data` + `includes`, single tweet or a page).
    case v2 = "v2"
    /// `{id, tweets: [text, …]}`: one record holding several texts.
    case record = "record"
    /// `{id, text, created_at}` and nothing Twitter-specific.
    case minimal = "minimal"
    /// A CSV row mapped through column flags.
    case csv = "csv"
}

/// One tweet, normalized from whichever format it came in.
public struct Tweet: Sendable, Equatable {
    /// Tweet ids are strings: numeric ids and UUIDs both occur.
    public var id: String
    public var createdAt: Timestamp?
    /// The untruncated text; for a retweet, the original's full text.
    public var text: String
    public var lang: String?
    public var authorId: String?
    /// The author's handle (`screen_name` / `username`) when known.
    public var authorName: String?
    /// Set for retweets: the id of the retweeted original.
    public var retweetOf: String?
    public var format: SourceFormat

    public var isRetweet: Bool { retweetOf != nil }

    public init(
        id: String, createdAt: Timestamp? = nil, text: String, lang: String? = nil,
        authorId: String? = nil, authorName: String? = nil, retweetOf: String? = nil, format: SourceFormat
    ) {
        self.id = id
        self.createdAt = createdAt
        self.text = text
        self.lang = lang
        self.authorId = authorId
        self.authorName = authorName
        self.retweetOf = retweetOf
        self.format = format
    }
}
