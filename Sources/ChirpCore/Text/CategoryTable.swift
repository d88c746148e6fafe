/// A keyword category table: category names mapped to keywords and phrases.
public struct CategoryTable: Sendable, Equatable {
    public struct Category: Sendable, Equatable {
        public var name: String
        /// Keywords and phrases for tweets in any language.
        public var keywords: [String]
        /// Extra keywords for tweets whose `lang` is the key (`"es"`, `"de"`, …).
        public var languageKeywords: [String: [String]]

        public init(name: String, keywords: [String], languageKeywords: [String: [String]] = [:]) {
            self.name = name
            self.keywords = keywords
            self.languageKeywords = languageKeywords
        }
    }

    /// The name given to a tweet that matches no category.
    public static let uncategorized = "uncategorized"

    public private(set) var categories: [Category]

    public init(_ categories: [Category]) {
        self.categories = categories
    }

    /// The built-in table: 10 categories × 5 keywords.
    public static let `default` = CategoryTable([
        Category(name: "religion", keywords: ["god", "church", "faith", "bible", "pray"]),
        Category(name: "food", keywords: ["pizza", "burger", "sushi", "coffee", "restaurant"]),
        Category(name: "drinks", keywords: ["beer", "wine", "cocktail", "juice", "water"]),
        Category(name: "travel", keywords: ["vacation", "trip", "flight", "hotel", "destination"]),
        Category(name: "sports", keywords: ["football", "basketball", "soccer", "tennis", "exercise"]),
        Category(name: "technology", keywords: ["computer", "software", "hardware", "internet", "tech"]),
        Category(name: "movies", keywords: ["film", "cinema", "actor", "director", "trailer"]),
        Category(name: "music", keywords: ["song", "album", "concert", "band", "artist"]),
        Category(name: "fashion", keywords: ["clothing", "shoes", "accessories", "style", "design"]),
        Category(name: "health", keywords: ["medicine", "doctor", "fitness", "diet", "wellness"]),
    ])

    /// A content hash of the table (FNV-1a 64 over its canonical text), carried by every enriched
    /// record so derived data can be traced to the rules that produced it. Not cryptographic.
    public var version: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ text: String) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
        }
        for category in categories {
            mix(category.name)
            mix("\u{1F}")
            for keyword in category.keywords {
                mix(WordTokenizer.normalizedPhrase(keyword).joined(separator: " "))
                mix("\u{1E}")
            }
            for (language, keywords) in category.languageKeywords.sorted(by: { $0.key < $1.key }) {
                mix("\u{1C}" + language)
                for keyword in keywords {
                    mix(WordTokenizer.normalizedPhrase(keyword).joined(separator: " "))
                    mix("\u{1E}")
                }
            }
            mix("\u{1D}")
        }
        let hex = String(hash, radix: 16)
        return "ct-" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
