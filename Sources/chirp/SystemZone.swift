import ChirpCore
import Foundation

/// `--tz`: a zone from the system's time zone database (IANA names such as `Europe/Berlin`), or a
/// fixed offset written `+05:30` / `-03:00`, or `UTC`.
struct SystemZone: ZoneRules {
    let zone: TimeZone

    var identifier: String { zone.identifier }

    func offset(at instant: Timestamp) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant.millisecondsSinceEpoch) / 1000))
    }

    static func named(_ name: String) throws -> any ZoneRules {
        if name.isEmpty || name.uppercased() == "UTC" || name == "Z" { return FixedOffset.utc }
        if let first = name.first, first == "+" || first == "-" {
            let parts = name.dropFirst().split(separator: ":")
            if parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), h <= 14, m < 60 {
                return FixedOffset(seconds: (first == "-" ? -1 : 1) * (h * 3600 + m * 60))
            }
        }
        guard let zone = TimeZone(identifier: name) else {
            throw CLIError.usage("unknown time zone '\(name)': use an IANA name such as Europe/Berlin or America/New_York, UTC, or an offset such as +05:30")
        }
        return SystemZone(zone: zone)
    }
}
