import Foundation

/// The shared test data (`../shared/data` beside the clone), read in place, never copied.
enum SharedData {
    static let directory: URL = {
        if let override = ProcessInfo.processInfo.environment["CHIRP_SHARED_DATA"] {
            return URL(fileURLWithPath: override)
        }
        // Tests/ChirpCoreTests/SharedData.swift → repository root → ../shared/data
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data")
    }()

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func lines(_ name: String) throws -> [String] {
        String(decoding: try bytes(name), as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
