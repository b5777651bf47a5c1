/// The rolling window the coordinator keeps over its scrapes (DESIGN.md §8):
/// each series' cumulative counters over the last `alert_window_s`, and the
/// figures the alert rules read from them.
///
/// Counters are kept per series (the coordinator uses one per node and
/// rule version) and never summed before differencing: when one node of
/// three restarts, or stops exporting a version it uninstalled, the sum
/// drops by that series' whole history, and treating that drop as a reset
/// would count the other series' history as fresh errors. Per series, a
/// decreasing counter is a reset that restarts from 0, as in Prometheus
/// `increase()`; the increases are then summed (`sum(rate(...))`).
///
/// Unlike Prometheus, rates are not extrapolated to the window's edges:
/// each series keeps its newest scrape from before the window as a
/// baseline, so the increase covers the whole window, and a series with a
/// single scrape (a node just seen) contributes nothing yet.
public struct CounterWindow: Sendable, Hashable, Codable {
    public struct Sample: Sendable, Hashable, Codable {
        public let at: Int64
        public let reading: CounterReading
    }

    /// What ``record(_:series:at:)`` did with a reading.
    public enum RecordResult: Sendable, Hashable {
        case recorded
        /// Recorded; these counters went down, so the node restarted.
        case counterReset(fields: [String])
        /// Not recorded: the series already has a reading at or after `at`
        /// (a late scrape, or the wall clock went back).
        case outOfOrder(latest: Int64)
    }

    /// The window length in ms.
    public let length: Int64
    /// Samples per series, oldest first.
    public private(set) var series: [String: [Sample]] = [:]

    public init(length: Int64) {
        precondition(length > 0, "CounterWindow: length must be positive, got \(length) ms")
        self.length = length
    }

    /// Adds one scrape of `series` (a node and version) taken at `at`, and forgets
    /// what fell out of the window.
    @discardableResult
    public mutating func record(_ reading: CounterReading, series name: String, at: Int64) -> RecordResult {
        var samples = self.series[name, default: []]
        if let latest = samples.last {
            guard at > latest.at else { return .outOfOrder(latest: latest.at) }
        }
        let reset = samples.last.map { reading.resetFields(since: $0.reading) } ?? []
        samples.append(Sample(at: at, reading: reading))
        self.series[name] = samples
        self.prune(now: at)
        return reset.isEmpty ? .recorded : .counterReset(fields: reset)
    }

    /// Forgets samples older than each series' baseline for `now`, and
    /// series whose newest sample left the window.
    public mutating func prune(now: Int64) {
        let start = now - self.length
        for (name, samples) in self.series {
            guard let newest = samples.last, newest.at > start else {
                self.series[name] = nil
                continue
            }
            if let baseline = samples.lastIndex(where: { $0.at <= start }), baseline > 0 {
                self.series[name] = Array(samples[baseline...])
            }
        }
    }

    /// The figures over `(now - length, now]`, each series measured from
    /// its baseline (its newest sample at or before the window's start, or
    /// its first sample inside the window) to its newest sample at or before `now`.
    public func figures(now: Int64) -> WindowFigures {
        let start = now - self.length
        var figures = WindowFigures()
        for name in self.series.keys.sorted() {
            let samples = self.series[name, default: []].filter { $0.at <= now }
            let baseline = samples.lastIndex { $0.at <= start } ?? 0
            let used = samples[baseline...]
            guard used.count >= 2, let first = used.first, let last = used.last, last.at > start else { continue }
            var increase = CounterReading.zero
            for (earlier, later) in zip(used, used.dropFirst()) {
                let step = later.reading.increase(since: earlier.reading)
                increase.total += step.total
                increase.blocked += step.blocked
                increase.errors += step.errors
            }
            figures.requests += increase.total
            figures.blocked += increase.blocked
            figures.errors += increase.errors
            figures.errorsPerSecond += Double(increase.errors) * 1_000 / Double(last.at - first.at)
            figures.series += 1
        }
        return figures
    }
}
