import ChirpCore
import ChirpMQTT
import ChirpPipeline
import ChirpService
import Foundation
import Logging

/// The sender's parts: settings from the options, the MQTT client, the file, and the replay loop
/// from ChirpPipeline that runs over them on the worker thread.
final class Replay: Sendable {
    let path: String
    let options: ParsedOptions
    let settings: ReplaySettings
    let progressSeconds: Double
    let mqttOptions: MQTTClient.Options
    /// The worker thread's MQTT client reports here; metrics and readiness read it.
    let mqttStatus = MQTTClientStatus()
    let metrics: ReplayMetrics
    let logger: Logger

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
        var settings = ReplaySettings(topic: try options.required("mqtt-topic"),
                                      pace: rate > 0 ? .rate(rate) : speedup > 0 ? .original(speedup: speedup) : .unlimited)
        settings.loop = try options.bool("loop")
        settings.restamp = try options.bool("restamp")
        self.settings = settings
        progressSeconds = try options.double("progress-seconds")
        let window = try options.int("max-in-flight")
        guard (1...65_535).contains(window) else { throw UsageError("--max-in-flight must be between 1 and 65535") }

        let mqttSettings = try MQTTSettings(options, defaultClientId: "chirp-sender-\(ServiceMain.instanceId(options))")
        var mqtt = MQTTClient.Options(mqttSettings, cleanSession: true)
        mqtt.maxInFlight = window
        mqttOptions = mqtt
        logger = context.logger
        let status = mqttStatus
        let metrics = context.metrics
        self.metrics = ReplayMetrics(metrics)
        _ = metrics.gauge("sender_acknowledged_total", help: "Tweets the MQTT broker acknowledged (PUBACK).") { Double(status.counts.acknowledged) }
        _ = metrics.gauge("sender_in_flight", help: "Published tweets awaiting PUBACK.") { Double(status.counts.unanswered) }
        _ = metrics.gauge("sender_rejected_total", help: "Tweets the broker refused.") { Double(status.counts.refused) }
        context.readiness.add("mqtt") { status.isConnected ? nil : "not connected to the MQTT broker" }
    }

    /// Runs on the worker thread, which owns the MQTT client.
    func run(stop: StopSignal) throws {
        let client = try MQTTClient(options: mqttOptions, logger: logger, status: mqttStatus)
        try client.connect()
        defer { client.disconnect() }
        let source = FileTweetSource(path: path, options: options)
        var problemsShown = 0
        let path = self.path
        let loop = ReplayLoop(settings: settings, publisher: client, source: source, clock: SystemClock(), metrics: metrics,
                              wallClock: { Timestamp.now.millisecondsSinceEpoch }) { problem in
            guard problemsShown < 20 else { return }
            problemsShown += 1
            FileHandle.standardError.write(Data("chirp-sender: \(path): skipped \(problem)\n".utf8))
        }
        let started = ContinuousClock.now
        var lastProgress = started
        while !stop.isStopping, try loop.step(stop: stop) {
            if progressSeconds > 0, ContinuousClock.now - lastProgress >= .milliseconds(Int64(progressSeconds * 1000)) {
                lastProgress = ContinuousClock.now
                report(prefix: "progress", sent: loop.sent, since: started)
            }
        }
        defer {
            let counts = client.counts
            logger.info("replay finished", metadata: [
                "sent": "\(counts.published)", "acknowledged": "\(counts.acknowledged)", "failed": "\(counts.published - counts.acknowledged)",
                "invalid_documents": "\(metrics.invalid.total)", "passes": "\(loop.pass)",
            ])
        }
        do {
            try loop.finish()
        } catch {
            report(prefix: "done", sent: loop.sent, since: started)
            throw error
        }
        report(prefix: "done", sent: loop.sent, since: started)
    }

    private func report(prefix: String, sent: Int, since start: ContinuousClock.Instant) {
        let seconds = max(0.001, (ContinuousClock.now - start).seconds)
        let counts = mqttStatus.counts
        let line = String(format: "chirp-sender: %@: sent %d, acknowledged %d, failed %d, invalid documents %lld, %.0f tweets/s over %.1f s\n",
                          prefix, sent, counts.acknowledged, counts.refused, metrics.invalid.total, Double(sent) / seconds, seconds)
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// The tweets file, read in chunks of 1 MiB and cut into tweets as it streams.
final class FileTweetSource: TweetSource {
    let path: String
    let options: ParsedOptions
    private var file: FileHandle?
    private var reader: TweetInputReader?

    init(path: String, options: ParsedOptions) {
        self.path = path
        self.options = options
    }

    deinit { try? file?.close() }

    func rewind() throws {
        try? file?.close()
        guard let file = FileHandle(forReadingAtPath: path) else { throw UsageError("cannot open \(path)") }
        self.file = file
        reader = try InputOptions.reader(options, path: path)
    }

    func next() throws -> [TweetInputReader.Item]? {
        guard let file, var reader else { return nil }
        let chunk = file.readData(ofLength: 1 << 20)
        defer { self.reader = reader }
        do {
            if chunk.isEmpty {
                let items = try reader.finish()
                self.file = nil
                try? file.close()
                return items.isEmpty ? nil : items
            }
            return try reader.feed([UInt8](chunk))
        } catch {
            throw UsageError("\(path): \(error)")
        }
    }
}
