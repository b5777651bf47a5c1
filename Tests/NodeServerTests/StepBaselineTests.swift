import Foundation
@testable import NodeServer
import Rollout
import Testing

/// How a rollout step measures a version since its start (DESIGN §7) when
/// nodes restart in between.
struct StepBaselineTests {
    @Test("a node exports its start time and the coordinator's scrape reads it, fractions kept")
    func startTimeIsScraped() throws {
        let before = Date().timeIntervalSince1970
        let metrics = EngineMetrics(node: "n1")
        let scrape = MetricsScrape(text: String(decoding: metrics.prometheusText(), as: UTF8.self))
        let start = try #require(scrape.startTime)
        #expect(start >= before - 1 && start <= Date().timeIntervalSince1970 + 1, "\(start)")
        let written = MetricsScrape(text: "rate_limit_node_start_time_seconds{node=\"n1\"} 1800000000.25\n")
        #expect(written.startTime == 1_800_000_000.25, "fractions of a second are kept")
        // A value past Int64's range is skipped as malformed, not trapped on.
        #expect(MetricsScrape(text: "rate_limit_requests_total{version=\"v1\"} 1e30\n").versions.isEmpty)
    }

    @Test("a node restarted since the step began counts whole, though its counters passed the old baseline: no false 6% error rate")
    func restartedNodeCountsWhole() {
        let baseline = ["n1": MetricsScrape(versions: ["v2": VersionMetrics(decisions: 1_000, errors: 0)], startTime: 100)]
        // After a restart: 1,200 decisions and 12 errors, all since the restart.
        let restarted = ["n1": MetricsScrape(versions: ["v2": VersionMetrics(decisions: 1_200, errors: 12)], startTime: 200)]
        let whole = Coordinator.sum(restarted, since: baseline, version: "v2")
        #expect(whole.decisions == 1_200 && whole.errors == 12)
        #expect(whole.errorRate == 0.01)
        // The same node, not restarted: the increase since the baseline.
        let kept = ["n1": MetricsScrape(versions: ["v2": VersionMetrics(decisions: 1_200, errors: 12)], startTime: 100)]
        let increase = Coordinator.sum(kept, since: baseline, version: "v2")
        #expect(increase.decisions == 200 && increase.errors == 12)
    }

    @Test("baselines keep their start times in the journal, and a journal from before start times still reads")
    func baselinesRoundTrip() throws {
        let baselines = ["n1": MetricsScrape(versions: ["v1": VersionMetrics(decisions: 5, blocked: 1, errors: 2)], startTime: 1_800_000_000.25),
                         "n2": MetricsScrape(versions: [:])]
        let data = try #require(Coordinator.encode(baselines: baselines))
        #expect(Coordinator.decodeBaselines(data) == baselines)
        let old = try JSONEncoder().encode(["n1": ["v1": VersionMetrics(decisions: 5)]])
        #expect(Coordinator.decodeBaselines(old) == ["n1": MetricsScrape(versions: ["v1": VersionMetrics(decisions: 5)])])
    }
}

/// The dashboard's and `ratelimit status`'s per-version series (DESIGN §8).
struct ObservedIncreaseTests {
    @Test("the dashboard's series add up each node's increases: a restart or an uninstalled version makes no spike, a new node adds nothing at once")
    func increases() {
        let first: [String: MetricsScrape] = [
            "n1": MetricsScrape(versions: ["v1": VersionMetrics(decisions: 50_000, errors: 100), "v2": VersionMetrics(decisions: 10)],
                                startTime: 100),
            "n2": MetricsScrape(versions: ["v2": VersionMetrics(decisions: 20_000)], startTime: 100),
        ]
        // n1 restarted (v1 gone, v2 from 0 again), n2 served 30 more, n3 appears with old history.
        let second: [String: MetricsScrape] = [
            "n1": MetricsScrape(versions: ["v2": VersionMetrics(decisions: 40)], startTime: 200),
            "n2": MetricsScrape(versions: ["v2": VersionMetrics(decisions: 20_030)], startTime: 100),
            "n3": MetricsScrape(versions: ["v2": VersionMetrics(decisions: 9_999)], startTime: 150),
        ]
        let increases = Coordinator.increases(second, since: first)
        #expect(increases["v2"]?.decisions == 70, "\(String(describing: increases["v2"]))")
        #expect(increases["v1"] == nil, "v1 is in no node's scrape any more")
        // The first round has nothing to compare with.
        #expect(Coordinator.increases(first, since: [:]).values.allSatisfy { $0 == .zero })
    }
}

/// When the coordinator's loop wakes (DESIGN §7: each step held duration / 5).
struct TickScheduleTests {
    @Test("the loop wakes at a step's end when that comes before the next scrape; a step over but unjudged is retried after a second")
    func wakesAtStepEnd() {
        let interval = Duration.seconds(5)
        #expect(Coordinator.wait(interval: interval, stepEndsAt: 1_000 + 1_200, now: 1_000) == .milliseconds(1_210))
        #expect(Coordinator.wait(interval: interval, stepEndsAt: 1_000 + 9_000, now: 1_000) == interval)
        #expect(Coordinator.wait(interval: interval, stepEndsAt: 500, now: 1_000) == .seconds(1), "a step over but unjudged: a second, no tight loop")
        #expect(Coordinator.wait(interval: .milliseconds(500), stepEndsAt: 500, now: 1_000) == .milliseconds(500))
    }
}
