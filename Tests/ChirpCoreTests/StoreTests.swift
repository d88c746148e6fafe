import Testing
@testable import ChirpCore
@testable import ChirpStore

@Suite struct CopyTextEncoderTests {
    @Test func escapesTextArraysAndNulls() {
        var encoder = CopyTextEncoder()
        encoder.text("a\tb\\c\nd\r")
        encoder.text(nil)
        encoder.int(Int64(-5))
        encoder.bool(true)
        encoder.textArray(["x", "q\"uote", "back\\slash", "tab\there"])
        encoder.endRow()
        let expected = "a\\tb\\\\c\\nd\\r\t\\N\t-5\tt\t{\"x\",\"q\\\\\"uote\",\"back\\\\\\\\slash\",\"tab\\there\"}\n"
        #expect(String(decoding: encoder.bytes, as: UTF8.self) == expected)
        #expect(encoder.rowCount == 1)
    }

    @Test func batchTracksNextOffsetsPerPartition() {
        var batch = TweetBatch()
        let tweet = Enricher().enrich(Tweet(id: "1", text: "x", format: .minimal), fallbackTime: Timestamp(millisecondsSinceEpoch: 0))
        batch.append(tweet, provenance: LoadProvenance(topic: "t", partition: 0, offset: 41, publishedAt: nil))
        batch.append(tweet, provenance: LoadProvenance(topic: "t", partition: 0, offset: 40, publishedAt: nil))
        batch.noteOffset(topic: "t", partition: 3, offset: 9)
        #expect(batch.count == 2)
        #expect(batch.nextOffsets["t"]?[0] == 42)
        #expect(batch.nextOffsets["t"]?[3] == 10)
    }

    @Test func migrationsAreNumberedInOrder() {
        #expect(Migrations.all.map(\.version) == Array(1...Migrations.all.count))
    }
}
