import ChirpCore
import ChirpMQTT
import ChirpService
import Foundation
import Logging

struct ReplayFailed: Error, CustomStringConvertible {
    var description: String
}

/// Streams a tweets file to MQTT: reads it in chunks, cuts documents, splits them into tweets,
/// paces, publishes with QoS 1 inside a bounded in-flight window, and reports progress.
final class Replay: Sendable {
    let path: String
    let options: ParsedOptions
    let pace: ReplayPace
    let loop: Bool
    let restamp: Bool
    let topic: String
    let progressSeconds: Double
    let client: MQTTClient
    let logger: Logger
    let published: Counter
    let acknowledged: Gauge
    let invalid: Counter

    init(context: ServiceContext) throws {
        let options = context.options
        var path = options.string("file") ?? ""
        if path.isEmpty, let first = options.positional.first { path = first }
        guard !path.isEmpty else { throw UsageError("no tweets file: pass --file PATH (or TWEETS_FILE, or the path as argument)") }
        guard FileManager.default.isReadableFile(atPath: path) else { throw UsageError("cannot read tweets file '\(path)'") }
        self.path = path
        self.options = options
        _ = try InputOptions.reader(options, path: path)  // reject a bad --format at start
        let rate = try options.double("rate")
        let speedup = try options.double("speedup")
        guard rate >= 0, speedup >= 0 else { throw UsageError("--rate and --speedup must not be negative") }
        guard rate == 0 || speedup == 0 else { throw UsageError("--rate and --speedup cannot be combined") }
        pace = rate > 0 ? .rate(rate) : speedup > 0 ? .original(speedup: speedup) : .unlimited
        loop = try options.bool("loop")
        restamp = try options.bool("restamp")
        topic = try options.required("mqtt-topic")
        progressSeconds = try options.double("progress-seconds")
        let window = try options.int("max-in-flight")
        guard (1...65_535).contains(window) else { throw UsageError("--max-in-flight must be between 1 and 65535") }

        let settings = try MQTTSettings(options, defaultClientId: "chirp-sender-\(ServiceMain.instanceId(options))")
        var mqtt = MQTTClient.Options(host: settings.host, port: settings.port, clientId: settings.clientId, cleanSession: true,
                                      username: settings.username, password: settings.password)
        mqtt.maxInFlight = window
        logger = context.logger
        client = try MQTTClient(options: mqtt, logger: context.logger)
        let client = self.client
        let metrics = context.metrics
        published = metrics.counter("sender_published_total", help: "Tweets published to MQTT.")
        acknowledged = metrics.gauge("sender_acknowledged_total", help: "Tweets the MQTT broker acknowledged (PUBACK).") {
            Double(client.statistics.acknowledged)
        }
        _ = metrics.gauge("sender_in_flight", help: "Published tweets awaiting PUBACK.") {
            let s = client.statistics
            return Double(s.published - s.acknowledged - s.rejected)
        }
        _ = metrics.gauge("sender_rejected_total", help: "Tweets the broker refused.") { Double(client.statistics.rejected) }
        invalid = metrics.counter("sender_invalid_documents_total", help: "Documents in the file that are no valid tweet.", label: "reason")
        context.readiness.add("mqtt") { client.isConnected ? nil : "not connected to the MQTT broker" }
    }

    func run(stop: StopSignal) throws {
        try client.connect()
        defer { client.disconnect() }
        let started = ContinuousClock.now
        var lastProgress = started
        var sent = 0
        var pass = 0
        var problemsShown = 0
        repeat {
            pass += 1
            var pacer = ReplayPacer(pace: pace)
            let passStart = ContinuousClock.now
            var index = 0
            guard let file = FileHandle(forReadingAtPath: path) else { throw UsageError("cannot open \(path)") }
            defer { try? file.close() }
            var reader = try InputOptions.reader(options, path: path)
            var finished = false
            while !finished && !stop.isStopping {
                let chunk = file.readData(ofLength: 1 << 20)
                let items: [TweetInputReader.Item]
                do {
                    if chunk.isEmpty {
                        items = try reader.finish()
                        finished = true
                    } else {
                        items = try reader.feed([UInt8](chunk))
                    }
                } catch {
                    throw UsageError("\(path): \(error)")
                }
                for item in items {
                    if stop.isStopping { break }
                    let tweets: [OutgoingTweet]
                    switch item {
                    case .success(let found):
                        tweets = found
                    case .failure(let problem):
                        invalid.increment(label: problem.rejection.reason.rawValue)
                        if problemsShown < 20 {
                            FileHandle.standardError.write(Data("chirp-sender: \(path): skipped \(problem)\n".utf8))
                            problemsShown += 1
                        }
                        continue
                    }
                    for tweet in tweets {
                        if stop.isStopping { break }
                        let due = pacer.dueSeconds(index: index, eventTime: tweet.createdAt)
                        index += 1
                        let wait = passStart + .milliseconds(Int64(due * 1000)) - ContinuousClock.now
                        if wait > .zero { client.idle(for: wait) }
                        try publish(tweet, pass: pass)
                        sent += 1
                        if progressSeconds > 0, ContinuousClock.now - lastProgress >= .milliseconds(Int64(progressSeconds * 1000)) {
                            lastProgress = ContinuousClock.now
                            report(prefix: "progress", sent: sent, since: started)
                        }
                    }
                }
            }
        } while loop && !stop.isStopping

        let complete = client.waitForAcknowledgements(timeout: .seconds(60))
        report(prefix: "done", sent: sent, since: started)
        let statistics = client.statistics
        let invalidCount = invalid.total
        logger.info("replay finished", metadata: [
            "sent": "\(statistics.published)", "acknowledged": "\(statistics.acknowledged)",
            "failed": "\(statistics.rejected + (statistics.published - statistics.acknowledged - statistics.rejected))",
            "invalid_documents": "\(invalidCount)", "passes": "\(pass)",
        ])
        guard complete, statistics.rejected == 0 else {
            throw ReplayFailed(description: "\(statistics.published - statistics.acknowledged) of \(statistics.published) tweets were not acknowledged by the broker")
        }
    }

    private func publish(_ tweet: OutgoingTweet, pass: Int) throws {
        var payload = tweet.payloadBytes
        var id = tweet.id
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let suffix = pass > 1 ? "~\(pass)" : nil
        if let suffix { id += suffix }
        if suffix != nil || restamp {
            let shift = restamp ? tweet.createdAt.map { now - $0.millisecondsSinceEpoch } ?? 0 : 0
            payload = PayloadRewriter.rewrite(tweet.payload, idSuffix: suffix, shiftMilliseconds: shift).serialized
        }
        let accepted = try client.publish(
            topic: topic, payload: payload, qos: 1,
            userProperties: [(Wire.publishedAt, String(now)), (Wire.tweetId, id)]
        )
        guard accepted else { throw ReplayFailed(description: "no PUBACK for 60 s: the MQTT broker stopped acknowledging") }
        published.increment()
    }

    private func report(prefix: String, sent: Int, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let seconds = max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let s = client.statistics
        let line = String(format: "chirp-sender: %@: sent %d, acknowledged %d, failed %d, invalid documents %lld, %.0f tweets/s over %.1f s\n",
                          prefix, sent, s.acknowledged, s.rejected, invalid.total, Double(sent) / seconds, seconds)
        FileHandle.standardError.write(Data(line.utf8))
    }
}

