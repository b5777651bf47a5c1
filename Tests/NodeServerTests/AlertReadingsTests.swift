import Alerting
@testable import NodeServer
import Rollout
import Testing

/// The series the coordinator's alert window keeps (DESIGN §8).
struct AlertReadingsTests {
    @Test("a node that uninstalls an old version raises no false Error Spike: the window follows each version on its own")
    func uninstalledVersionIsNoReset() {
        var evaluator = AlertEvaluator(environment: "production")
        func scrape(_ versions: [String: VersionMetrics]) -> [String: MetricsScrape] {
            var metrics = MetricsScrape(text: "")
            metrics.versions = versions
            return ["n1": metrics]
        }
        // v1 has a long history of errors; v3 too; v2 is recent.
        let first = scrape(["v1": VersionMetrics(decisions: 10_000, errors: 5_000), "v2": VersionMetrics(decisions: 100),
                            "v3": VersionMetrics(decisions: 9_000, errors: 3_000)])
        // Five seconds later v1 is uninstalled (its series gone); the others served 100 checks each, without errors.
        let second = scrape(["v2": VersionMetrics(decisions: 200), "v3": VersionMetrics(decisions: 9_100, errors: 3_000)])
        for (series, reading) in Coordinator.alertReadings(first) { _ = evaluator.onScrape(reading, series: series, now: 1_000) }
        for (series, reading) in Coordinator.alertReadings(second) { _ = evaluator.onScrape(reading, series: series, now: 6_000) }
        let figures = evaluator.window.figures(now: 6_000)
        #expect(figures.requests == 200 && figures.errors == 0, "\(figures)")
        #expect(evaluator.evaluate(now: 6_000).notifications.isEmpty)
    }
}
