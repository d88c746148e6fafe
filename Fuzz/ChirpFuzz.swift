// libFuzzer entry point for ChirpCore (built by `make fuzz` together with ChirpCore's sources as one
// module, with -sanitize=fuzzer,address). Any input must neither crash nor break these invariants:
// - JSON: a parsed document re-serializes to bytes that parse to the same document;
// - tweets: every decoded tweet enriches, and the enriched record decodes back to itself;
// - files: the streaming splitter gives the same documents whatever the chunk size;
// - text rules: hashtags, mentions and categories are total on any string, and every extracted
//   hashtag occurs in the text after a hash sign.

private let matcher = CategoryMatcher(.default)
private let enricher = Enricher()

@_cdecl("LLVMFuzzerTestOneInput")
public func chirpFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    if let value = try? JSONParser.parse(bytes) {
        let again = try? JSONParser.parse(value.serialized)
        precondition(again == value, "JSON round trip changed the document")
    }

    if let tweets = try? TweetDecoder.decode(bytes: bytes, maximumBytes: 1 << 20) {
        for tweet in tweets {
            let record = enricher.enrich(tweet, fallbackTime: Timestamp(millisecondsSinceEpoch: 0))
            let decoded = try? EnrichedTweet.decode(record.encoded())
            precondition(decoded == record, "enriched record did not round-trip")
        }
    }

    var whole = JSONDocumentSplitter()
    let all = (whole.feed(bytes) + whole.finish()).map(\.bytes)
    var chunked = JSONDocumentSplitter()
    var pieces: [[UInt8]] = []
    var index = 0
    let step = max(1, size % 7 + 1)
    while index < bytes.count {
        pieces += chunked.feed(bytes[index..<min(bytes.count, index + step)]).map(\.bytes)
        index += step
    }
    pieces += chunked.finish().map(\.bytes)
    precondition(all == pieces, "splitter depends on chunk boundaries")
    _ = TweetFile.read(bytes)

    // Compared as UTF-8 bytes: `String.contains` works on grapheme clusters, and a tag's last
    // letter may share a cluster with what follows it (an emoji modifier, say).
    let text = String(decoding: bytes, as: UTF8.self)
    let textBytes = Array(text.utf8)
    for tag in HashtagExtractor.extractDisplay(text) {
        precondition(containsBytes(textBytes, Array(("#" + tag).utf8)) || containsBytes(textBytes, Array(("＃" + tag).utf8)),
                     "hashtag not in text")
    }
    _ = MentionExtractor.extract(text)
    _ = matcher.categories(for: text)
    if let time = Timestamp(parsing: text) {
        precondition(Timestamp(parsing: time.iso8601) == time, "timestamp round trip")
    }
    return 0
}

private func containsBytes(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        if Array(haystack[start..<(start + needle.count)]) == needle { return true }
    }
    return false
}
