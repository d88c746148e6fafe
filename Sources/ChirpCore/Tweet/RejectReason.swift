/// Why a payload could not become a tweet. The raw values are the stable reason codes carried by
/// dead-letter records (`x-chirp-dlq-reason`) and the `dlq_total{reason}` metric.
public enum RejectReason: String, Sendable, CaseIterable, Error {
    case invalidJSON = "invalid_json"
    case invalidUTF8 = "invalid_utf8"
    case tooDeep = "too_deep"
    case tooLarge = "too_large"
    case missingId = "missing_id"
    case missingText = "missing_text"
    case wrongType = "wrong_type"
    case unknownFormat = "unknown_format"
    case empty = "empty"
    case tooManyTweets = "too_many_tweets"
    case tooManyHashtags = "too_many_hashtags"
    case undeliverable = "undeliverable"

    public var summary: String {
        switch self {
        case .invalidJSON: return "the payload is not valid JSON"
        case .invalidUTF8: return "the payload is not valid UTF-8"
        case .tooDeep: return "JSON nesting deeper than the parser allows"
        case .tooLarge: return "the payload is larger than the configured limit"
        case .missingId: return "no tweet id (id, id_str)"
        case .missingText: return "no tweet text (text, full_text, note_tweet)"
        case .wrongType: return "a field has the wrong JSON type"
        case .unknownFormat: return "JSON that is no supported tweet shape"
        case .empty: return "a v2 response or record with no tweets in it"
        case .tooManyHashtags: return "a tweet with more hashtags than the store can number (32 767)"
        case .tooManyTweets: return "a v2 page or record with more tweets than the configured limit"
        case .undeliverable: return "Kafka refused the enriched records, however often they were sent"
        }
    }
}

/// A rejected payload: the reason code and a message a person can act on.
public struct TweetRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: RejectReason
    public var message: String

    public init(_ reason: RejectReason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public init(_ error: JSONParseError) {
        switch error.kind {
        case .invalidJSON: reason = .invalidJSON
        case .invalidUTF8: reason = .invalidUTF8
        case .tooDeep: reason = .tooDeep
        }
        message = error.description
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}
