// libFuzzer entry point for the parsers at the pipeline's boundaries (built by `make fuzz` together
// with ChirpCore's and ChirpStore's sources and the health server's request parser as one module,
// with -sanitize=fuzzer,address). Any input must neither crash nor break these invariants:
// - JSON: a parsed document re-serializes to bytes that parse to the same document;
// - tweets: every decoded tweet enriches, and the enriched record decodes back to itself;
// - files: the streaming splitter gives the same documents whatever the chunk size;
// - text rules: hashtags, mentions and categories are total on any string, and every extracted
//   hashtag occurs in the text after a hash sign;
// - Kafka record headers (the input read as length-prefixed names and values): every lookup,
//   integer and time read is total, and a time read is storable;
// - the enriched-record decoder the loader uses: a record that decodes goes into a COPY batch
//   (the loader's encoder) whose stream is framed (signature, one row, trailer);
// - the health server's request line, and the CLI's time expressions (durations and instants),
//   whose results are storable times.

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

    fuzzHeaders(bytes)
    fuzzEnrichedToCopy(bytes)
    if let request = HTTPRequest.parse(bytes) {
        precondition(request.path.hasPrefix("/"), "request path without a slash")
    }
    _ = try? TimeExpression.duration(text)
    if let instant = try? TimeExpression.instant(text, now: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000), zone: FixedOffset(seconds: 3600)) {
        _ = instant.iso8601
    }
    return 0
}

/// The input as headers: a byte of name length, the name, a byte of value length (255: no
/// value), the value; then every read a consumer makes.
private func fuzzHeaders(_ bytes: [UInt8]) {
    var headers = RecordHeaders()
    var names: [[UInt8]] = []
    var at = 0
    while at < bytes.count {
        let nameLength = Int(bytes[at]) % 32
        at += 1
        let name = Array(bytes[min(at, bytes.count)..<min(at + nameLength, bytes.count)])
        at += nameLength
        guard at < bytes.count else { break }
        let valueLength = Int(bytes[at])
        at += 1
        let value = valueLength == 255 ? nil : Array(bytes[min(at, bytes.count)..<min(at + valueLength, bytes.count)])
        at += value?.count ?? 0
        name.withUnsafeBytes { nameBytes in
            if let value {
                value.withUnsafeBytes { headers.append(name: nameBytes, value: $0) }
            } else {
                headers.append(name: nameBytes, value: nil)
            }
        }
        names.append(name)
    }
    var seen = 0
    headers.forEach { _, _ in seen += 1 }
    precondition(seen == headers.count, "headers lost in storage")
    for name in names + [Array(Wire.publishedAt.utf8), Array(Wire.rawTimestamp.utf8)] {
        let key = String(decoding: name, as: UTF8.self)
        _ = headers[key]
        _ = headers.int64(key)
        if case .success(let time)? = headers.time(key) { precondition(time.isStorable, "header time not storable") }
    }
}

/// A record that decodes as an enriched tweet becomes a COPY row, as the loader makes it.
private func fuzzEnrichedToCopy(_ bytes: [UInt8]) {
    guard let tweet = try? EnrichedTweet.decode(bytes) else { return }
    precondition(tweet.createdAt.isStorable, "decoded a time the store cannot hold")
    var batch = TweetBatch()
    let raw = RawPayload(bytes: bytes, receivedAt: tweet.createdAt, topic: "tweets.raw", partition: 1, offset: Int64(bytes.count))
    batch.append(tweet, provenance: LoadProvenance(topic: "tweets.enriched", partition: 0, offset: 7, publishedAt: tweet.createdAt, raw: raw))
    let stream = batch.copy.bytes
    precondition(batch.copy.rowCount == 1 && batch.ids == [tweet.id], "one row per tweet")
    precondition(stream.starts(with: Array("PGCOPY\n".utf8)) && stream.suffix(2) == [0xFF, 0xFF], "COPY stream framing")
    precondition(batch.row(0).copy.bytes == stream, "a row alone is the same stream")
}

private func containsBytes(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        if Array(haystack[start..<(start + needle.count)]) == needle { return true }
    }
    return false
}
