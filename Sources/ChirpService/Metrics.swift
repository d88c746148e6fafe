import Foundation
import Synchronization

/// A monotonically increasing count, optionally split by one label. Unlabeled counts are one
/// atomic add (they tick per message on hot paths); labeled ones take a lock.
public final class Counter: Sendable {
    let name: String
    let help: String
    let labelName: String?
    private let unlabeled = Atomic<Int64>(0)
    private let values = Mutex<[String: Int64]>([:])

    init(name: String, help: String, labelName: String?) {
        self.name = name
        self.help = help
        self.labelName = labelName
    }

    public func increment(by amount: Int64 = 1, label: String = "") {
        if label.isEmpty {
            unlabeled.add(amount, ordering: .relaxed)
        } else {
            values.withLock { $0[label, default: 0] += amount }
        }
    }

    public func value(label: String = "") -> Int64 {
        label.isEmpty ? unlabeled.load(ordering: .relaxed) : values.withLock { $0[label] ?? 0 }
    }

    var snapshot: [String: Int64] {
        var result = values.withLock { $0 }
        let plain = unlabeled.load(ordering: .relaxed)
        if plain != 0 || labelName == nil { result[""] = plain }
        return result
    }

    /// Sum over all label values.
    public var total: Int64 { values.withLock { $0.values.reduce(0, +) } + unlabeled.load(ordering: .relaxed) }
}

/// A value that goes up and down; either set directly or read from a closure at scrape time.
public final class Gauge: Sendable {
    let name: String
    let help: String
    private let stored = Mutex<Double>(0)
    private let reader: (@Sendable () -> Double)?

    init(name: String, help: String, reader: (@Sendable () -> Double)?) {
        self.name = name
        self.help = help
        self.reader = reader
    }

    public func set(_ value: Double) { stored.withLock { $0 = value } }

    public var value: Double { reader?() ?? stored.withLock { $0 } }
}

/// A histogram with fixed buckets (Prometheus cumulative buckets, sum and count).
public final class Histogram: Sendable {
    let name: String
    let help: String
    let bounds: [Double]
    private struct State { var buckets: [Int64]; var sum: Double; var count: Int64 }
    private let state: Mutex<State>

    init(name: String, help: String, bounds: [Double]) {
        self.name = name
        self.help = help
        self.bounds = bounds
        self.state = Mutex(State(buckets: Array(repeating: 0, count: bounds.count), sum: 0, count: 0))
    }

    public func observe(_ value: Double) {
        state.withLock { state in
            for (i, bound) in bounds.enumerated() where value <= bound { state.buckets[i] += 1 }
            state.sum += value
            state.count += 1
        }
    }

    fileprivate func render(into lines: inout [String]) {
        let snapshot = state.withLock { $0 }
        for (i, bound) in bounds.enumerated() {
            lines.append("\(name)_bucket{le=\"\(MetricsRegistry.format(bound))\"} \(snapshot.buckets[i])")
        }
        lines.append("\(name)_bucket{le=\"+Inf\"} \(snapshot.count)")
        lines.append("\(name)_sum \(MetricsRegistry.format(snapshot.sum))")
        lines.append("\(name)_count \(snapshot.count)")
    }
}

/// The process's metrics, rendered in the Prometheus text exposition format (version 0.0.4).
/// Every metric name gets the `chirp_` prefix.
public final class MetricsRegistry: Sendable {
    private enum Metric: Sendable {
        case counter(Counter), gauge(Gauge), histogram(Histogram)
    }
    private let metrics = Mutex<[Metric]>([])

    public init() {}

    public func counter(_ name: String, help: String, label: String? = nil) -> Counter {
        let counter = Counter(name: "chirp_" + name, help: help, labelName: label)
        metrics.withLock { $0.append(.counter(counter)) }
        return counter
    }

    public func gauge(_ name: String, help: String, reader: (@Sendable () -> Double)? = nil) -> Gauge {
        let gauge = Gauge(name: "chirp_" + name, help: help, reader: reader)
        metrics.withLock { $0.append(.gauge(gauge)) }
        return gauge
    }

    public func histogram(_ name: String, help: String, bounds: [Double]) -> Histogram {
        let histogram = Histogram(name: "chirp_" + name, help: help, bounds: bounds)
        metrics.withLock { $0.append(.histogram(histogram)) }
        return histogram
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    static func escapeLabel(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    public func render() -> String {
        var lines: [String] = []
        for metric in metrics.withLock({ $0 }) {
            switch metric {
            case .counter(let counter):
                lines.append("# HELP \(counter.name) \(counter.help)")
                lines.append("# TYPE \(counter.name) counter")
                let snapshot = counter.snapshot
                if let label = counter.labelName {
                    for (value, count) in snapshot.sorted(by: { $0.key < $1.key }) {
                        lines.append("\(counter.name){\(label)=\"\(Self.escapeLabel(value))\"} \(count)")
                    }
                } else {
                    lines.append("\(counter.name) \(snapshot[""] ?? 0)")
                }
            case .gauge(let gauge):
                lines.append("# HELP \(gauge.name) \(gauge.help)")
                lines.append("# TYPE \(gauge.name) gauge")
                lines.append("\(gauge.name) \(Self.format(gauge.value))")
            case .histogram(let histogram):
                lines.append("# HELP \(histogram.name) \(histogram.help)")
                lines.append("# TYPE \(histogram.name) histogram")
                histogram.render(into: &lines)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
