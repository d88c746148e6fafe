import ChirpCore
import Foundation
import Logging

/// Writes one line per log event to stdout: JSON (`{"ts":…,"level":…,"service":…,"msg":…,…}`)
/// or human-readable text. Each line is written with a single `write(2)`, so concurrent threads
/// never interleave within a line.
public struct StdoutLogHandler: LogHandler {
    public enum Format: String, Sendable {
        case json, text
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let service: String
    public let format: Format

    public init(service: String, format: Format, level: Logger.Level) {
        self.service = service
        self.format = format
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let now = Timestamp.now
        var line: [UInt8]
        switch format {
        case .json:
            var w = JSONWriter(capacity: 256)
            w.raw("{")
            w.key("ts", first: true); w.string(now.iso8601)
            w.key("level"); w.string(event.level.rawValue)
            w.key("service"); w.string(service)
            w.key("msg"); w.string(event.message.description)
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                w.raw(",")
                w.string(key)
                w.raw(":")
                w.string("\(value)")
            }
            w.raw("}\n")
            line = w.bytes
        case .text:
            var text = "\(now.iso8601) \(event.level.rawValue.uppercased()) \(service): \(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
            line = Array((text + "\n").utf8)
        }
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(1, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}
