/// The Kafka key for a raw payload: the tweet id, so all copies of a tweet land in one partition.
public enum TweetKey {
    /// `data.id` (v2; the first tweet of a page), `id_str` (v1.1), or `id`; nil when the payload is
    /// not a JSON object or has no id (the message is still forwarded, unkeyed).
    public static func extract(_ payload: [UInt8]) -> String? {
        guard let value = try? JSONParser.parse(payload), case .object(let object) = value else { return nil }
        switch object["data"] {
        case .object(let tweet)?: return tweet["id"]?.idValue
        case .array(let tweets)?: return tweets.first?["id"]?.idValue
        default: return object["id_str"]?.idValue ?? object["id"]?.idValue
        }
    }
}
