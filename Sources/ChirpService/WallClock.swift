import ChirpCore
import Foundation

extension Timestamp {
    /// The wall clock, to the millisecond: publish times, log lines, "now" in questions. (Pure
    /// code takes the time as an argument; this is where the services read it.)
    public static var now: Timestamp { Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)) }
}
