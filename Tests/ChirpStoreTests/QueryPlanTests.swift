import Testing
@testable import ChirpCore
@testable import ChirpStore

@Suite struct TrendQueryTests {
    func window(_ from: String, _ to: String) -> TimeWindow {
        TimeWindow(from: Timestamp(parsing: from)!, to: Timestamp(parsing: to)!)
    }

    func piece(_ from: String, _ to: String, _ sign: Int) -> TrendQueries.SignedPiece {
        TrendQueries.SignedPiece(window: window(from, to), sign: sign)
    }

    @Test func aSlidingHourIsWholeMinutesAndTwoPartialOnes() {
        let plan = TrendQueries.plan(window("2026-11-23T13:05:30Z", "2026-11-23T14:05:30Z"))
        #expect(plan.hours == nil)
        #expect(plan.minutes == [window("2026-11-23T13:06:00Z", "2026-11-23T14:05:00Z")])
        #expect(plan.edges == [window("2026-11-23T13:05:30Z", "2026-11-23T13:06:00Z"), window("2026-11-23T14:05:00Z", "2026-11-23T14:05:30Z")])
        #expect(plan.edgeMinutes == [window("2026-11-23T13:05:00Z", "2026-11-23T13:06:00Z"), window("2026-11-23T14:05:00Z", "2026-11-23T14:06:00Z")])
        // Ends on whole slots: the partial minutes are whole slots, no facts.
        #expect(plan.slots == plan.edges && plan.counted.isEmpty)
    }

    @Test func wholeHoursThenWholeMinutesThenSlotsThenTheFacts() {
        let plan = TrendQueries.plan(window("2026-11-23T10:20:07.250Z", "2026-11-23T13:05:00Z"))
        #expect(plan.hours == window("2026-11-23T11:00:00Z", "2026-11-23T13:00:00Z"))
        #expect(plan.minutes == [window("2026-11-23T10:21:00Z", "2026-11-23T11:00:00Z"), window("2026-11-23T13:00:00Z", "2026-11-23T13:05:00Z")])
        #expect(plan.edges == [window("2026-11-23T10:20:07.250Z", "2026-11-23T10:21:00Z")])
        #expect(plan.edgeMinutes == [window("2026-11-23T10:20:00Z", "2026-11-23T10:21:00Z")])
        #expect(plan.slots == [window("2026-11-23T10:20:10Z", "2026-11-23T10:21:00Z")])
        #expect(plan.counted == [piece("2026-11-23T10:20:07.250Z", "2026-11-23T10:20:10Z", 1)])
        let aligned = TrendQueries.plan(window("2026-11-23T10:00:00Z", "2026-11-23T12:00:00Z"))
        #expect(aligned.hours == window("2026-11-23T10:00:00Z", "2026-11-23T12:00:00Z"))
        #expect(aligned.minutes.isEmpty && aligned.edges.isEmpty && aligned.edgeMinutes.isEmpty && aligned.slots.isEmpty && aligned.counted.isEmpty)
    }

    @Test func aPartialSlotLongerThanHalfASlotIsCountedByItsComplement() {
        let plan = TrendQueries.plan(window("2026-11-23T13:05:13Z", "2026-11-23T14:05:48Z"))
        #expect(plan.counted == [piece("2026-11-23T13:05:10Z", "2026-11-23T13:05:13Z", -1), piece("2026-11-23T14:05:48Z", "2026-11-23T14:05:50Z", -1)])
        #expect(plan.slots == [window("2026-11-23T13:05:10Z", "2026-11-23T13:06:00Z"), window("2026-11-23T14:05:00Z", "2026-11-23T14:05:50Z")])
        // Half a slot or less: the partial slot itself.
        let short = TrendQueries.plan(window("2026-11-23T13:05:17Z", "2026-11-23T14:05:44Z"))
        #expect(short.counted == [piece("2026-11-23T13:05:17Z", "2026-11-23T13:05:20Z", 1), piece("2026-11-23T14:05:40Z", "2026-11-23T14:05:44Z", 1)])
        #expect(short.slots == [window("2026-11-23T13:05:20Z", "2026-11-23T13:06:00Z"), window("2026-11-23T14:05:00Z", "2026-11-23T14:05:40Z")])
        // Inside one slot, touching neither end: no complement in one piece.
        let inside = TrendQueries.plan(window("2026-11-23T10:20:11Z", "2026-11-23T10:20:19Z"))
        #expect(inside.counted == [piece("2026-11-23T10:20:11Z", "2026-11-23T10:20:19Z", 1)] && inside.slots.isEmpty)
        // Inside one slot from its start: the rest of the slot.
        let start = TrendQueries.plan(window("2026-11-23T10:20:10Z", "2026-11-23T10:20:17Z"))
        #expect(start.counted == [piece("2026-11-23T10:20:17Z", "2026-11-23T10:20:20Z", -1)])
        #expect(start.slots == [window("2026-11-23T10:20:10Z", "2026-11-23T10:20:20Z")])
        // Across one slot boundary, holding no whole slot: a partial slot either side of it.
        let across = TrendQueries.plan(window("2026-11-23T10:20:07Z", "2026-11-23T10:20:13Z"))
        #expect(across.counted == [piece("2026-11-23T10:20:07Z", "2026-11-23T10:20:10Z", 1), piece("2026-11-23T10:20:10Z", "2026-11-23T10:20:13Z", 1)])
        #expect(across.slots.isEmpty)
        let wide = TrendQueries.plan(window("2026-11-23T10:20:01Z", "2026-11-23T10:20:19Z"))
        #expect(wide.counted == [piece("2026-11-23T10:20:00Z", "2026-11-23T10:20:01Z", -1), piece("2026-11-23T10:20:19Z", "2026-11-23T10:20:20Z", -1)])
        #expect(wide.slots == [window("2026-11-23T10:20:00Z", "2026-11-23T10:20:20Z")])
        // Inside one minute, both ends past half their slots: the minute's slots less 3 s at each end.
        let both = TrendQueries.plan(window("2026-11-23T10:20:03Z", "2026-11-23T10:20:57Z"))
        #expect(both.counted == [piece("2026-11-23T10:20:00Z", "2026-11-23T10:20:03Z", -1), piece("2026-11-23T10:20:57Z", "2026-11-23T10:21:00Z", -1)])
        #expect(both.slots == [window("2026-11-23T10:20:00Z", "2026-11-23T10:21:00Z")])
    }

    @Test func aWindowInsideOneOrTwoMinutesIsSlotsAndFacts() {
        let inside = TrendQueries.plan(window("2026-11-23T10:20:07Z", "2026-11-23T10:21:30Z"))
        #expect(inside.hours == nil && inside.minutes.isEmpty)
        #expect(inside.edges == [window("2026-11-23T10:20:07Z", "2026-11-23T10:21:30Z")])
        #expect(inside.edgeMinutes == [window("2026-11-23T10:20:00Z", "2026-11-23T10:22:00Z")])
        #expect(inside.slots == [window("2026-11-23T10:20:10Z", "2026-11-23T10:21:30Z")])
        #expect(inside.counted == [piece("2026-11-23T10:20:07Z", "2026-11-23T10:20:10Z", 1)])
        let empty = TrendQueries.plan(window("2026-11-23T10:20:07Z", "2026-11-23T10:20:07Z"))
        #expect(empty.edges.isEmpty && empty.minutes.isEmpty && empty.hours == nil && empty.slots.isEmpty && empty.counted.isEmpty)
    }

    @Test func topHashtagsBindsThePlan() {
        let query = TrendQueries.topHashtags(window("2026-11-23T10:20:30Z", "2026-11-23T12:00:00Z"), limit: 5)
        let unused = "1970-01-01T00:00:00Z"
        #expect(query.parameters == ["2026-11-23T11:00:00.000Z", "2026-11-23T12:00:00.000Z",
                                     "2026-11-23T10:21:00.000Z", "2026-11-23T11:00:00.000Z", unused, unused,
                                     unused, unused, unused, unused,
                                     "2026-11-23T10:20:00.000Z", "2026-11-23T10:21:00.000Z", unused, unused, "5",
                                     "0", "0", "2026-11-23T10:20:30.000Z", "2026-11-23T10:21:00.000Z", unused, unused,
                                     "2026-11-23T10:00:00.000Z", "2026-11-23T12:00:00.000Z", "30"])
        // Both partial slots (10:20:34 to :40, 10:23:40 to :47) are longer than half a slot: their
        // slots' rollup rows less the facts of 10:20:30 to :34 and 10:23:47 to :50.
        let complement = TrendQueries.topHashtags(window("2026-11-23T10:20:34Z", "2026-11-23T10:23:47Z"), limit: 5)
        #expect(complement.parameters == [unused, unused, "2026-11-23T10:21:00.000Z", "2026-11-23T10:23:00.000Z", unused, unused,
                                          "2026-11-23T10:20:30.000Z", "2026-11-23T10:20:34.000Z", "2026-11-23T10:23:47.000Z", "2026-11-23T10:23:50.000Z",
                                          "2026-11-23T10:20:00.000Z", "2026-11-23T10:21:00.000Z", "2026-11-23T10:23:00.000Z", "2026-11-23T10:24:00.000Z", "5",
                                          "-1", "-1", "2026-11-23T10:20:30.000Z", "2026-11-23T10:21:00.000Z", "2026-11-23T10:23:00.000Z", "2026-11-23T10:23:50.000Z",
                                          "2026-11-23T10:00:00.000Z", "2026-11-23T11:00:00.000Z", "30"])
        // The hours' lists: every clock hour the window touches, to the depth asked for. None (depth
        // 0) for an empty window, a limit above the depth, or more than eight days of hours.
        #expect(TrendQueries.topHashtags(window("2026-11-23T10:59:59Z", "2026-11-23T11:00:01Z"), limit: 5, depth: 7).parameters.suffix(3)
                == ["2026-11-23T10:00:00.000Z", "2026-11-23T12:00:00.000Z", "7"])
        #expect(TrendQueries.topHashtags(window("2026-11-23T10:20:07Z", "2026-11-23T10:20:07Z"), limit: 5).parameters.suffix(3)
                == [unused, unused, "0"])
        #expect(TrendQueries.topHashtags(window("2026-11-23T10:20:07Z", "2026-11-23T11:20:07Z"), limit: 31).parameters.suffix(3)
                == [unused, unused, "0"])
        #expect(TrendQueries.topHashtags(window("2026-11-15T10:00:00Z", "2026-11-23T10:00:00Z"), limit: 10).parameters.suffix(3)
                == ["2026-11-15T10:00:00.000Z", "2026-11-23T10:00:00.000Z", "30"])
        #expect(TrendQueries.topHashtags(window("2026-11-15T10:00:00Z", "2026-11-23T10:00:01Z"), limit: 10).parameters.suffix(3)
                == [unused, unused, "0"])
        let hourly = TrendQueries.hourlyTopHashtags(window("2026-11-23T10:20:00Z", "2026-11-23T12:00:00Z"), limit: 3)
        #expect(hourly.parameters == ["2026-11-23T10:00:00.000Z", "2026-11-23T12:00:00.000Z", "3"])
    }
}

@Suite struct ReportTests {
    @Test func tablesAlignAndBarsScale() {
        let table = Report.table(["#", "hashtag", "count"], [["1", "#pizza", "1 204"], ["10", "#東京", "7"]], rightAligned: [0, 2])
        #expect(table == """
             #  hashtag  count
            --  -------  -----
             1  #pizza   1 204
            10  #東京          7
            """)
        #expect(Report.bar(100, max: 100, width: 4) == "████")
        #expect(Report.bar(50, max: 100, width: 4) == "██")
        #expect(Report.bar(55, max: 100, width: 4) == "██▎")
        #expect(Report.bar(1, max: 1000, width: 4) == "▏")
        #expect(Report.bar(0, max: 1000, width: 4) == "")
        #expect(Report.number(1_234_567) == "1 234 567")
        #expect(Report.number(-12) == "-12")
    }
}

@Suite struct RawPayloadTests {
    @Test func partitionDaysAreUTCDays() {
        func day(_ iso: String) -> Int64 {
            RawPayload(bytes: [], receivedAt: Timestamp(parsing: iso)!, topic: "t", partition: 0, offset: 0).partitionDay
        }
        #expect(day("1970-01-01T23:59:59Z") == 0)
        #expect(day("1970-01-02T00:00:00Z") == 1)
        #expect(day("1969-12-31T23:59:59Z") == -1)
        #expect(day("2026-11-23T14:00:00Z") == 20_780)
    }

    @Test func batchesCarryRawColumnsAndDays() throws {
        var batch = TweetBatch()
        let tweet = Enricher().enrich(Tweet(id: "1", text: "x", format: .minimal), fallbackTime: Timestamp(millisecondsSinceEpoch: 0))
        let raw = RawPayload(bytes: Array(#"{"id":"1","text":"x"}"#.utf8), receivedAt: Timestamp(parsing: "2026-11-23T14:00:00Z")!,
                             topic: "tweets.raw", partition: 2, offset: 7)
        batch.append(tweet, provenance: LoadProvenance(topic: "e", partition: 0, offset: 1, publishedAt: nil, raw: raw))
        batch.append(tweet, provenance: LoadProvenance(topic: "e", partition: 0, offset: 2, publishedAt: nil))
        // A payload of several tweets: its bytes in the document column of the first, none in the others.
        var first = raw, later = raw
        first.storage = .document(Array("doc".utf8))
        later.storage = .inDocument
        batch.append(tweet, provenance: LoadProvenance(topic: "e", partition: 0, offset: 3, publishedAt: nil, raw: first))
        batch.append(tweet, provenance: LoadProvenance(topic: "e", partition: 0, offset: 4, publishedAt: nil, raw: later))
        #expect(batch.rawDays == [20_780])
        let rows = try CopyBinaryRows(batch.copy.bytes).rows
        #expect(rows.map(\.count) == [25, 25, 25, 25])
        let position: [[UInt8]?] = [[0x00, 0x03, 0x03, 0xF0, 0xC7, 0x3F, 0x98, 0x00], Array("tweets.raw".utf8), [0, 0, 0, 2], [0, 0, 0, 0, 0, 0, 0, 7]]
        #expect(Array(rows[0].suffix(6)) == [Array(#"{"id":"1","text":"x"}"#.utf8), nil] + position)
        let receivedAt: Int64 = (1_795_442_400_000 - 946_684_800_000) * 1000  // microseconds since 2000-01-01
        #expect(CopyBinaryRows.int64(rows[0][21]) == receivedAt)
        #expect(Array(rows[1].suffix(6)) == Array(repeating: nil, count: 6))
        #expect(Array(rows[2].suffix(6)) == [nil, Array("doc".utf8)] + position)
        #expect(Array(rows[3].suffix(6)) == [nil, nil] + position)
        // Each row alone, for loading row by row: the same fields, framed as a stream of its own.
        for index in 0..<4 {
            let single = batch.row(index)
            #expect(single.count == 1)
            #expect(single.ids == ["1"])
            #expect(try CopyBinaryRows(single.copy.bytes).rows == [rows[index]])
            #expect(single.nextOffsets.isEmpty)
            // Its own raw day only (row 1 has no raw copy): a refused day refuses that row alone.
            #expect(single.rawDays == (index == 1 ? [] : [20_780]))
        }
    }
}
