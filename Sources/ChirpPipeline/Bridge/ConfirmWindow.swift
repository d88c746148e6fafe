/// The bridge's confirm window: the messages read from MQTT since the last acknowledgement, each
/// until Kafka holds it or it is given up. The broker hears of the window only as a whole, once
/// nothing in it is outstanding, because libmosquitto writes the PUBACKs it queued in order and all
/// together: one unconfirmed message holds back the acknowledgement of every other.
///
/// A message Kafka refuses is sent again after a pause. It is given up (counted and logged by the
/// loop, then acknowledged) when it is too large, or when it was refused `maxStrikes` times while
/// Kafka confirmed other messages in the meantime: then the refusal is about this message, not an
/// outage, and holding it would stop the bridge for good. While Kafka confirms nothing, nothing is
/// given up.
public struct ConfirmWindow: Sendable {
    /// A message's delivery attempt.
    public struct Attempt: Sendable, Equatable {
        /// The message's place in the window.
        public var index: Int
        /// 1 for the first send.
        public var number: Int
        /// Refusals that counted against the message.
        public var strikes: Int
        /// Confirmations in the window before this attempt was sent.
        var confirmedBefore: Int
    }

    /// What a delivery report means for the window.
    public enum Outcome: Sendable, Equatable {
        /// Kafka holds the message.
        case confirmed(index: Int)
        /// Refused; it goes again at `at`.
        case resend(index: Int, at: Duration)
        /// Refused for good: the loop counts, logs and acknowledges it.
        case givenUp(index: Int, ProducerFailure)
        /// A report of no attempt of this window (of one abandoned with a lost connection).
        case stale
    }

    public let maxStrikes: Int
    /// Messages in the window; 0 when it is closed.
    public private(set) var count = 0
    private var inFlight: [UInt64: Attempt] = [:]
    private var waiting: [(due: Duration, attempt: Attempt)] = []
    private var confirmed = 0

    public init(maxStrikes: Int = 3) {
        self.maxStrikes = max(1, maxStrikes)
    }

    /// No window open: the bridge may read.
    public var isClosed: Bool { count == 0 }
    /// Open, and every message in it confirmed or given up: the bridge may acknowledge it.
    public var isSettled: Bool { count > 0 && inFlight.isEmpty && waiting.isEmpty }
    /// Sent and not reported.
    public var inFlightCount: Int { inFlight.count }
    /// When the next refused message goes again.
    public var nextResend: Duration? { waiting.map(\.due).min() }

    /// Opens a window of `count` messages.
    public mutating func open(count: Int) {
        precondition(isClosed, "a window is open")
        self.count = count
        confirmed = 0
    }

    /// The first attempt of message `index`.
    public func firstAttempt(_ index: Int) -> Attempt {
        Attempt(index: index, number: 1, strikes: 0, confirmedBefore: confirmed)
    }

    /// `attempt` is sent under `token`.
    public mutating func sent(_ attempt: Attempt, token: UInt64) {
        var attempt = attempt
        attempt.confirmedBefore = confirmed
        inFlight[token] = attempt
    }

    /// A delivery report.
    public mutating func settle(_ delivery: Delivery, now: Duration) -> Outcome {
        guard let attempt = inFlight.removeValue(forKey: delivery.token) else { return .stale }
        guard let failure = delivery.failure else {
            confirmed += 1
            return .confirmed(index: attempt.index)
        }
        return refused(attempt, failure, now: now)
    }

    /// `send` refused the attempt at once (it was never in flight).
    public mutating func refused(_ attempt: Attempt, _ failure: ProducerFailure, now: Duration) -> Outcome {
        var attempt = attempt
        if confirmed > attempt.confirmedBefore { attempt.strikes += 1 }
        if failure.recordTooLarge || attempt.strikes >= maxStrikes {
            return .givenUp(index: attempt.index, failure)
        }
        let due = now + RetryPause.after(attempt: attempt.number)
        attempt.number += 1
        waiting.append((due, attempt))
        return .resend(index: attempt.index, at: due)
    }

    /// The refused messages whose pause is over, to be sent again.
    public mutating func takeDue(now: Duration) -> [Attempt] {
        guard waiting.contains(where: { $0.due <= now }) else { return [] }
        let due = waiting.filter { $0.due <= now }.map(\.attempt)
        waiting.removeAll { $0.due <= now }
        return due
    }

    /// Closes a settled window once it is acknowledged, or any window whose messages the broker
    /// will send again (the connection was lost, the process stops).
    public mutating func close() {
        count = 0
        inFlight.removeAll()
        waiting.removeAll()
    }
}

/// The pause before trying again what was refused: growing with each attempt, at most 10 s.
public enum RetryPause {
    public static func after(attempt: Int) -> Duration { .milliseconds(min(10_000, 500 * max(1, attempt))) }
}
