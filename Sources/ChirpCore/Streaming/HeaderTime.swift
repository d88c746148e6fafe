/// Why a time found in a header or an MQTT user property was not used.
public enum HeaderTimeProblem: String, Sendable, Error, CaseIterable {
    /// Not a decimal integer (letters, a fraction, empty, or more digits than 64 bits hold).
    case notANumber = "not_a_number"
    /// A number of milliseconds outside the years 1 to 9999, which the store cannot hold.
    case outOfRange = "out_of_range"
}

extension RecordHeaders {
    /// Reads `bytes` as milliseconds since the epoch. Anyone can write a header, so a value is
    /// trusted only when it is a decimal integer and a storable time; callers count the problem
    /// and fall back to a time of their own.
    public static func time(decimal bytes: UnsafeRawBufferPointer) -> Result<Timestamp, HeaderTimeProblem> {
        guard let milliseconds = int64(decimal: bytes) else { return .failure(.notANumber) }
        guard let time = Timestamp(storableMilliseconds: milliseconds) else { return .failure(.outOfRange) }
        return .success(time)
    }

    /// The time in the last header called `name`; nil when there is none (or it has no value).
    public func time(_ name: String) -> Result<Timestamp, HeaderTimeProblem>? {
        withValue(name) { Self.time(decimal: $0) }
    }

    /// `text` (an MQTT user property) read like a header's bytes.
    public static func time(decimal text: String) -> Result<Timestamp, HeaderTimeProblem> {
        var text = text
        return text.withUTF8 { time(decimal: UnsafeRawBufferPointer($0)) }
    }
}
