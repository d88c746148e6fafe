import Testing
@testable import ChirpCore

/// A zone with a daylight-saving switch, written out: +01:00, and +02:00 from 2026-03-29T01:00Z
/// until 2026-10-25T01:00Z (Central Europe's 2026 rules), so the tests need no tz database.
struct CentralEurope2026: ZoneRules {
    var identifier: String { "CE" }
    func offset(at instant: Timestamp) -> Int {
        let ms = instant.millisecondsSinceEpoch
        return ms >= 1_774_746_000_000 && ms < 1_792_890_000_000 ? 7200 : 3600
    }
}

@Suite struct TimeExpressionTests {
    // Monday 2026-11-23 14:05:30 UTC.
    let now = Timestamp(parsing: "2026-11-23T14:05:30Z")!

    func at(_ text: String, zone: some ZoneRules = FixedOffset.utc) throws -> String {
        try TimeExpression.instant(text, now: now, zone: zone).iso8601
    }

    @Test func durations() throws {
        #expect(try TimeExpression.duration("90s") == 90_000)
        #expect(try TimeExpression.duration("1h30m") == 5_400_000)
        #expect(try TimeExpression.duration("24h") == 86_400_000)
        #expect(try TimeExpression.duration("7d") == 604_800_000)
        #expect(try TimeExpression.duration("2w") == 1_209_600_000)
        for bad in ["", "h", "10", "1x", "0m", "-1h"] {
            #expect(throws: TimeExpressionError.self, "\(bad)") { try TimeExpression.duration(bad) }
        }
    }

    @Test func relativeAndAbsoluteTimes() throws {
        #expect(try at("now") == "2026-11-23T14:05:30.000Z")
        #expect(try at("now-2h") == "2026-11-23T12:05:30.000Z")
        #expect(try at("now - 30m") == "2026-11-23T13:35:30.000Z")
        #expect(try at("-1d") == "2026-11-22T14:05:30.000Z")
        #expect(try at("2h ago") == "2026-11-23T12:05:30.000Z")
        #expect(try at("2026-11-16T07:00:00Z") == "2026-11-16T07:00:00.000Z")
        #expect(try at("2026-11-16T07:00:00+05:30") == "2026-11-16T01:30:00.000Z")
    }

    @Test func wallClockTimesInAZone() throws {
        let india = FixedOffset(seconds: 19_800)
        #expect(try at("2026-11-16 07:00", zone: india) == "2026-11-16T01:30:00.000Z")
        #expect(try at("2026-11-16T07:00", zone: india) == "2026-11-16T01:30:00.000Z")
        #expect(try at("2026-11-16", zone: india) == "2026-11-15T18:30:00.000Z")
        #expect(try at("07:00") == "2026-11-23T07:00:00.000Z")
        #expect(try at("today") == "2026-11-23T00:00:00.000Z")
        #expect(try at("yesterday 23:30") == "2026-11-22T23:30:00.000Z")
        // Now is a Monday: "monday" is today, "last monday" the week before.
        #expect(try at("monday 07:00") == "2026-11-23T07:00:00.000Z")
        #expect(try at("last monday 07:00") == "2026-11-16T07:00:00.000Z")
        #expect(try at("Friday") == "2026-11-20T00:00:00.000Z")
        #expect(try at("last sunday 08:00:15") == "2026-11-22T08:00:15.000Z")
        // In the zone, "today" at 00:30 local is already Tuesday when UTC is 23:00 Monday.
        let late = Timestamp(parsing: "2026-11-23T23:00:00Z")!
        #expect(try TimeExpression.instant("today", now: late, zone: FixedOffset(seconds: 7200)).iso8601 == "2026-11-23T22:00:00.000Z")
    }

    @Test func daylightSavingIsHonoured() throws {
        let zone = CentralEurope2026()
        #expect(try at("2026-07-01 12:00", zone: zone) == "2026-07-01T10:00:00.000Z")
        #expect(try at("2026-12-01 12:00", zone: zone) == "2026-12-01T11:00:00.000Z")
        // 02:30 on 2026-03-29 does not exist (clocks jump 02:00 → 03:00): read with the offset before.
        #expect(try at("2026-03-29 02:30", zone: zone) == "2026-03-29T01:30:00.000Z")
        // 02:30 on 2026-10-25 happens twice: the earlier one.
        #expect(try at("2026-10-25 02:30", zone: zone) == "2026-10-25T00:30:00.000Z")
        #expect(LocalDateTime(Timestamp(parsing: "2026-10-25T01:30:00Z")!, in: zone).description == "2026-10-25 02:30")
    }

    @Test(arguments: ["the day before", "2026-13-01", "2026-02-30 10:00", "25:00", "last", "monday 7", "now+2h", "2026-11-16T07:00Z+"])
    func badExpressionsAreRefusedWithHelp(_ text: String) {
        #expect {
            try TimeExpression.instant(text, now: now, zone: FixedOffset.utc)
        } throws: { error in
            "\(error)".contains("bad time expression '\(text)'") && "\(error)".contains("now-2h")
        }
    }

    @Test func windows() throws {
        let last = try TimeWindow.resolve(last: "1h", from: nil, to: nil, defaultLast: "24h", now: now, zone: FixedOffset.utc)
        #expect(last.description == "2026-11-23T13:05:30.000Z – 2026-11-23T14:05:30.000Z")
        let fallback = try TimeWindow.resolve(last: nil, from: nil, to: nil, defaultLast: "24h", now: now, zone: FixedOffset.utc)
        #expect(fallback.from.iso8601 == "2026-11-22T14:05:30.000Z")
        let past = try TimeWindow.resolve(last: nil, from: "last monday 07:00", to: "last monday 08:00", defaultLast: "1h", now: now, zone: FixedOffset.utc)
        #expect(past.describe(in: FixedOffset.utc) == "2026-11-16 07:00 – 2026-11-16 08:00 UTC")
        #expect(throws: TimeExpressionError.self) {
            try TimeWindow.resolve(last: nil, from: "08:00", to: "07:00", defaultLast: "1h", now: now, zone: FixedOffset.utc)
        }
        #expect(throws: TimeExpressionError.self) {
            try TimeWindow.resolve(last: "1h", from: "08:00", to: nil, defaultLast: "1h", now: now, zone: FixedOffset.utc)
        }
    }
}
