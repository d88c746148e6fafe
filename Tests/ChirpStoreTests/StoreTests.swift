import Testing
@testable import ChirpCore
@testable import ChirpStore

/// Reads a binary COPY stream back into rows of fields (nil for NULL), checking its framing.
struct CopyBinaryRows {
    var rows: [[[UInt8]?]] = []

    init(_ bytes: [UInt8]) throws {
        func int<T: FixedWidthInteger>(_ type: T.Type, at offset: inout Int) throws -> T {
            guard offset + MemoryLayout<T>.size <= bytes.count else { throw CopyFramingError(offset: offset) }
            let value = bytes[offset..<offset + MemoryLayout<T>.size].reduce(T.zero) { $0 << 8 | T(truncatingIfNeeded: $1) }
            offset += MemoryLayout<T>.size
            return value
        }
        guard Array(bytes.prefix(11)) == CopyBinaryEncoder.signature else { throw CopyFramingError(offset: 0) }
        var offset = 11
        guard try int(Int32.self, at: &offset) == 0, try int(Int32.self, at: &offset) == 0 else { throw CopyFramingError(offset: offset) }
        while true {
            let fields = try int(Int16.self, at: &offset)
            if fields == -1 { break }
            var row: [[UInt8]?] = []
            for _ in 0..<fields {
                let length = try int(Int32.self, at: &offset)
                if length < 0 { row.append(nil); continue }
                guard offset + Int(length) <= bytes.count else { throw CopyFramingError(offset: offset) }
                row.append(Array(bytes[offset..<offset + Int(length)]))
                offset += Int(length)
            }
            rows.append(row)
        }
        guard offset == bytes.count else { throw CopyFramingError(offset: offset) }
    }

    static func int64(_ field: [UInt8]?) -> Int64? { field.map { $0.reduce(Int64(0)) { $0 << 8 | Int64($1) } } }
}

struct CopyFramingError: Error { var offset: Int }

@Suite struct CopyBinaryEncoderTests {
    @Test func writesFramedFieldsInSendFormat() throws {
        var encoder = CopyBinaryEncoder()
        #expect(try CopyBinaryRows(encoder.bytes).rows.isEmpty, "an empty stream is complete")
        encoder.text("a\tb\\c\nd\r")
        encoder.text(nil)
        encoder.int64(-5)
        encoder.int32(7)
        encoder.bool(true)
        encoder.timestamp(Timestamp(millisecondsSinceEpoch: 946_684_800_001))
        encoder.textArray(["x", "q\"uote", "nul\u{0}dropped"])
        encoder.textArray([])
        encoder.endRow()
        encoder.utf8(Array("ü".utf8))
        encoder.endRow()
        let rows = try CopyBinaryRows(encoder.bytes).rows
        #expect(encoder.rowCount == 2)
        #expect(rows.count == 2)
        #expect(rows[0].count == 8)
        #expect(rows[0][0] == Array("a\tb\\c\nd\r".utf8), "text goes as is, no escapes")
        #expect(rows[0][1] == nil)
        #expect(rows[0][2] == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFB])
        #expect(rows[0][3] == [0, 0, 0, 7])
        #expect(rows[0][4] == [1])
        #expect(CopyBinaryRows.int64(rows[0][5]) == 1000, "microseconds since 2000-01-01")
        let array: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25, 0, 0, 0, 3, 0, 0, 0, 1,
                              0, 0, 0, 1] + Array("x".utf8) + [0, 0, 0, 6] + Array("q\"uote".utf8)
                              + [0, 0, 0, 10] + Array("nuldropped".utf8)
        #expect(rows[0][6] == array)
        #expect(rows[0][7] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25], "no dimensions")
        #expect(rows[1] == [[0xC3, 0xBC]])
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
