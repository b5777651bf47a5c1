import Alerting
import Testing

@Suite("CounterWindow: rates over the alert window, across counter resets")
struct CounterWindowTests {
    /// Records `reading(i)` for node `series` every 5 s from `t0` for `count` scrapes.
    static func fill(
        _ window: inout CounterWindow, series: String = "n1", from t0: Int64 = 0, count: Int, reading: (Int64) -> CounterReading
    ) {
        for i in 0..<Int64(count) { window.record(reading(i), series: series, at: t0 + i * 5_000) }
    }

    @Test("steady traffic: increases cover the whole window from the baseline before it")
    func steadyTraffic() {
        var window = CounterWindow(length: 300_000)
        // 100 req/s, 10 blocked/s, 2 errors/s for 10 minutes.
        Self.fill(&window, count: 121) { CounterReading(total: $0 * 500, blocked: $0 * 50, errors: $0 * 10) }
        let figures = window.figures(now: 600_000)
        #expect(figures == WindowFigures(requests: 30_000, blocked: 3_000, errors: 600, errorsPerSecond: 2, series: 1))
        #expect(figures.blockRatio == 0.1)
        #expect(figures.hasTraffic)
    }

    struct ResetRow: CustomTestStringConvertible, Sendable {
        let name: String
        let totals: [Int64]
        let expected: Int64
        var testDescription: String { name }
    }

    @Test(
        "a decreasing counter restarted from 0",
        arguments: [
            ResetRow(name: "no reset", totals: [100, 150, 200], expected: 100),
            ResetRow(name: "reset to a small value", totals: [1_000, 1_100, 40, 90], expected: 100 + 40 + 50),
            ResetRow(name: "reset to zero", totals: [1_000, 0, 10], expected: 10),
            ResetRow(name: "two resets", totals: [500, 20, 5, 25], expected: 20 + 5 + 20),
        ]
    )
    func counterResets(_ row: ResetRow) {
        var window = CounterWindow(length: 300_000)
        for (i, total) in row.totals.enumerated() { window.record(CounterReading(total: total), series: "n1", at: Int64(i) * 5_000) }
        #expect(window.figures(now: Int64(row.totals.count - 1) * 5_000).requests == row.expected)
    }

    @Test("recording reports a reset and refuses a reading older than the series' latest")
    func recordResults() {
        var window = CounterWindow(length: 300_000)
        #expect(window.record(CounterReading(total: 10, blocked: 5, errors: 1), series: "n1", at: 1_000) == .recorded)
        #expect(window.record(CounterReading(total: 3, blocked: 5, errors: 0), series: "n1", at: 2_000) == .counterReset(fields: ["total", "errors"]))
        #expect(window.record(CounterReading(total: 4), series: "n1", at: 2_000) == .outOfOrder(latest: 2_000))
        #expect(window.record(CounterReading(total: 4), series: "n1", at: 1_500) == .outOfOrder(latest: 2_000))
        #expect(window.record(CounterReading(total: 4), series: "n2", at: 1_500) == .recorded)
    }

    @Test("one node of three restarting is not a burst: counters are differenced per node, then summed")
    func restartOfOneNode() {
        var window = CounterWindow(length: 300_000)
        for node in ["n1", "n2", "n3"] {
            Self.fill(&window, series: node, count: 60) { CounterReading(total: 100_000 + $0 * 50, errors: 10_000 + $0) }
        }
        // n3 restarts: 5 s later it shows only what it did since.
        window.record(CounterReading(total: 100_000 + 60 * 50, errors: 10_060), series: "n1", at: 300_000)
        window.record(CounterReading(total: 100_000 + 60 * 50, errors: 10_060), series: "n2", at: 300_000)
        window.record(CounterReading(total: 50, errors: 1), series: "n3", at: 300_000)
        let figures = window.figures(now: 300_000)
        // Summed first, the total would drop by ~100k and count as a reset
        // worth ~200k requests. Per node, each did 60 * 50 requests and 60 errors in 300 s.
        #expect(figures.requests == 3 * 60 * 50)
        #expect(figures.errors == 180)
        #expect(abs(figures.errorsPerSecond - 0.6) < 1e-12)
    }

    @Test("a node seen once contributes nothing yet; its first reading is history, not traffic")
    func firstReadingIsNotTraffic() {
        var window = CounterWindow(length: 300_000)
        window.record(CounterReading(total: 1_000_000, errors: 50_000), series: "n4", at: 10_000)
        #expect(window.figures(now: 10_000) == .none)
        window.record(CounterReading(total: 1_000_500, errors: 50_000), series: "n4", at: 15_000)
        #expect(window.figures(now: 15_000) == WindowFigures(requests: 500, series: 1))
    }

    @Test("traffic ages out of the window, and stale series are forgotten")
    func ageing() {
        var window = CounterWindow(length: 60_000)
        Self.fill(&window, count: 13) { CounterReading(total: $0 * 100, errors: $0) }
        #expect(window.figures(now: 60_000).requests == 1_200)
        // No new scrapes: at 125 s the newest sample (60 s) is outside the window.
        #expect(window.figures(now: 125_000) == .none)
        window.prune(now: 125_000)
        #expect(window.series.isEmpty)
    }

    @Test("pruning keeps one baseline sample before the window per series")
    func pruningKeepsBaseline() {
        var window = CounterWindow(length: 20_000)
        Self.fill(&window, count: 20) { CounterReading(total: $0) }
        let samples = window.series["n1"]!
        #expect(samples.first!.at == 95_000 - 20_000)
        #expect(samples.count == 5)
        #expect(window.figures(now: 95_000).requests == 4)
    }
}
