import Alerting
import Foundation
@testable import NodeServer
import Testing

/// What a restarted coordinator makes of the alert state it journalled (DESIGN §8).
struct AlertRestoreTests {
    /// An evaluator with High Block Rate firing: every check blocked for a minute.
    static func firing(_ thresholds: MonitoringThresholds = .init()) -> AlertEvaluator {
        var evaluator = AlertEvaluator(environment: "production", thresholds: thresholds)
        for second in 0...60 {
            let at = Int64(second) * 5_000
            evaluator.onScrape(CounterReading(total: Int64(second) * 100, blocked: Int64(second) * 100, errors: 0), series: "n1 v1", now: at)
            _ = evaluator.evaluate(now: at)
        }
        return evaluator
    }

    @Test("a saved evaluator for the same environment, thresholds and rules comes back with its firing alert; anything else starts fresh")
    func restore() throws {
        let saved = Self.firing()
        #expect(saved.firing.map(\.rule.name) == ["High Block Rate"])
        let data = try JSONEncoder().encode(saved)
        let fresh = AlertEvaluator(environment: "production")
        #expect(Coordinator.restoredAlerting(saved: data, fresh: fresh) == saved)
        // Other thresholds, another environment, no state, or garbage: fresh.
        var other = MonitoringThresholds()
        other.blockRate = 0.5
        let otherFresh = AlertEvaluator(environment: "production", thresholds: other)
        #expect(Coordinator.restoredAlerting(saved: data, fresh: otherFresh) == otherFresh)
        let stagingFresh = AlertEvaluator(environment: "staging")
        #expect(Coordinator.restoredAlerting(saved: data, fresh: stagingFresh) == stagingFresh)
        #expect(Coordinator.restoredAlerting(saved: nil, fresh: fresh) == fresh)
        #expect(Coordinator.restoredAlerting(saved: Data("{".utf8), fresh: fresh) == fresh)
    }

    @Test("a restored firing alert is not announced again while it keeps firing, and resolves once")
    func noSecondFiring() throws {
        var restored = try JSONDecoder().decode(AlertEvaluator.self, from: JSONEncoder().encode(Self.firing()))
        var announced: [String] = []
        var at: Int64 = 61 * 5_000
        // Still blocking everything for a while: nothing to say.
        for step in 61...70 {
            at = Int64(step) * 5_000
            restored.onScrape(CounterReading(total: Int64(step) * 100, blocked: Int64(step) * 100, errors: 0), series: "n1 v1", now: at)
            announced += restored.evaluate(now: at).notifications.map { "\($0.alert) \($0.status.rawValue)" }
        }
        #expect(announced.isEmpty, "\(announced)")
        // Then traffic stops; once the window holds none, it resolves, once.
        for step in 71...200 {
            at = Int64(step) * 5_000
            restored.onScrape(CounterReading(total: 7_000, blocked: 7_000, errors: 0), series: "n1 v1", now: at)
            announced += restored.evaluate(now: at).notifications.map { "\($0.alert) \($0.status.rawValue)" }
        }
        #expect(announced == ["High Block Rate resolved"])
    }
}
