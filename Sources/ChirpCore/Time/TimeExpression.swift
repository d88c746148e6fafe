/// A time zone's offsets from UTC. The core stays free of I/O: the CLI supplies the system's time
/// zone database through this protocol, tests supply fixed offsets or hand-written rules.
public protocol ZoneRules: Sendable {
    var identifier: String { get }
    /// Seconds east of UTC at an instant.
    func offset(at instant: Timestamp) -> Int
}

/// A constant offset (UTC, or `+05:30`).
public struct FixedOffset: ZoneRules {
    public var seconds: Int
    public init(seconds: Int) { self.seconds = seconds }
    public static let utc = FixedOffset(seconds: 0)
    public var identifier: String {
        guard seconds != 0 else { return "UTC" }
        let magnitude = abs(seconds) / 60
        return (seconds < 0 ? "-" : "+") + pad(magnitude / 60) + ":" + pad(magnitude % 60)
    }
    public func offset(at instant: Timestamp) -> Int { seconds }
}

private func pad(_ value: Int, _ width: Int = 2) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, width - text.count)) + text
}

/// A wall-clock time in some zone.
public struct LocalDateTime: Sendable, Equatable, CustomStringConvertible {
    public var year: Int, month: Int, day: Int
    public var hour: Int, minute: Int, second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
    }

    /// The wall-clock time of `instant` in `zone`.
    public init(_ instant: Timestamp, in zone: some ZoneRules) {
        let local = instant.millisecondsSinceEpoch / 1000 + Int64(zone.offset(at: instant))
        let days = Int(local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
        let seconds = Int(local - Int64(days) * 86_400)
        let (y, m, d) = Timestamp.civilFromDays(days)
        self.init(year: y, month: m, day: d, hour: seconds / 3600, minute: seconds / 60 % 60, second: seconds % 60)
    }

    /// Days since 1970-01-01 of the date part.
    public var dayNumber: Int { Timestamp.daysFromCivil(year: year, month: month, day: day) }

    /// 0 = Monday … 6 = Sunday.
    public var weekday: Int { ((dayNumber % 7) + 7 + 3) % 7 }

    /// The instant this wall-clock time denotes in `zone`. In a daylight-saving gap the time is
    /// read with the offset before the gap; in an overlap, the earlier of the two instants.
    public func instant(in zone: some ZoneRules) -> Timestamp {
        let naive = (Int64(dayNumber) * 86_400 + Int64(hour * 3600 + minute * 60 + second)) * 1000
        let before = zone.offset(at: Timestamp(millisecondsSinceEpoch: naive - 86_400_000))
        let after = zone.offset(at: Timestamp(millisecondsSinceEpoch: naive + 86_400_000))
        for offset in [max(before, after), min(before, after)] {
            let candidate = Timestamp(millisecondsSinceEpoch: naive - Int64(offset) * 1000)
            if zone.offset(at: candidate) == offset { return candidate }
        }
        return Timestamp(millisecondsSinceEpoch: naive - Int64(before) * 1000)
    }

    /// `2026-11-23 14:05`, seconds only when not zero.
    public var description: String {
        "\(pad(year, 4))-\(pad(month))-\(pad(day)) \(pad(hour)):\(pad(minute))" + (second == 0 ? "" : ":\(pad(second))")
    }
}

public struct TimeExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The time expressions the `chirp` CLI accepts, resolved against "now" in a zone.
///
/// Points in time: `now`; a duration back from now (`now-2h`, `-90m`, `2h ago`); ISO 8601 with `Z`
/// or an offset (`2026-11-16T07:00:00Z`); a wall-clock time in the zone (`2026-11-16 07:00`,
/// `2026-11-16T07:00`, `2026-11-16`, `07:00` = today); `today`, `yesterday`, a weekday (`monday` =
/// the latest Monday up to today, `last monday` = before today), each with an optional `HH:MM`.
/// Durations: a sum of `<n>s|m|h|d|w` parts, `90s`, `15m`, `1h30m`, `24h`, `7d`.
public enum TimeExpression {
    static let help = "use now, now-2h, 2h ago, an ISO 8601 time (2026-11-16T07:00:00Z), a local time (2026-11-16 07:00, 07:00), today, yesterday or [last] monday, each with an optional HH:MM"
    private static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// A duration in milliseconds.
    public static func duration(_ text: String) throws(TimeExpressionError) -> Int64 {
        let chars = Array(text.lowercased().filter { $0 != " " })
        guard !chars.isEmpty else { throw TimeExpressionError("empty duration: use 90s, 15m, 1h, 1h30m, 24h or 7d") }
        var total: Int64 = 0
        var number: Int64? = nil
        for char in chars {
            if let digit = char.wholeNumberValue, char.isASCII {
                let (value, overflow) = (number ?? 0).multipliedReportingOverflow(by: 10)
                guard !overflow, value < 1_000_000_000 else { throw TimeExpressionError("duration '\(text)' is too long") }
                number = value + Int64(digit)
                continue
            }
            let unit: Int64
            switch char {
            case "s": unit = 1000
            case "m": unit = 60_000
            case "h": unit = 3_600_000
            case "d": unit = 86_400_000
            case "w": unit = 604_800_000
            default: throw TimeExpressionError("bad duration '\(text)': use 90s, 15m, 1h, 1h30m, 24h or 7d")
            }
            guard let value = number else { throw TimeExpressionError("bad duration '\(text)': a number must come before '\(char)'") }
            total += value * unit
            number = nil
        }
        guard number == nil else { throw TimeExpressionError("bad duration '\(text)': the number \(number!) has no unit (s, m, h, d, w)") }
        guard total > 0 else { throw TimeExpressionError("duration '\(text)' must be longer than zero") }
        return total
    }

    /// A point in time.
    public static func instant(_ text: String, now: Timestamp, zone: some ZoneRules) throws(TimeExpressionError) -> Timestamp {
        let trimmed = text.trimmingSpaces
        let lower = trimmed.lowercased()
        func fail() -> TimeExpressionError { TimeExpressionError("bad time expression '\(text)': \(help)") }
        guard !lower.isEmpty else { throw fail() }
        if lower == "now" { return now }
        // Durations back from now.
        var back: String? = nil
        if lower.hasPrefix("now-") || lower.hasPrefix("now -") { back = String(lower.drop { $0 != "-" }.dropFirst()) }
        else if lower.hasPrefix("-") { back = String(lower.dropFirst()) }
        else if lower.hasSuffix(" ago") { back = String(lower.dropLast(4)) }
        if let back {
            do { return Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch - (try duration(back))) } catch { throw fail() }
        }
        // Absolute ISO 8601 with a zone designator.
        if trimmed.contains("T") || trimmed.hasSuffix("Z"), trimmed.hasSuffix("Z") || trimmed.dropFirst(10).contains("+") || trimmed.dropFirst(10).contains("-"),
           let absolute = Timestamp(parsing: trimmed) {
            return absolute
        }
        let today = LocalDateTime(now, in: zone)
        var words = lower.split(separator: " ").map(String.init)
        // A trailing clock time, or a date with a time (`2026-11-16 07:00`, `2026-11-16T07:00`).
        var clock = (hour: 0, minute: 0, second: 0)
        if words.count == 1, let t = words[0].firstIndex(of: "t"), words[0].first?.isNumber == true {
            let date = String(words[0][..<t]), time = String(words[0][words[0].index(after: t)...])
            words = [date, time]
        }
        if let last = words.last, let parsed = parseClock(last) {
            clock = parsed
            words.removeLast()
            if words.isEmpty { words = ["today"] }
        }
        var date: LocalDateTime
        switch words.count {
        case 1 where words[0] == "today":
            date = today
        case 1 where words[0] == "yesterday":
            let (y, m, d) = Timestamp.civilFromDays(today.dayNumber - 1)
            date = LocalDateTime(year: y, month: m, day: d)
        case 1 where weekdays.contains(words[0]), 2 where words[0] == "last" && weekdays.contains(words[1]):
            let wanted = weekdays.firstIndex(of: words.last!)!
            var delta = (today.weekday - wanted + 7) % 7
            if words.count == 2 && delta == 0 { delta = 7 }
            let (y, m, d) = Timestamp.civilFromDays(today.dayNumber - delta)
            date = LocalDateTime(year: y, month: m, day: d)
        case 1:
            guard let parsed = parseDate(words[0]) else { throw fail() }
            date = parsed
        default:
            throw fail()
        }
        date.hour = clock.hour
        date.minute = clock.minute
        date.second = clock.second
        return date.instant(in: zone)
    }

    /// `YYYY-MM-DD`.
    static func parseDate(_ text: String) -> LocalDateTime? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), d >= 1, d <= Timestamp.daysInMonth(year: y, month: m) else { return nil }
        return LocalDateTime(year: y, month: m, day: d)
    }

    /// `HH:MM` or `HH:MM:SS`.
    static func parseClock(_ text: String) -> (hour: Int, minute: Int, second: Int)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
              let h = Int(parts[0]), let m = Int(parts[1]), h < 24, m < 60 else { return nil }
        let s = parts.count == 3 ? Int(parts[2]) : 0
        guard let s, s < 60 else { return nil }
        return (h, m, s)
    }
}

/// A half-open interval of time `[from, to)`.
public struct TimeWindow: Sendable, Equatable, CustomStringConvertible {
    public var from: Timestamp
    public var to: Timestamp

    public init(from: Timestamp, to: Timestamp) {
        self.from = from
        self.to = to
    }

    /// From the CLI's options: `--last D` (ending now) or `--from T [--to T]` (to defaults to now).
    public static func resolve(last: String?, from: String?, to: String?, defaultLast: String, now: Timestamp,
                               zone: some ZoneRules) throws(TimeExpressionError) -> TimeWindow {
        if last != nil && (from != nil || to != nil) {
            throw TimeExpressionError("--last cannot be combined with --from/--to")
        }
        if let from {
            let start = try TimeExpression.instant(from, now: now, zone: zone)
            let end = try to.map { (t: String) throws(TimeExpressionError) in try TimeExpression.instant(t, now: now, zone: zone) } ?? now
            guard start < end else {
                throw TimeExpressionError("empty window: --from \(from) (\(LocalDateTime(start, in: zone))) is not before --to \(to ?? "now") (\(LocalDateTime(end, in: zone)))")
            }
            return TimeWindow(from: start, to: end)
        }
        if to != nil { throw TimeExpressionError("--to needs --from") }
        let length = try TimeExpression.duration(last ?? defaultLast)
        return TimeWindow(from: Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch - length), to: now)
    }

    public var description: String { "\(from.iso8601) – \(to.iso8601)" }

    /// The window in a zone's wall-clock time, for messages.
    public func describe(in zone: some ZoneRules) -> String {
        "\(LocalDateTime(from, in: zone)) – \(LocalDateTime(to, in: zone)) \(zone.identifier)"
    }
}
