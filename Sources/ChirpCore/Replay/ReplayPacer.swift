/// How fast a replay goes.
public enum ReplayPace: Sendable, Equatable {
    /// As fast as the broker acknowledges (bounded by the in-flight window).
    case unlimited
    /// A fixed number of tweets per second.
    case rate(Double)
    /// The tweets' own `created_at` spacing, divided by `speedup` (2 = twice as fast).
    case original(speedup: Double)
}

/// When each tweet of a replay is due, measured from the start of the replay.
///
/// With original timing, tweet times are taken relative to the first tweet that has one; a tweet
/// earlier than that, or without a time, is due at once (after the one before it).
public struct ReplayPacer: Sendable {
    public let pace: ReplayPace
    private var firstEventTime: Timestamp?
    private var lastDue: Double = 0

    public init(pace: ReplayPace) {
        self.pace = pace
    }

    /// Seconds after the start at which the tweet with this index (0-based) and time is due.
    /// Never earlier than the previous tweet's due time.
    public mutating func dueSeconds(index: Int, eventTime: Timestamp?) -> Double {
        let due: Double
        switch pace {
        case .unlimited:
            due = 0
        case .rate(let perSecond):
            due = perSecond > 0 ? Double(index) / perSecond : 0
        case .original(let speedup):
            guard let eventTime else { due = lastDue; break }
            if firstEventTime == nil { firstEventTime = eventTime }
            let offset = Double(eventTime.millisecondsSinceEpoch - firstEventTime!.millisecondsSinceEpoch) / 1000
            due = speedup > 0 ? max(0, offset / speedup) : 0
        }
        lastDue = max(lastDue, due)
        return lastDue
    }
}
