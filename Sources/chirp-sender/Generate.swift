import ChirpCore
import ChirpService
import Foundation

/// `chirp-sender generate`: writes synthetic tweets (v2 single-tweet responses or v1.1 statuses) as
/// JSON lines.
enum Generate {
    static let specs: [OptionSpec] = [
        OptionSpec("count", env: "GENERATE_COUNT", default: "10000", help: "How many tweets."),
        OptionSpec("seed", env: "GENERATE_SEED", default: "1", help: "Random seed; the same seed and start give the same file."),
        OptionSpec("start", env: "GENERATE_START", default: "", help: "created_at of the first tweet (ISO 8601); default: now minus --span-seconds."),
        OptionSpec("span-seconds", env: "GENERATE_SPAN_SECONDS", default: "3600", help: "Time the tweets are spread over."),
        OptionSpec("output", env: "GENERATE_OUTPUT", default: "-", help: "Output file; - for stdout."),
        OptionSpec("shape", env: "GENERATE_SHAPE", default: "v2",
                   help: "v2 (single-tweet responses, about 300 B) or v1.1 (statuses with the user object and entities, about 800 B); the same seed gives the same tweets in both."),
    ]

    static let subcommand = Subcommand(
        name: "generate", summary: "Write synthetic tweets as JSON lines (see 'chirp-sender generate --help').",
        command: "chirp-sender generate",
        help: "Writes synthetic tweets as JSON lines: multilingual texts, Zipf-distributed hashtags, category keywords, mentions, retweets.",
        specs: specs, body: run)

    @Sendable static func run(_ options: ParsedOptions) async throws -> Int32 {
        let count = try options.int("count")
        let span = try options.int("span-seconds")
        guard count >= 0, span >= 0 else { throw UsageError("--count and --span-seconds must not be negative") }
        guard let seed = UInt64(try options.required("seed")) else { throw UsageError("--seed must be a non-negative whole number") }
        let startText = options.string("start") ?? ""
        let start: Timestamp
        if startText.isEmpty {
            start = Timestamp(millisecondsSinceEpoch: Timestamp.now.millisecondsSinceEpoch - Int64(span) * 1000)
        } else {
            guard let parsed = Timestamp(parsing: startText) else { throw UsageError("--start is not an ISO 8601 time: '\(startText)'") }
            start = parsed
        }
        let shapeText = options.string("shape") ?? "v2"
        guard let shape = SyntheticTweets.Shape(rawValue: shapeText) else {
            throw UsageError("--shape must be v2 or v1.1, not '\(shapeText)'")
        }
        let output = options.string("output") ?? "-"
        let handle: FileHandle
        if output == "-" {
            handle = FileHandle.standardOutput
        } else {
            guard FileManager.default.createFile(atPath: output, contents: nil), let file = FileHandle(forWritingAtPath: output) else {
                throw UsageError("cannot write \(output)")
            }
            handle = file
        }
        var generator = SyntheticTweets(SyntheticTweets.Settings(count: count, seed: seed, start: start, spanSeconds: span, shape: shape))
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        while let line = generator.next() {
            buffer.append(contentsOf: line)
            buffer.append(0x0A)
            if buffer.count >= 1 << 20 {
                handle.write(Data(buffer))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        handle.write(Data(buffer))
        if output != "-" { try handle.close() }
        return 0
    }
}
