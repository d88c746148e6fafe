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
            (Self.lost, .retry(reconnect: true, delay: .milliseconds(200)), .retrying(attempt: 1)),
            (Self.conflict, .retry(reconnect: false, delay: .zero), .retrying(attempt: 1)),
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

    @Test func aLostConnectionIsRetriedWithGrowingPausesUntilItComesBack() {
        var machine = Machine()
        _ = machine.batchReady()
        var delays: [Duration] = []
        for _ in 1...30 {
            guard case .retry(true, let delay) = machine.failed(Self.lost) else { Issue.record("no retry"); return }
            delays.append(delay)
        }
        #expect(delays.prefix(4) == [.milliseconds(200), .milliseconds(400), .milliseconds(600), .milliseconds(800)])
        #expect(delays.last == .seconds(5))
        #expect(machine.state == .retrying(attempt: 30))
        #expect(machine.loaded() == .storeOffsets)
        #expect(machine.state == .idle)
    }

    @Test func rowByRowAfterARetryAndAFailureInsideRowByRow() {
        var machine = Machine()
        _ = machine.batchReady()
        #expect(machine.failed(Self.conflict) == .retry(reconnect: false, delay: .zero))
        #expect(machine.failed(Self.refused) == .loadRowByRow)
        #expect(machine.state == .rowByRow(attempt: 2))
        // The connection drops during the row-by-row pass: reconnect and load the batch again.
        #expect(machine.failed(Self.lost) == .retry(reconnect: true, delay: .milliseconds(600)))
        #expect(machine.failed(Self.refused) == .loadRowByRow)
        // A data error that row by row could not pin on a row is not retried for ever.
        #expect(machine.failed(Self.refused) == .fail(Self.refused))
    }

    @Test func aStoppingLoaderGivesUpAfterAFewTries() {
        var machine = Machine()
        _ = machine.batchReady()
        machine.stop()
        #expect(machine.failed(Self.lost) == .retry(reconnect: true, delay: .milliseconds(200)))
        #expect(machine.failed(Self.lost) == .retry(reconnect: true, delay: .milliseconds(400)))
        #expect(machine.failed(Self.lost) == .retry(reconnect: true, delay: .milliseconds(600)))
        #expect(machine.failed(Self.lost) == .fail(Self.lost))
    }
}
