import Foundation

/// A small, fast, seedable random generator (SplitMix64), so generated samples are reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Generates realistic tweets as API v2 single-tweet responses (`{data, includes}`), one JSON line
/// each: several languages, Zipf-distributed hashtags (a few trend, most are rare), the default
/// categories' keywords in some texts, mentions, retweets whose full text lives in
/// `includes.tweets`, and increasing timestamps spread over a time span.
public struct SyntheticTweets: Sendable {
    public struct Settings: Sendable {
        public var count: Int
        public var seed: UInt64
        public var start: Timestamp
        public var spanSeconds: Int
        public var users: Int = 2000
        public var shape: Shape = .v2
        /// How many distinct hashtags the Zipf draw ranges over: the 300 built-in ones by
        /// default; past them, ranks are named `tag301`, `tag302`, … (a wide vocabulary, as a
        /// real stream's long tail of rare tags).
        public var vocabulary: Int = SyntheticTweets.hashtags.count

        public init(count: Int, seed: UInt64, start: Timestamp, spanSeconds: Int, shape: Shape = .v2) {
            self.count = count
            self.seed = seed
            self.start = start
            self.spanSeconds = spanSeconds
            self.shape = shape
        }
    }

    /// The document each tweet is written as. Both draw the same random numbers, so one seed gives
    /// the same tweets (ids, times, texts, authors) in either shape.
    public enum Shape: String, Sendable, CaseIterable {
        /// A v2 single-tweet response: `data`, `includes.users` (and `includes.tweets` for a retweet).
        case v2
        /// A v1.1 streaming status, as archives of the old API hold them: the full user object,
        /// `entities` with the hashtags' and mentions' positions, a nested `retweeted_status`.
        case v1_1 = "v1.1"
    }

    public let settings: Settings
    private var rng: SplitMix64
    private var index = 0
    private let zipf: [Double]

    static let hashtags: [String] = [
        "Breaking", "News", "WorldCup", "AI", "Music", "Foodie", "Travel", "Fitness", "Tech", "Crypto",
        "Climate", "Election", "Movies", "Fashion", "Health", "Coffee", "Pizza", "NBA", "Soccer", "Tennis",
        "Startup", "OpenSource", "Swift", "Kafka", "Postgres", "DataEngineering", "Vacation", "Photography", "Art", "Books",
        "Gaming", "Esports", "Concert", "NewAlbum", "Trailer", "Oscars", "Wine", "Beer", "Sushi", "Burger",
        "MondayMotivation", "TBT", "FridayFeeling", "Weekend", "Sunset", "Nature", "Science", "Space", "NASA", "Mars",
        "café", "mañana", "Fußball", "München", "SãoPaulo", "東京", "서울", "ラーメン", "K팝", "مرحبا",
        "Paris", "London", "NewYork", "Tokyo", "Berlin", "Madrid", "Rome", "Seoul", "Cairo", "Lagos",
        "Yoga", "Diet", "Wellness", "Marathon", "Basketball", "Football", "Design", "Style", "Shoes", "Church",
    ] + (1...220).map { "topic\($0)" }

    static let languages: [(code: String, weight: Int)] = [
        ("en", 60), ("es", 12), ("pt", 6), ("fr", 5), ("de", 4), ("ja", 5), ("ko", 4), ("ar", 4),
    ]

    static let templates: [String: [String]] = [
        "en": ["Just had the best %K of my life", "Can't stop thinking about %K today", "Who else is watching the %K tonight?",
               "Hot take: %K is overrated", "Loving this %K, highly recommend", "Nothing beats a good %K on a Sunday",
               "New blog post about %K is up", "Is it just me or is %K everywhere lately?"],
        "es": ["Hoy probé un %K increíble", "No puedo dejar de pensar en %K", "¿Alguien más viendo %K esta noche?"],
        "pt": ["Hoje foi dia de %K", "Alguém mais assistindo %K hoje?", "Amando esse %K"],
        "fr": ["Journée parfaite avec un %K", "Qui regarde %K ce soir ?", "J'adore ce %K"],
        "de": ["Heute gab es %K, einfach super", "Wer schaut heute Abend %K?", "Bestes %K seit langem"],
        "ja": ["今日は%Kを楽しんだ", "%Kが最高すぎる", "みんな%K見てる？"],
        "ko": ["오늘 %K 최고였어요", "%K 보는 사람?", "%K 너무 좋아"],
        "ar": ["أجمل %K اليوم", "من يشاهد %K الليلة؟", "أحب هذا %K"],
    ]

    /// Topic words: the default categories' keywords, and neutral words that match no category.
    static let topics: [String] = [
        "pizza", "burger", "sushi", "coffee", "restaurant", "beer", "wine", "cocktail", "juice", "water",
        "vacation", "trip", "flight", "hotel", "destination", "football", "basketball", "soccer", "tennis", "exercise",
        "computer", "software", "hardware", "internet", "tech", "film", "cinema", "actor", "director", "trailer",
        "song", "album", "concert", "band", "artist", "clothing", "shoes", "accessories", "style", "design",
        "medicine", "doctor", "fitness", "diet", "wellness", "church", "faith", "bible", "prayer meeting", "god",
        "weather", "traffic", "meeting", "deadline", "weekend", "sunrise", "garden", "podcast", "puzzle", "bandwidth",
        "technique", "homework", "commute", "idea", "story", "moment", "thread", "update", "plan", "question",
    ]

    public init(_ settings: Settings) {
        self.settings = settings
        self.rng = SplitMix64(seed: settings.seed)
        var cumulative: [Double] = []
        var total = 0.0
        for rank in 1...max(1, settings.vocabulary) {
            total += 1.0 / pow(Double(rank), 1.1)
            cumulative.append(total)
        }
        self.zipf = cumulative.map { $0 / total }
    }

    private mutating func zipfHashtag() -> String {
        let u = Double(rng.next() >> 11) / Double(1 << 53)
        var low = 0
        var high = zipf.count - 1
        while low < high {
            let mid = (low + high) / 2
            if zipf[mid] < u { low = mid + 1 } else { high = mid }
        }
        return low < Self.hashtags.count ? Self.hashtags[low] : "tag\(low + 1)"
    }

    private mutating func pick<T>(_ array: [T]) -> T {
        array[Int(rng.next() % UInt64(array.count))]
    }

    private mutating func language() -> String {
        var roll = Int(rng.next() % 100)
        for (code, weight) in Self.languages {
            if roll < weight { return code }
            roll -= weight
        }
        return "en"
    }

    public var baseId: UInt64 { 1_500_000_000_000_000_000 &+ (settings.seed % 100_000) &* 10_000_000_000 }

    /// The next tweet as one JSON line (no trailing newline), or nil when `count` are generated.
    public mutating func next() -> [UInt8]? {
        guard index < settings.count else { return nil }
        defer { index += 1 }
        let id = String(baseId &+ UInt64(index))
        let spanMs = Int64(settings.spanSeconds) * 1000
        let base = settings.count > 1 ? spanMs * Int64(index) / Int64(settings.count) : 0
        let jitter = Int64(rng.next() % 1000)
        let createdAt = Timestamp(millisecondsSinceEpoch: settings.start.millisecondsSinceEpoch + min(spanMs, base + jitter))
        let userIndex = Int(rng.next() % UInt64(settings.users))
        let authorId = String(10_000 + userIndex)
        let lang = language()
        var text = pick(Self.templates[lang] ?? Self.templates["en"]!).replacingFirst("%K", with: pick(Self.topics))
        if rng.next() % 4 == 0 { text += " @user\(rng.next() % UInt64(settings.users))" }
        for _ in 0..<Int(rng.next() % 4) { text += " #" + zipfHashtag() }

        var retweet: Retweet?
        if rng.next() % 10 == 0 {
            // A retweet: the original holds the full text; the retweet's own text is cut.
            let originalAuthor = String(10_000 + Int(rng.next() % UInt64(settings.users)))
            let full = text + " " + String(repeating: "more words ", count: 12) + "#" + zipfHashtag()
            retweet = Retweet(id: String(baseId &- 1 &- UInt64(index)), author: originalAuthor, text: full,
                              createdAt: Timestamp(millisecondsSinceEpoch: createdAt.millisecondsSinceEpoch - 60_000))
            text = "RT @user\(originalAuthor): " + String(full.prefix(100)) + "…"
        }
        let tweet = Generated(id: id, author: authorId, text: text, createdAt: createdAt, lang: lang)
        switch settings.shape {
        case .v2: return Self.v2(tweet, retweet: retweet).serialized
        case .v1_1: return Self.v1(tweet, retweet: retweet).serialized
        }
    }

    private struct Generated {
        var id, author, text: String
        var createdAt: Timestamp
        var lang: String
    }

    private struct Retweet {
        var id, author, text: String
        var createdAt: Timestamp
    }

    private static func v2(_ tweet: Generated, retweet: Retweet?) -> JSONValue {
        var includes = JSONObject()
        var users: [JSONValue] = [v2User(tweet.author)]
        var data = JSONObject([
            ("id", .string(tweet.id)), ("text", .string(tweet.text)), ("created_at", .string(tweet.createdAt.iso8601)),
            ("author_id", .string(tweet.author)), ("lang", .string(tweet.lang)),
        ])
        if let retweet {
            data["referenced_tweets"] = .array([.object(JSONObject([("type", .string("retweeted")), ("id", .string(retweet.id))]))])
            includes["tweets"] = .array([.object(JSONObject([
                ("id", .string(retweet.id)), ("text", .string(retweet.text)), ("author_id", .string(retweet.author)),
                ("created_at", .string(retweet.createdAt.iso8601)), ("lang", .string(tweet.lang)),
            ]))])
            users.append(v2User(retweet.author))
        }
        includes["users"] = .array(users)
        return .object(JSONObject([("data", .object(data)), ("includes", .object(includes))]))
    }

    private static func v2User(_ id: String) -> JSONValue {
        .object(JSONObject([("id", .string(id)), ("username", .string("user\(id)")), ("name", .string("User \(id)"))]))
    }

    private static func v1(_ tweet: Generated, retweet: Retweet?) -> JSONValue {
        var status = v1Status(id: tweet.id, author: tweet.author, text: tweet.text, createdAt: tweet.createdAt, lang: tweet.lang)
        if let retweet {
            status["retweeted_status"] = .object(v1Status(id: retweet.id, author: retweet.author, text: retweet.text,
                                                          createdAt: retweet.createdAt, lang: tweet.lang))
        }
        status["timestamp_ms"] = .string(String(tweet.createdAt.millisecondsSinceEpoch))
        return .object(status)
    }

    private static func v1Status(id: String, author: String, text: String, createdAt: Timestamp, lang: String) -> JSONObject {
        var object = JSONObject([
            ("created_at", .string(createdAt.twitterStyle)), ("id", .number(id)), ("id_str", .string(id)),
            ("text", .string(text)),
            ("source", .string("chirp-sender generate")), ("truncated", .bool(false)), ("in_reply_to_status_id", .null),
            ("user", v1User(author)), ("geo", .null), ("coordinates", .null), ("place", .null),
            ("retweet_count", .number("0")), ("favorite_count", .number("0")),
        ])
        object["entities"] = .object(v1Entities(text))
        object["lang"] = .string(lang)
        return object
    }

    /// A user object with the fields archives always have; its numbers are derived from the id, not
    /// drawn, so that both shapes consume the same random numbers.
    private static func v1User(_ id: String) -> JSONValue {
        let n = Int(id) ?? 0
        return .object(JSONObject([
            ("id", .number(id)), ("id_str", .string(id)), ("name", .string("User \(id)")), ("screen_name", .string("user\(id)")),
            ("protected", .bool(false)), ("verified", .bool(n % 97 == 0)), ("followers_count", .number(String(n * 37 % 50_000))),
            ("friends_count", .number(String(n * 13 % 2_000))), ("statuses_count", .number(String(n * 7 % 90_000))),
        ]))
    }

    /// Hashtags and mentions with their positions in code points, as v1.1 gives them; the pipeline
    /// finds the hashtags in the text itself, so these are the payload's weight, not its input.
    private static func v1Entities(_ text: String) -> JSONObject {
        var hashtags: [JSONValue] = []
        var mentions: [JSONValue] = []
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if (c == "#" || c == "@"), i == 0 || scalars[i - 1] == " " {
                var end = i + 1
                while end < scalars.count, scalars[end] != " ", scalars[end] != ":", scalars[end] != "…" { end += 1 }
                let word = String(String.UnicodeScalarView(scalars[(i + 1)..<end]))
                let indices = JSONValue.array([.number(String(i)), .number(String(end))])
                if c == "#" {
                    hashtags.append(.object(JSONObject([("text", .string(word)), ("indices", indices)])))
                } else {
                    let userId = String(word.drop(while: { !$0.isNumber }))
                    mentions.append(.object(JSONObject([
                        ("screen_name", .string(word)), ("name", .string("User \(userId)")), ("id", .number(userId.isEmpty ? "0" : userId)),
                        ("id_str", .string(userId)), ("indices", indices),
                    ])))
                }
                i = end
            } else {
                i += 1
            }
        }
        return JSONObject([("hashtags", .array(hashtags)), ("urls", .array([])), ("user_mentions", .array(mentions)), ("symbols", .array([]))])
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
