import Foundation
import Glibc
import Logging
import Testing
@testable import ChirpService

@Suite struct OptionsTests {
    let specs = [
        OptionSpec("mqtt-host", env: "MQTT_HOST", default: "127.0.0.1", help: "Broker host."),
        OptionSpec("rate", env: "SENDER_RATE", default: "0", help: "Tweets per second."),
        OptionSpec("file", env: "TWEETS_FILE", help: "Input."),
        .switch("loop", env: "SENDER_LOOP", help: "Again and again."),
    ]

    @Test func flagBeatsEnvironmentBeatsDefault() throws {
        let parsed = try ParsedOptions.parse(["--rate", "50"], specs: specs, environment: ["SENDER_RATE": "10", "MQTT_HOST": "mqtt"])
        #expect(parsed.string("rate") == "50")
        #expect(parsed.sources["rate"] == "flag")
        #expect(parsed.string("mqtt-host") == "mqtt")
        #expect(parsed.sources["mqtt-host"] == "env")
        #expect(try parsed.bool("loop") == false)
        #expect(parsed.sources["loop"] == "default")
        #expect(parsed.string("file") == nil)
    }

    @Test func equalsFormSwitchesAndPositionals() throws {
        let parsed = try ParsedOptions.parse(["--rate=7.5", "--loop", "tweets.json", "--", "--not-a-flag"], specs: specs, environment: [:])
        #expect(try parsed.double("rate") == 7.5)
        #expect(try parsed.bool("loop"))
        #expect(parsed.positional == ["tweets.json", "--not-a-flag"])
        #expect(try ParsedOptions.parse([], specs: specs, environment: ["SENDER_LOOP": "yes"]).bool("loop"))
    }

    @Test func clearUsageErrors() {
        #expect(throws: UsageError("unknown option --speed")) { try ParsedOptions.parse(["--speed", "2"], specs: specs, environment: [:]) }
        #expect(throws: UsageError("--rate needs a value")) { try ParsedOptions.parse(["--rate"], specs: specs, environment: [:]) }
        #expect(throws: UsageError("--rate must be a whole number, got 'fast'")) {
            try ParsedOptions.parse(["--rate", "fast"], specs: specs, environment: [:]).int("rate")
        }
        #expect(throws: UsageError("--file (or TWEETS_FILE) is required")) {
            try ParsedOptions.parse([], specs: specs, environment: [:]).required("file")
        }
        #expect(throws: UsageError("--loop must be true or false, got 'maybe'")) {
            try ParsedOptions.parse(["--loop=maybe"], specs: specs, environment: [:]).bool("loop")
        }
    }

    @Test func helpAndMarkdownNameEveryEnvironmentVariable() {
        let help = OptionsHelp.text(usage: "x", summary: "y", specs: specs)
        let markdown = OptionsHelp.markdown(specs: specs)
        for spec in specs {
            #expect(help.contains("$\(spec.env)"))
            #expect(markdown.contains("`\(spec.env)`"))
            #expect(help.contains("--\(spec.flag)"))
        }
        #expect(help.contains("(default: 127.0.0.1)"))
    }
}

@Suite struct MetricsTests {
    @Test func rendersPrometheusText() {
        let registry = MetricsRegistry()
        let counter = registry.counter("things_total", help: "Things.")
        let labelled = registry.counter("dlq_total", help: "Dead letters.", label: "reason")
        let gauge = registry.gauge("lag", help: "Lag.") { 12 }
        let histogram = registry.histogram("batch_rows", help: "Rows.", bounds: [1, 10])
        counter.increment(by: 3)
        labelled.increment(label: "invalid_json")
        labelled.increment(label: "invalid_json")
        labelled.increment(label: "say \"hi\"")
        histogram.observe(5)
        histogram.observe(50)
        _ = gauge
        let text = registry.render()
        #expect(text.contains("# TYPE chirp_things_total counter\nchirp_things_total 3\n"))
        #expect(text.contains("chirp_dlq_total{reason=\"invalid_json\"} 2\n"))
        #expect(text.contains("chirp_dlq_total{reason=\"say \\\"hi\\\"\"} 1\n"))
        #expect(text.contains("# TYPE chirp_lag gauge\nchirp_lag 12\n"))
        #expect(text.contains("chirp_batch_rows_bucket{le=\"1\"} 0\nchirp_batch_rows_bucket{le=\"10\"} 1\nchirp_batch_rows_bucket{le=\"+Inf\"} 2\nchirp_batch_rows_sum 55\nchirp_batch_rows_count 2\n"))
        #expect(labelled.total == 3)
    }
}

@Suite struct HealthServerTests {
    @Test func parsesRequestLines() {
        #expect(HTTPRequest.parse(Array("GET /readyz?x=1 HTTP/1.1\r\nHost: a\r\n\r\n".utf8)) == HTTPRequest(method: "GET", path: "/readyz"))
        #expect(HTTPRequest.parse(Array("garbage\r\n".utf8)) == nil)
        #expect(HTTPRequest.parse(Array("GET readyz HTTP/1.1\r\n".utf8)) == nil)
    }

    @Test func servesHealthReadinessAndMetricsOverTCP() throws {
        let metrics = MetricsRegistry()
        metrics.counter("probe_total", help: "Probes.").increment()
        let readiness = ReadinessRegistry()
        let flag = AtomicFlag(false)
        readiness.add("kafka") { flag.value ? nil : "no broker" }
        let server = HealthServer(host: "127.0.0.1", port: 0, metrics: metrics, logger: Logger(label: "test"),
                                  readiness: { readiness.evaluate() })
        try server.start()
        defer { server.stop() }
        #expect(try HealthProbe.get(host: "127.0.0.1", port: server.port, path: "/healthz") == (200, "ok\n"))
        let notReady = try HealthProbe.get(host: "127.0.0.1", port: server.port, path: "/readyz")
        #expect(notReady.status == 503)
        #expect(notReady.body == "not ready: kafka: no broker\n")
        flag.set(true)
        #expect(try HealthProbe.get(host: "127.0.0.1", port: server.port, path: "/readyz").status == 200)
        let scrape = try HealthProbe.get(host: "127.0.0.1", port: server.port, path: "/metrics")
        #expect(scrape.status == 200)
        #expect(scrape.body.contains("chirp_probe_total 1"))
        #expect(try HealthProbe.get(host: "127.0.0.1", port: server.port, path: "/nope").status == 404)
    }

    /// One connection at a time is served, so a client that dribbles its request (one byte now
    /// and then, never ending its headers) is cut off at the request deadline, and the probe
    /// behind it is answered well before the dribbler would have finished.
    @Test func aSlowClientCannotHoldTheProbesUp() throws {
        let server = HealthServer(host: "127.0.0.1", port: 0, metrics: MetricsRegistry(), logger: Logger(label: "test"),
                                  readiness: { ReadinessRegistry().evaluate() })
        try server.start()
        defer { server.stop() }
        // Ten that connect and send nothing, one that dribbles its request.
        let idle = try (0..<10).map { _ in try HealthProbe.connect(host: "127.0.0.1", port: server.port) }
        defer { for fd in idle { close(fd) } }
        let slow = try HealthProbe.connect(host: "127.0.0.1", port: server.port)
        defer { close(slow) }
        // 40 bytes, one every 250 ms: 10 s if the server waited for all of them.
        let dribbler = Thread {
            for byte in Array("GET /metrics HTTP/1.1\r\nX-Slow: 1234567".utf8) {
                var value = byte
                if send(slow, &value, 1, Int32(MSG_NOSIGNAL)) <= 0 { return }
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
        dribbler.start()
        Thread.sleep(forTimeInterval: 0.3)
        let started = ContinuousClock.now
        #expect(try HealthProbe.get(host: "127.0.0.1", port: server.port, path: "/healthz") == (200, "ok\n"))
        let waited = ContinuousClock.now - started
        #expect(waited < HealthServer.requestDeadline, "the probe waited \(waited) behind slow and idle clients")
        // The server closed the slow connection without an answer.
        var answer = [UInt8](repeating: 0, count: 64)
        #expect(recv(slow, &answer, answer.count, 0) <= 0)
    }

    @Test func headGetsTheHeadersOnly() throws {
        let server = HealthServer(host: "127.0.0.1", port: 0, metrics: MetricsRegistry(), logger: Logger(label: "test"),
                                  readiness: { ReadinessRegistry().evaluate() })
        try server.start()
        defer { server.stop() }
        let answer = try HealthProbe.exchange(host: "127.0.0.1", port: server.port, request: "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let text = String(decoding: answer, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200") && text.hasSuffix("\r\n\r\n"), "\(text)")
    }
}
