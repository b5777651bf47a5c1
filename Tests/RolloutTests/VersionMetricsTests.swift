import Rollout
import Testing

@Suite("VersionMetrics: rates, merging nodes, increases across restarts")
struct VersionMetricsTests {
    @Test("rates are ratios of decisions and undefined without decisions")
    func rates() {
        let metrics = VersionMetrics(decisions: 200, blocked: 50, errors: 3)
        #expect(metrics.blockRate == 0.25)
        #expect(metrics.errorRate == 0.015)
        #expect(VersionMetrics.zero.blockRate == nil)
        #expect(VersionMetrics.zero.errorRate == nil)
    }

    @Test(
        "increase per counter; a counter that went down restarted from 0",
        arguments: [
            // (earlier, later, expected) as (decisions, blocked, errors)
            ((100, 10, 1), (150, 12, 1), (50, 2, 0)),
            ((100, 10, 1), (100, 10, 1), (0, 0, 0)),
            ((100, 10, 5), (30, 4, 0), (30, 4, 0)),  // node restarted
            ((100, 10, 5), (130, 4, 6), (30, 4, 1)),  // only `blocked` looks reset
        ]
    )
    func increase(_ earlier: (Int64, Int64, Int64), _ later: (Int64, Int64, Int64), _ expected: (Int64, Int64, Int64)) {
        let a = VersionMetrics(decisions: earlier.0, blocked: earlier.1, errors: earlier.2)
        let b = VersionMetrics(decisions: later.0, blocked: later.1, errors: later.2)
        let delta = b.increase(since: a)
        #expect(delta.decisions == expected.0)
        #expect(delta.blocked == expected.1)
        #expect(delta.errors == expected.2)
    }

    @Test("per-node increases summed are right where a cluster-wide difference is not")
    func perNodeIncreasesSurviveARestart() {
        // Three nodes at 1000 each; node 3 restarts and has answered 10 since.
        let before = [1_000, 1_000, 1_000].map { VersionMetrics(decisions: $0) }
        let after = [1_100, 1_100, 10].map { VersionMetrics(decisions: $0) }
        let summed = zip(after, before).map { $0.increase(since: $1) }.reduce(VersionMetrics.zero) { $0.adding($1) }
        #expect(summed.decisions == 210)
    }
}
