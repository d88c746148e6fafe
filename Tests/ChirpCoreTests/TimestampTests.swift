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
