/// Rewrites a tweet payload for `--restamp` (shift event times) and `--loop` (give each pass its
/// own ids, so a looped replay keeps adding tweets instead of being deduplicated away).
///
/// Handles every shape `TweetFile.split` emits: v1.1 (`id_str`/`id`, `created_at` in Twitter's
/// style), v2 single responses (`data.id`, `data.created_at`, ISO 8601), and minimal tweets.
public enum PayloadRewriter {
    public static func rewrite(_ payload: JSONValue, idSuffix: String?, shiftMilliseconds: Int64) -> JSONValue {
        guard case .object(var object) = payload else { return payload }
        if case .object(var data)? = object["data"] {
            rewriteTweet(&data, idKeys: ["id"], idSuffix: idSuffix, shift: shiftMilliseconds, twitterStyle: false)
            object["data"] = .object(data)
        } else {
            let isV1 = object["id_str"] != nil || object["user"] != nil
            rewriteTweet(&object, idKeys: ["id_str", "id"], idSuffix: idSuffix, shift: shiftMilliseconds, twitterStyle: isV1)
        }
        return .object(object)
    }

    private static func rewriteTweet(_ tweet: inout JSONObject, idKeys: [String], idSuffix: String?, shift: Int64, twitterStyle: Bool) {
        if let idSuffix {
            for key in idKeys {
                if let id = tweet[key]?.idValue { tweet[key] = .string(id + idSuffix) }
            }
        }
        if shift != 0, let text = tweet["created_at"]?.stringValue, let time = Timestamp(parsing: text) {
            let shifted = Timestamp(millisecondsSinceEpoch: time.millisecondsSinceEpoch + shift)
            tweet["created_at"] = .string(twitterStyle ? shifted.twitterStyle : shifted.iso8601)
        }
        if shift != 0, let millis = tweet["timestamp_ms"]?.idValue, let value = Int64(millis) {
            tweet["timestamp_ms"] = .string(String(value + shift))
        }
    }
}

extension Timestamp {
    /// `Wed Oct 10 20:19:24 +0000 2018`, as API v1.1 writes `created_at`.
    public var twitterStyle: String {
        let ms = millisecondsSinceEpoch
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (y, m, d) = Timestamp.civilFromDays(Int(days))
        // 1970-01-01 was a Thursday.
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][Int(((days % 7) + 7) % 7)]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(weekday) \(months[m - 1]) \(two(d)) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) +0000 \(y)"
    }
}
