import ChirpCore
import Foundation

/// What the analytics store must answer, computed straight from an input file with dictionaries:
/// no SQL, no rollups. Counts are keyed by bucket start (milliseconds) and key.
struct GroundTruth {
    struct Record {
        var id: String
        var createdMs: Int64
        var hashtags: [String]
        var categories: [String]
        var lang: String
    }

    var records: [Record] = []

    init(files: [String], enricher: Enricher = Enricher()) throws {
        for file in files {
            for line in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n") {
                for tweet in try TweetDecoder.decode(bytes: Array(line.utf8)) {
                    let record = enricher.enrich(tweet, fallbackTime: Timestamp(millisecondsSinceEpoch: 0))
                    records.append(Record(id: record.id, createdMs: record.createdAt.millisecondsSinceEpoch, hashtags: record.hashtags.map(\.key),
                                          categories: record.categories, lang: record.lang ?? "und"))
                }
            }
        }
    }

    var ids: Set<String> { Set(records.map(\.id)) }

    static func floor(_ ms: Int64, _ bucket: Int64) -> Int64 { ms >= 0 ? ms / bucket * bucket : -((-ms + bucket - 1) / bucket) * bucket }

    /// Hashtag occurrences with event time in `[from, to)`.
    func hashtags(from: Int64, to: Int64) -> [String: Int] {
        var counts: [String: Int] = [:]
        for record in records where record.createdMs >= from && record.createdMs < to {
            for tag in record.hashtags { counts[tag, default: 0] += 1 }
        }
        return counts
    }

    /// Hashtag occurrences per clock hour.
    func hashtagsPerHour(from: Int64, to: Int64) -> [Int64: [String: Int]] {
        var counts: [Int64: [String: Int]] = [:]
        for record in records where record.createdMs >= Self.floor(from, 3_600_000) && record.createdMs < to {
            for tag in record.hashtags { counts[Self.floor(record.createdMs, 3_600_000), default: [:]][tag, default: 0] += 1 }
        }
        return counts
    }

    /// Tweets per category per bucket (60 000 or 3 600 000 ms), whole minutes from `from`.
    func categories(from: Int64, to: Int64, bucket: Int64) -> [Int64: [String: Int]] {
        var counts: [Int64: [String: Int]] = [:]
        for record in records where record.createdMs >= Self.floor(from, 60_000) && record.createdMs < to {
            for category in record.categories { counts[Self.floor(record.createdMs, bucket), default: [:]][category, default: 0] += 1 }
        }
        return counts
    }

    /// Tweets per language in the whole hours overlapping `[from, to)`.
    func languages(from: Int64, to: Int64) -> [String: Int] {
        var counts: [String: Int] = [:]
        for record in records where record.createdMs >= Self.floor(from, 3_600_000) && record.createdMs < to {
            counts[record.lang, default: 0] += 1
        }
        return counts
    }
}
