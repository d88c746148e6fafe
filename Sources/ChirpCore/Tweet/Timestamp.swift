/// A UTC instant in milliseconds since the Unix epoch.
///
/// Parses both styles tweets use: API v1.1 `Wed Oct 10 20:19:24 +0000 2018` and ISO 8601
/// (`2021-09-22T16:37:29.000Z`, with or without fraction, `Z` or `±hh:mm`). Written as ISO 8601
/// with milliseconds and `Z`.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public var description: String { iso8601 }

    /// Between 0001-01-01 and 9999-12-31: what ISO 8601 with four-digit years, and the store, hold.
    public var isStorable: Bool {
        Self.storableMilliseconds.contains(millisecondsSinceEpoch)
    }

    public static let storableMilliseconds: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    /// A time from outside (a header, a record timestamp): nil unless the store can hold it, so
    /// that no later arithmetic or formatting meets a value at the edge of the 64-bit range.
    public init?(storableMilliseconds milliseconds: Int64) {
        guard Self.storableMilliseconds.contains(milliseconds) else { return nil }
        self.init(millisecondsSinceEpoch: milliseconds)
    }

    /// Parses either supported style; nil when the text is neither.
    public init?(parsing text: String) {
        var utf8 = Array(text.utf8)
        // Trim surrounding spaces.
        while utf8.last == 0x20 { utf8.removeLast() }
        while utf8.first == 0x20 { utf8.removeFirst() }
        if let value = Self.parseISO8601(utf8) ?? Self.parseTwitter(utf8) {
            self = value
        } else {
            return nil
        }
    }

    // MARK: Calendar math (proleptic Gregorian, UTC)

    /// Days since 1970-01-01 for a civil date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z: Int) -> (year: Int, month: Int, day: Int) {
        let z = z + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public init?(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int = 0, offsetSeconds: Int = 0) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...Self.daysInMonth(year: year, month: month)).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
              (0...999).contains(millisecond)
        else { return nil }
        let days = Int64(Self.daysFromCivil(year: year, month: month, day: day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        millisecondsSinceEpoch = seconds * 1000 + Int64(millisecond)
    }

    public var iso8601: String {
        String(unsafeUninitializedCapacity: Self.maximumISO8601Length) { writeISO8601(to: $0.baseAddress!) }
    }

    /// Room `writeISO8601` may need: 24 bytes up to the year 9999, a few more for later years.
    static let maximumISO8601Length = 40

    /// Writes `YYYY-MM-DDTHH:MM:SS.mmmZ` to `out` (room for `maximumISO8601Length` bytes) and
    /// returns the length; no intermediate strings. Total over every Int64: floor division by
    /// quotient and remainder (no `ms - 999`, which overflows at the bottom of the range); years
    /// outside 1–9999 come out wrong but never trap (`isStorable` keeps them out of records).
    func writeISO8601(to out: UnsafeMutablePointer<UInt8>) -> Int {
        let (seconds, millis) = Self.floorDivide(millisecondsSinceEpoch, 1000)
        let (days, secondOfDay) = Self.floorDivide(seconds, 86_400)
        let (y, m, d) = Self.civilFromDays(Int(days))
        var n = 0
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var v = max(0, value)
            while v >= divisor * 10 { divisor *= 10 }  // wider than the field (years past 9999)
            while divisor > 0 {
                out[n] = UInt8(0x30 + v / divisor)
                n += 1
                v %= divisor
                divisor /= 10
            }
        }
        func put(_ byte: UInt8) {
            out[n] = byte
            n += 1
        }
        digits(y, 4); put(UInt8(ascii: "-"))
        digits(m, 2); put(UInt8(ascii: "-"))
        digits(d, 2); put(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2); put(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2); put(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2); put(UInt8(ascii: "."))
        digits(millis, 3); put(UInt8(ascii: "Z"))
        return n
    }

    /// Quotient rounded towards minus infinity and the remainder that goes with it (0 ≤ r < d).
    static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int) {
        let (q, r) = value.quotientAndRemainder(dividingBy: divisor)
        return r < 0 ? (q - 1, Int(r + divisor)) : (q, Int(r))
    }

    // MARK: Parsers

    private static func number(_ bytes: [UInt8], _ range: Range<Int>) -> Int? {
        guard range.upperBound <= bytes.count, !range.isEmpty else { return nil }
        var value = 0
        for i in range {
            let b = bytes[i]
            guard b >= 0x30, b <= 0x39 else { return nil }
            value = value * 10 + Int(b - 0x30)
        }
        return value
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM|±HHMM)`; a space may replace the `T`.
    static func parseISO8601(_ b: [UInt8]) -> Timestamp? {
        guard b.count >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " ") || b[10] == UInt8(ascii: "t"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let year = number(b, 0..<4), let month = number(b, 5..<7), let day = number(b, 8..<10),
              let hour = number(b, 11..<13), let minute = number(b, 14..<16), let second = number(b, 17..<19)
        else { return nil }
        var i = 19
        var millisecond = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                if digits < 3 { millisecond = millisecond * 10 + Int(b[i] - 0x30) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millisecond *= 10 }
        }
        var offset = 0
        if i == b.count {
            offset = 0  // no zone: taken as UTC
        } else if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let hh = number(b, i..<i + 2) else { return nil }
            i += 2
            if i < b.count, b[i] == UInt8(ascii: ":") { i += 1 }
            guard let mm = number(b, i..<i + 2), hh <= 23, mm <= 59 else { return nil }
            i += 2
            offset = sign * (hh * 3600 + mm * 60)
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        return Timestamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                         millisecond: millisecond, offsetSeconds: offset)
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Www Mmm DD HH:MM:SS ±HHMM YYYY`
    static func parseTwitter(_ b: [UInt8]) -> Timestamp? {
        guard b.count == 30, b[3] == 0x20, b[7] == 0x20, b[10] == 0x20, b[13] == UInt8(ascii: ":"),
              b[16] == UInt8(ascii: ":"), b[19] == 0x20, b[25] == 0x20,
              b[20] == UInt8(ascii: "+") || b[20] == UInt8(ascii: "-")
        else { return nil }
        let monthName = String(decoding: b[4..<7], as: UTF8.self)
        guard let monthIndex = months.firstIndex(of: monthName),
              let day = number(b, 8..<10), let hour = number(b, 11..<13), let minute = number(b, 14..<16),
              let second = number(b, 17..<19), let hh = number(b, 21..<23), let mm = number(b, 23..<25),
              let year = number(b, 26..<30)
        else { return nil }
        let sign = b[20] == UInt8(ascii: "-") ? -1 : 1
        return Timestamp(year: year, month: monthIndex + 1, day: day, hour: hour, minute: minute, second: second,
                         offsetSeconds: sign * (hh * 3600 + mm * 60))
    }
}
