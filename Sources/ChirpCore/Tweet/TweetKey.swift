/// The Kafka key for a raw payload: the tweet id, so all copies of a tweet land in one partition.
public enum TweetKey {
    /// `data.id` (v2; the first tweet of a page), `id_str` (v1.1), or `id`; nil when the payload is
    /// not a JSON object or has no id (the message is still forwarded, unkeyed).
    public static func extract(_ payload: [UInt8]) -> String? {
        guard let tape = try? JSONTape.parse(payload) else { return nil }
        return tape.withRoot { object in
            guard object.isObject else { return nil }
            return tweetId(object)
        }
    }

    private static func tweetId(_ object: JSONTapeNode) -> String? {
        if let data = object["data"] {
            if data.isObject { return data["id"]?.idValue }
            if let tweets = data.elements { return tweets.first { _ in true }?["id"]?.idValue }
        }
        return object["id_str"]?.idValue ?? object["id"]?.idValue
    }
}
