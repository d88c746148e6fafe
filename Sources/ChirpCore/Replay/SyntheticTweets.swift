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

        public init(count: Int, seed: UInt64, start: Timestamp, spanSeconds: Int) {
            self.count = count
            self.seed = seed
            self.start = start
            self.spanSeconds = spanSeconds
        }
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
        for rank in 1...Self.hashtags.count {
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
        return Self.hashtags[low]
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

        var includes = JSONObject()
        var users: [JSONValue] = [user(authorId)]
        var data = JSONObject([
            ("id", .string(id)), ("text", .string(text)), ("created_at", .string(createdAt.iso8601)),
            ("author_id", .string(authorId)), ("lang", .string(lang)),
        ])
        if rng.next() % 10 == 0 {
            // A retweet: the original holds the full text; the retweet's own text is cut.
            let originalId = String(baseId &- 1 &- UInt64(index))
            let originalAuthor = String(10_000 + Int(rng.next() % UInt64(settings.users)))
            let full = text + " " + String(repeating: "more words ", count: 12) + "#" + zipfHashtag()
            let cut = "RT @user\(originalAuthor): " + String(full.prefix(100)) + "…"
            data["text"] = .string(cut)
            data["referenced_tweets"] = .array([.object(JSONObject([("type", .string("retweeted")), ("id", .string(originalId))]))])
            includes["tweets"] = .array([.object(JSONObject([
                ("id", .string(originalId)), ("text", .string(full)), ("author_id", .string(originalAuthor)),
                ("created_at", .string(Timestamp(millisecondsSinceEpoch: createdAt.millisecondsSinceEpoch - 60_000).iso8601)),
                ("lang", .string(lang)),
            ]))])
            users.append(user(originalAuthor))
        }
        includes["users"] = .array(users)
        return JSONValue.object(JSONObject([("data", .object(data)), ("includes", .object(includes))])).serialized
    }

    private func user(_ id: String) -> JSONValue {
        .object(JSONObject([("id", .string(id)), ("username", .string("user\(id)")), ("name", .string("User \(id)"))]))
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
