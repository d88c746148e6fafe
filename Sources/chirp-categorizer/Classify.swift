import ChirpCore
import ChirpPipeline
import ChirpRules
import ChirpService
import Foundation

/// `chirp-categorizer classify [FILE]`: the categorizer's rules without Kafka. Enriched JSON lines
/// (the `tweets.enriched` format) go to stdout; rejected documents, with their dead-letter reason,
/// to stderr. Exit status 0 when every document was a tweet, 1 otherwise.
enum Classify {
    static let specs: [OptionSpec] = InputOptions.specs + [
        RuleOptions.categoriesFile,
        RuleOptions.maxPayloadBytes("Larger documents are rejected (too_large)."),
    ]

    static let subcommand = Subcommand(
        name: "classify", summary: "Enrich tweets from a file or stdin to stdout, without Kafka ('chirp-categorizer classify --help').",
        command: "chirp-categorizer classify", operands: "[FILE]",
        help: "Reads tweets in any supported format from FILE or stdin and writes one enriched JSON line per tweet to stdout; rejected inputs go to stderr with their dead-letter reason.",
        specs: specs, body: run)

    @Sendable static func run(_ options: ParsedOptions) async throws -> Int32 {
        let enricher = Enricher(table: try CategoryFile.load(path: options.string("categories-file") ?? ""))
        let maxPayload = try options.int("max-payload-bytes")
        let input: FileHandle
        if let path = options.positional.first, path != "-" {
            guard let file = FileHandle(forReadingAtPath: path) else { throw UsageError("cannot read \(path)") }
            input = file
        } else {
            input = FileHandle.standardInput
        }
        var reader = try InputOptions.reader(options, path: options.positional.first ?? "-", maximumBytes: maxPayload)
        var rejected = 0
        var output: [UInt8] = []
        let now = Timestamp.now
        func handle(_ items: [TweetInputReader.Item]) {
            for item in items {
                switch item {
                case .success(let outgoing):
                    for payload in outgoing {
                        for tweet in (try? TweetDecoder.decode(payload.payload)) ?? [] {
                            output.append(contentsOf: enricher.enrich(tweet, fallbackTime: now).encoded())
                            output.append(0x0A)
                        }
                    }
                case .failure(let problem):
                    rejected += 1
                    FileHandle.standardError.write(Data("line \(problem.line): \(problem.rejection.reason.rawValue): \(problem.rejection.message)\n".utf8))
                }
            }
            if output.count > 1 << 16 {
                FileHandle.standardOutput.write(Data(output))
                output.removeAll(keepingCapacity: true)
            }
        }
        while true {
            let chunk = input.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            handle(try reader.feed([UInt8](chunk)))
        }
        handle(try reader.finish())
        FileHandle.standardOutput.write(Data(output))
        return rejected == 0 ? 0 : 1
    }
}
