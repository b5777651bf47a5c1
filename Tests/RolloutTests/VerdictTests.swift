import Rollout
import Testing

@Suite("Step analysis: the verdict table of DESIGN.md §7")
struct VerdictTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let name: String
        var window: StepWindow
        var percent = 25
        var previous: Double? = nil
        var ended = true
        var extended = false
        let outcome: Verdict.Outcome
        var failed: [Verdict.Check] = []
        var reason: String? = nil
        var testDescription: String { name }
    }

    static let thresholds = RolloutThresholds()

    /// A canary with `decisions` decisions, `blocked`, `errors`, fast unless `slow`.
    static func canary(_ decisions: Int64, blocked: Int64 = 0, errors: Int64 = 0, slow: Bool = false) -> VersionMetrics {
        VersionMetrics(
            decisions: decisions, blocked: blocked, errors: errors,
            latency: slow ? Traffic.slow(decisions) : Traffic.fast(decisions)
        )
    }

    static func stable(_ decisions: Int64, blocked: Int64) -> VersionMetrics {
        VersionMetrics(decisions: decisions, blocked: blocked, latency: Traffic.fast(decisions))
    }

    /// 94 observations whose p95 interpolates to exactly 312 ms: 89 <= 300 ms, 5 in (300, 500].
    static let p95Of312 = LatencyHistogram(buckets: [(le: 0.3, count: 89), (le: 0.5, count: 94)], count: 94)

    static let rows: [Row] = [
        Row(
            name: "within every threshold at the step's end: pass",
            window: StepWindow(canary: canary(1_000, blocked: 100, errors: 10), stable: stable(3_000, blocked: 300)),
            outcome: .pass,
            reason: "1000 canary decisions; canary error rate 0.01 <= 0.05, canary p95 4.9 ms <= 200 ms, canary block rate 0.1 <= stable 0.1 + 0.2"
        ),
        Row(
            name: "error rate above 0.05 fails",
            window: StepWindow(canary: canary(1_000, errors: 51), stable: stable(3_000, blocked: 0)),
            outcome: .fail, failed: [.errorRate], reason: "canary error rate 0.051 > 0.05"
        ),
        Row(
            name: "error rate of exactly 0.05 passes",
            window: StepWindow(canary: canary(1_000, errors: 50), stable: stable(3_000, blocked: 0)),
            outcome: .pass
        ),
        Row(
            name: "p95 above 200 ms fails, with the figure in the reason",
            window: StepWindow(
                canary: VersionMetrics(decisions: 1_000, latency: p95Of312), stable: stable(3_000, blocked: 0)
            ),
            outcome: .fail, failed: [.latency], reason: "canary p95 312 ms > 200 ms"
        ),
        Row(
            name: "p95 of exactly 200 ms passes",
            window: StepWindow(
                canary: VersionMetrics(decisions: 100, latency: LatencyHistogramTests.sample), stable: stable(300, blocked: 0)
            ),
            outcome: .pass
        ),
        Row(
            name: "canary block rate more than 0.2 above stable's fails",
            window: StepWindow(canary: canary(1_000, blocked: 450), stable: stable(3_000, blocked: 600)),
            outcome: .fail, failed: [.blockRate], reason: "canary block rate 0.45 > stable 0.2 + 0.2"
        ),
        Row(
            name: "canary block rate exactly 0.2 above stable's passes despite rounding",
            window: StepWindow(canary: canary(1_000, blocked: 300), stable: stable(3_000, blocked: 300)),
            outcome: .pass
        ),
        Row(
            name: "a high block rate that stable shares passes",
            window: StepWindow(canary: canary(1_000, blocked: 700), stable: stable(3_000, blocked: 2_000)),
            outcome: .pass
        ),
        Row(
            name: "at 100% the canary is compared with the previous step's stable block rate",
            window: StepWindow(canary: canary(4_000, blocked: 1_800), stable: .zero),
            percent: 100, previous: 0.3,
            outcome: .pass, reason: "4000 canary decisions; canary error rate 0 <= 0.05, canary p95 4.9 ms <= 200 ms, canary block rate 0.45 <= stable 0.3 + 0.2"
        ),
        Row(
            name: "at 100% stragglers on stable do not replace the previous step's rate",
            window: StepWindow(canary: canary(4_000, blocked: 2_200), stable: stable(10, blocked: 10)),
            percent: 100, previous: 0.3,
            outcome: .fail, failed: [.blockRate], reason: "canary block rate 0.55 > stable 0.3 + 0.2"
        ),
        Row(
            name: "a step without stable traffic falls back on the previous stable rate",
            window: StepWindow(canary: canary(1_000, blocked: 600), stable: .zero),
            percent: 50, previous: 0.1,
            outcome: .fail, failed: [.blockRate]
        ),
        Row(
            name: "no stable rate known at all: the block rate is not compared",
            window: StepWindow(canary: canary(1_000, blocked: 900), stable: .zero),
            outcome: .pass
        ),
        Row(
            name: "several crossed thresholds are all named",
            window: StepWindow(canary: canary(1_000, blocked: 900, errors: 100, slow: true), stable: stable(3_000, blocked: 0)),
            outcome: .fail, failed: [.errorRate, .latency, .blockRate],
            reason: "canary error rate 0.1 > 0.05; canary p95 297.5 ms > 200 ms; canary block rate 0.9 > stable 0 + 0.2"
        ),
        Row(
            name: "too few samples before the end: pending, whatever the rates",
            window: StepWindow(canary: canary(99, errors: 99, slow: true), stable: stable(300, blocked: 0)),
            ended: false,
            outcome: .pending, failed: [.samples], reason: "waiting: 99 canary decisions < min_samples 100"
        ),
        Row(
            name: "too few samples at the end of the step: extend it once",
            window: StepWindow(canary: canary(42), stable: stable(300, blocked: 0)),
            outcome: .extend, failed: [.samples], reason: "42 canary decisions < min_samples 100: step extended once"
        ),
        Row(
            name: "too few samples at the end of the extended step: fail",
            window: StepWindow(canary: canary(42), stable: stable(300, blocked: 0)),
            extended: true,
            outcome: .fail, failed: [.samples], reason: "42 canary decisions < min_samples 100 after extending the step once"
        ),
        Row(
            name: "exactly min_samples is enough to judge",
            window: StepWindow(canary: canary(100), stable: stable(300, blocked: 0)),
            outcome: .pass
        ),
        Row(
            name: "enough samples and a crossed threshold before the end: fail at once",
            window: StepWindow(canary: canary(500, errors: 100), stable: stable(1_500, blocked: 0)),
            ended: false,
            outcome: .fail, failed: [.errorRate]
        ),
        Row(
            name: "enough samples and healthy before the end: pending",
            window: StepWindow(canary: canary(500), stable: stable(1_500, blocked: 0)),
            ended: false,
            outcome: .pending
        ),
        Row(
            name: "decisions without latency observations: p95 unknown, not failed",
            window: StepWindow(canary: VersionMetrics(decisions: 500), stable: stable(1_500, blocked: 0)),
            outcome: .pass
        ),
    ]

    @Test("judge", arguments: rows)
    func judge(_ row: Row) {
        let verdict = Self.thresholds.judge(
            row.window, percent: row.percent, previousStableBlockRate: row.previous, stepEnded: row.ended, extended: row.extended
        )
        #expect(verdict.outcome == row.outcome, "\(verdict.reason)")
        #expect(verdict.failed == row.failed)
        if let reason = row.reason { #expect(verdict.reason == reason) }
        #expect(verdict.percent == row.percent)
        #expect(verdict.samples == row.window.canary.decisions)
    }

    @Test("the verdict carries the measured figures and prints one line per step")
    func figuresAndSummary() {
        let window = StepWindow(canary: Self.canary(1_000, blocked: 150, errors: 4), stable: Self.stable(3_000, blocked: 300))
        let verdict = Self.thresholds.judge(window, percent: 25, previousStableBlockRate: nil, stepEnded: true, extended: false)
        #expect(verdict.canaryErrorRate == 0.004)
        #expect(verdict.canaryBlockRate == 0.15)
        #expect(verdict.stableBlockRate == 0.1)
        #expect(verdict.stableSamples == 3_000)
        #expect(abs((verdict.canaryP95Milliseconds ?? 0) - 4.875) < 1e-9)
        #expect(
            verdict.summary.hasPrefix("25%: samples 1000, error rate 0.004, p95 4.9 ms, block rate 0.15 vs stable 0.1: pass (")
        )
    }

    @Test("other thresholds are honoured")
    func customThresholds() {
        let strict = RolloutThresholds(maxErrorRate: 0.001, maxP95Milliseconds: 4, maxBlockRateIncrease: 0.01, minSamples: 10)
        let window = StepWindow(canary: Self.canary(20, blocked: 5, errors: 1), stable: Self.stable(80, blocked: 4))
        let verdict = strict.judge(window, percent: 10, previousStableBlockRate: nil, stepEnded: true, extended: false)
        #expect(verdict.failed == [.errorRate, .latency, .blockRate])
    }
}
