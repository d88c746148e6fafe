import Testing
@testable import ChirpCore

@Suite struct TimestampTests {
    @Test func parsesTwitterStyle() throws {
        let time = try #require(Timestamp(parsing: "Wed Oct 10 20:19:24 +0000 2018"))
        #expect(time.iso8601 == "2018-10-10T20:19:24.000Z")
        #expect(time.millisecondsSinceEpoch == 1_539_202_764_000)
        #expect(Timestamp(parsing: "Wed Oct 10 22:19:24 +0200 2018") == time)
    }

    @Test func parsesISO8601Variants() throws {
        let reference = try #require(Timestamp(parsing: "2021-09-22T16:37:29.000Z"))
        #expect(reference.millisecondsSinceEpoch == 1_632_328_649_000)
        #expect(Timestamp(parsing: "2021-09-22T16:37:29Z") == reference)
        #expect(Timestamp(parsing: "2021-09-22T18:37:29+02:00") == reference)
        #expect(Timestamp(parsing: "2021-09-22 16:37:29") == reference)
        #expect(Timestamp(parsing: "2021-09-22T16:37:29.5Z")?.millisecondsSinceEpoch == 1_632_328_649_500)
        #expect(Timestamp(parsing: "2021-09-22T16:37:29.123456Z")?.millisecondsSinceEpoch == 1_632_328_649_123)
    }

    @Test(arguments: ["", "yesterday", "2021-02-30T00:00:00Z", "2021-09-22T25:00:00Z", "Wed Foo 10 20:19:24 +0000 2018", "2021-09-22T16:37:29+2"])
    func rejectsNonsense(_ text: String) {
        #expect(Timestamp(parsing: text) == nil)
    }

    @Test func formatsBothStylesAndRoundTrips() throws {
        for ms: Int64 in [0, 951_782_400_000, 1_709_164_800_123, -86_400_000] {
            let time = Timestamp(millisecondsSinceEpoch: ms)
            #expect(Timestamp(parsing: time.iso8601) == time)
            let seconds = Timestamp(millisecondsSinceEpoch: ms / 1000 * 1000)
            #expect(Timestamp(parsing: seconds.twitterStyle) == seconds)
        }
        #expect(Timestamp(millisecondsSinceEpoch: 1_539_202_764_000).twitterStyle == "Wed Oct 10 20:19:24 +0000 2018")
    }
}

@Suite struct TimestampEdgeTests {
    @Test(arguments: [Int64.min, Int64.min + 1, -62_135_596_800_001, 253_402_300_800_000, 99_999_999_999_999_999, Int64.max])
    func formatsAnyInt64WithoutTrappingAndCallsItUnstorable(_ ms: Int64) {
        let time = Timestamp(millisecondsSinceEpoch: ms)
        #expect(!time.isStorable)
        #expect(Timestamp(storableMilliseconds: ms) == nil)
        #expect(time.iso8601.hasSuffix("Z"))
    }

    @Test func theStorableEdgesFormatAndParseBack() throws {
        let first = try #require(Timestamp(storableMilliseconds: -62_135_596_800_000))
        let last = try #require(Timestamp(storableMilliseconds: 253_402_300_799_999))
        #expect(first.iso8601 == "0001-01-01T00:00:00.000Z")
        #expect(last.iso8601 == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp(parsing: first.iso8601) == first)
        #expect(Timestamp(parsing: last.iso8601) == last)
        #expect(Timestamp(millisecondsSinceEpoch: -1).iso8601 == "1969-12-31T23:59:59.999Z")
    }
}

@Suite struct HeaderTimeTests {
    @Test func trustsOnlyDecimalStorableMilliseconds() throws {
        #expect(try RecordHeaders.time(decimal: "1700000000123").get().iso8601 == "2023-11-14T22:13:20.123Z")
        #expect(RecordHeaders.time(decimal: "-9223372036854775808") == .failure(.outOfRange))
        #expect(RecordHeaders.time(decimal: "9223372036854775807") == .failure(.outOfRange))
        #expect(RecordHeaders.time(decimal: "99999999999999999") == .failure(.outOfRange))
        #expect(RecordHeaders.time(decimal: "253402300800000") == .failure(.outOfRange))
        #expect(try RecordHeaders.time(decimal: "253402300799999").get().iso8601 == "9999-12-31T23:59:59.999Z")
        for text in ["", "-", "9223372036854775808", "1.5", "1e12", " 1", "0x1F", "١٢٣"] {
            #expect(RecordHeaders.time(decimal: text) == .failure(.notANumber), "\(text)")
        }
    }

    @Test func readsTheLastHeaderOfTheNameAndTellsAbsence() {
        var headers = RecordHeaders()
        headers.append(Wire.publishedAt, "1700000000123")
        headers.append(Wire.publishedAt, "-9223372036854775808")
        #expect(headers.time(Wire.publishedAt) == .failure(.outOfRange))
        #expect(headers.time(Wire.rawTimestamp) == nil)
        headers.append(Wire.rawTimestamp, nil)
        #expect(headers.time(Wire.rawTimestamp) == nil)
    }
}
