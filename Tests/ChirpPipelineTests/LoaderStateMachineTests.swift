import ChirpPipeline
import Testing

/// The loader's database side, input → action, no socket.
@Suite struct LoaderStateMachineTests {
    typealias Machine = LoaderStateMachine
    static let lost = SinkError(.connectionLost, code: "57P01", message: "terminating connection due to administrator command")
    static let conflict = SinkError(.conflict, code: "40P01", message: "deadlock detected")
    static let refused = SinkError(.refusedData, code: "23514", message: "violates check constraint")
    static let denied = SinkError(.other, code: "42501", message: "permission denied for table tweets")

    @Test func aBatchGoesOutAndItsOffsetsAfterTheCommit() {
        var machine = Machine()
        #expect(machine.settle() == nil)
        #expect(machine.batchReady() == .begin)
        #expect(machine.state == .inFlight)
        // The next batch waits for the answer to this one.
        #expect(machine.batchReady() == .awaitResult)
        #expect(machine.loaded() == .storeOffsets)
        #expect(machine.state == .idle)
        #expect(machine.batchReady() == .begin)
        #expect(machine.settle() == .awaitResult)
    }

    @Test func failuresAreSortedByKind() {
        let table: [(SinkError, Machine.Action, Machine.State)] = [
            (Self.lost, .reconnect(delay: .milliseconds(200)), .reconnecting(attempt: 1)),
            (Self.conflict, .retry(delay: .zero), .retrying(attempt: 1)),
            (Self.refused, .loadRowByRow, .rowByRow(attempt: 1)),
            (Self.denied, .fail(Self.denied), .inFlight),
        ]
        for (error, action, state) in table {
            var machine = Machine()
            _ = machine.batchReady()
            #expect(machine.failed(error) == action, "\(error)")
            #expect(machine.state == state, "\(error)")
        }
    }

    /// A lost connection is made again with growing pauses, whatever a failing reconnect says;
    /// then the batch is dropped and the loader reads again from the database's offsets (the
    /// database may have lost commits it acknowledged, and the batch may have committed or not).
    @Test func aLostConnectionIsMadeAgainWithGrowingPausesThenTheLoaderReadsAgain() {
        var machine = Machine()
        _ = machine.batchReady()
        var delays: [Duration] = []
        for attempt in 1...30 {
            guard case .reconnect(let delay) = machine.failed(attempt == 7 ? Self.denied : Self.lost) else { Issue.record("no reconnect"); return }
            delays.append(delay)
        }
        #expect(delays.prefix(4) == [.milliseconds(200), .milliseconds(400), .milliseconds(600), .milliseconds(800)])
        #expect(delays.last == .seconds(5))
        #expect(machine.state == .reconnecting(attempt: 30))
        #expect(machine.reconnected() == .readAgain)
        #expect(machine.state == .idle)
        #expect(machine.batchReady() == .begin)
    }

    @Test func rowByRowAfterARetryAndAFailureInsideRowByRow() {
        var machine = Machine()
        _ = machine.batchReady()
        #expect(machine.failed(Self.conflict) == .retry(delay: .zero))
        #expect(machine.failed(Self.refused) == .loadRowByRow)
        #expect(machine.state == .rowByRow(attempt: 2))
        // A data error that row by row could not pin on a row is not retried for ever.
        #expect(machine.failed(Self.refused) == .fail(Self.refused))
        // The connection drops during a row-by-row pass: reconnect, then read again.
        var again = Machine()
        _ = again.batchReady()
        #expect(again.failed(Self.refused) == .loadRowByRow)
        #expect(again.failed(Self.lost) == .reconnect(delay: .milliseconds(400)))
        #expect(again.reconnected() == .readAgain)
    }

    @Test func aStoppingLoaderGivesUpAfterAFewTries() {
        var machine = Machine()
        _ = machine.batchReady()
        machine.stop()
        #expect(machine.failed(Self.lost) == .reconnect(delay: .milliseconds(200)))
        #expect(machine.failed(Self.lost) == .reconnect(delay: .milliseconds(400)))
        #expect(machine.failed(Self.lost) == .reconnect(delay: .milliseconds(600)))
        #expect(machine.failed(Self.lost) == .fail(Self.lost))
    }
}
