/// The loader's database side as an explicit state machine: at most one batch in the database
/// at a time, what to do with its answer, and how a failed batch is loaded again. Inputs are what
/// happened; outputs are the actions the loop performs. No I/O, no clock: tested as tables of
/// input → action.
///
/// A batch's rows and its next offsets go in one transaction, so the database knows exactly what
/// is loaded; Kafka hears of the offsets (`storeOffsets`) only once that transaction committed.
/// A lost connection drops the batch: once connected again, the loader reads again from the
/// offsets the database holds, since it may have lost commits it had acknowledged (asynchronous
/// commit and a crash, a failover), and the batch whose answer was lost may have committed or not.
public struct LoaderStateMachine: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// No batch in the database.
        case idle
        /// A batch's statement and COMMIT are sent; its answer has not been read.
        case inFlight
        /// The batch failed `attempt` times; it is loaded again whole.
        case retrying(attempt: Int)
        /// The connection is lost; reconnecting, attempt `attempt`.
        case reconnecting(attempt: Int)
        /// PostgreSQL refused some row; the batch is loaded row by row.
        case rowByRow(attempt: Int)
    }

    public enum Action: Sendable, Equatable {
        /// Send the prepared batch (`TweetSink.beginLoad`).
        case begin
        /// Read the in-flight batch's answer (`TweetSink.finishLoad`); may wait for the database.
        case awaitResult
        /// The batch is committed: hand its offsets to the consumer.
        case storeOffsets
        /// Load the batch again, whole, after `delay` (a conflict: on the same connection).
        case retry(delay: Duration)
        /// Connect anew after `delay` (`reconnected` or `failed` next).
        case reconnect(delay: Duration)
        /// Connected again: drop the batch and read again from the offsets the database holds.
        case readAgain
        /// Load the batch row by row, skipping (and counting) the refused rows.
        case loadRowByRow
        /// Give up on the batch and stop: the error is not the data's and not passing. A restart
        /// resumes from the offsets stored with the rows.
        case fail(SinkError)
    }

    public private(set) var state: State = .idle
    /// Set by `stop`: a failing batch is tried a few times more, then given up.
    public private(set) var stopping = false

    /// Tries after which a stopping loader gives up on a failing batch.
    public static let attemptsWhenStopping = 3

    public init() {}

    /// The pause before the `attempt`-th retry after a lost connection: growing, at most 5 s.
    public static func backoff(attempt: Int) -> Duration {
        .milliseconds(min(5000, 200 * attempt))
    }

    /// A batch is ready to go. While another is in the database its answer is read first (the
    /// loop then calls this again); otherwise the batch is sent.
    public mutating func batchReady() -> Action {
        switch state {
        case .idle:
            state = .inFlight
            return .begin
        case .inFlight:
            return .awaitResult
        case .retrying, .rowByRow, .reconnecting:
            preconditionFailure("a new batch while one is being retried: settle first")
        }
    }

    /// The loop must have the database to itself (partitions revoked, retention, stopping): the
    /// batch in flight is settled first. nil when there is none.
    public mutating func settle() -> Action? {
        state == .inFlight ? .awaitResult : nil
    }

    /// The batch's transaction committed (whole or row by row).
    public mutating func loaded() -> Action {
        state = .idle
        return .storeOffsets
    }

    /// A new connection is up after `reconnect`.
    public mutating func reconnected() -> Action {
        state = .idle
        return .readAgain
    }

    /// The batch's transaction (or its start, or a row-by-row pass, or a reconnect) failed with
    /// `error`.
    public mutating func failed(_ error: SinkError) -> Action {
        let attempt: Int
        switch state {
        case .idle: attempt = 1  // `begin` failed at once
        case .inFlight: attempt = 1
        case .retrying(let previous), .rowByRow(let previous), .reconnecting(let previous): attempt = previous + 1
        }
        if stopping && attempt > Self.attemptsWhenStopping { return .fail(error) }
        if case .reconnecting = state {
            // Whatever a reconnect fails with, the connection is still not there.
            state = .reconnecting(attempt: attempt)
            return .reconnect(delay: Self.backoff(attempt: attempt))
        }
        switch error.kind {
        case .connectionLost:
            state = .reconnecting(attempt: attempt)
            return .reconnect(delay: Self.backoff(attempt: attempt))
        case .conflict:
            state = .retrying(attempt: attempt)
            return .retry(delay: .zero)
        case .refusedData:
            if case .rowByRow = state {
                // Row by row catches refused rows itself; a data error here is no row's.
                return .fail(error)
            }
            state = .rowByRow(attempt: attempt)
            return .loadRowByRow
        case .other:
            return .fail(error)
        }
    }

    /// The service is stopping.
    public mutating func stop() {
        stopping = true
    }
}
