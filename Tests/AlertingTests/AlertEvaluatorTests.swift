@testable import Alerting
import Foundation
import Testing

@Suite("AlertEvaluator: the seed's alerts fire once and resolve once (DESIGN.md §8)")
struct AlertEvaluatorTests {
    @Test("Given a block rate above 0.2, then High Block Rate is pending one round, fires once, and stays quiet while firing")
    func highBlockRateFiresOnce() throws {
        var harness = ScrapeHarness()
        #expect(harness.round(requests: 300, blocked: 129).isEmpty, "first crossing: pending")
        #expect(harness.evaluator.state(of: "High Block Rate") == .pending(since: harness.now, value: 0.43))

        let fired = harness.round(requests: 300, blocked: 129)
        let notification = try #require(fired.first)
        #expect(fired.count == 1)
        #expect(notification.alert == "High Block Rate")
        #expect(notification.severity == .warning)
        #expect(notification.status == .firing)
        #expect(notification.environment == "staging")
        #expect(notification.value == 0.43)
        #expect(notification.threshold == 0.2)
        #expect(notification.message == "blocked/total 0.43 > 0.2 over the last 300 s (1290 of 3000 requests)")
        #expect(notification.at == harness.now)

        #expect(harness.rounds(100, requests: 300, blocked: 129).isEmpty, "never repeated while firing")
        #expect(harness.evaluator.firing.map(\.rule.name) == ["High Block Rate"])
    }

    @Test("Given a firing alert, when the window's block rate falls back, then it resolves exactly once")
    func resolvesOnce() throws {
        var harness = ScrapeHarness()
        harness.rounds(3, requests: 300, blocked: 150)
        // Healthy traffic dilutes the window until blocked/total <= 0.2.
        let healthy = harness.rounds(120, requests: 3_000, blocked: 0)
        #expect(healthy.count == 1)
        let resolved = try #require(healthy.first)
        #expect(resolved.status == .resolved)
        #expect(resolved.alert == "High Block Rate")
        #expect(try #require(resolved.value) <= 0.2)
        #expect(resolved.message.hasPrefix("blocked/total 0.") && resolved.message.contains(" <= 0.2 over the last 300 s"))
        #expect(harness.evaluator.state(of: "High Block Rate") == .resolved(at: resolved.at))
        #expect(harness.sent.map(\.status) == [.firing, .resolved])
    }

    @Test("A window with no traffic is not firing: nothing fires on an idle cluster, and a firing alert resolves when traffic stops")
    func noTraffic() throws {
        var idle = ScrapeHarness()
        #expect(idle.rounds(100).isEmpty)
        #expect(idle.evaluator.states == [.inactive, .inactive])

        var harness = ScrapeHarness()
        harness.rounds(2, requests: 300, blocked: 300)
        #expect(harness.evaluator.state(of: "High Block Rate")?.isFiring == true)
        let quiet = harness.rounds(61)
        let resolved = try #require(quiet.first)
        #expect(quiet.count == 1)
        #expect(resolved.value == 0)
        #expect(resolved.message == "no traffic over the last 300 s")
    }

    @Test("Given more than 10 errors per second over the window, then Error Spike fires as critical, once")
    func errorSpike() throws {
        var harness = ScrapeHarness()
        let sent = harness.rounds(20, requests: 3_000, errors: 15)
        let spike = try #require(sent.first)
        #expect(sent.count == 1)
        #expect(spike.alert == "Error Spike")
        #expect(spike.severity == .critical)
        #expect(spike.value == 15)
        #expect(spike.threshold == 10)
        #expect(spike.message.hasPrefix("errors 15/s > 10/s over the last 300 s ("))
    }

    @Test("Exactly at the threshold nothing fires: the rules compare strictly")
    func strictThresholds() {
        var harness = ScrapeHarness()
        #expect(harness.rounds(20, requests: 3_000, blocked: 600, errors: 9).isEmpty)
    }

    @Test("A crossing that clears before `for` has elapsed is dropped without any notification")
    func crossingThatClearsIsDropped() {
        var harness = ScrapeHarness(rules: [.errorSpike(pendingFor: 400_000)])
        harness.rounds(60, requests: 3_000)
        // One round with a burst: 15000 errors in the 300 s window, 50/s.
        #expect(harness.round(requests: 3_000, errors: 3_000).isEmpty)
        guard case .pending(_, let value) = harness.evaluator.states[0] else {
            Issue.record("expected pending, got \(harness.evaluator.states[0])")
            return
        }
        #expect(abs(value - 50) < 1e-9)
        harness.rounds(60, requests: 3_000)  // the burst leaves the window
        #expect(harness.evaluator.states == [.inactive])
        #expect(harness.sent.isEmpty)
    }

    @Test("One node of three restarting does not look like an error spike")
    func nodeRestartIsNotASpike() {
        var harness = ScrapeHarness()
        harness.rounds(100, requests: 3_000, errors: 6)  // 6 errors/s cluster-wide
        harness.restart("n2")
        #expect(harness.rounds(10, requests: 3_000, errors: 6).isEmpty)
        #expect(abs(harness.evaluator.evaluate(now: harness.now).figures.errorsPerSecond - 6) < 0.01)
    }

    @Test("Both rules fire in the same round, in rule order, and pendingFor 0 fires at the first crossing")
    func bothRulesAtOnce() {
        var harness = ScrapeHarness(rules: [.highBlockRate(pendingFor: 0), .errorSpike(pendingFor: 0)])
        let sent = harness.round(requests: 3_000, blocked: 2_000, errors: 300)
        #expect(sent.map(\.alert) == ["High Block Rate", "Error Spike"])
        #expect(sent.map(\.severity) == [.warning, .critical])
    }

    @Test("A journalled evaluator keeps its firing alerts: no second fire after a coordinator restart")
    func journalled() throws {
        var harness = ScrapeHarness()
        harness.rounds(2, requests: 300, blocked: 300)
        #expect(harness.sent.count == 1)
        let data = try JSONEncoder().encode(harness.evaluator)
        harness.evaluator = try JSONDecoder().decode(AlertEvaluator.self, from: data)
        #expect(harness.rounds(5, requests: 300, blocked: 300).isEmpty)

        // A journal with a state missing is refused rather than trusted.
        var json = try #require(String(data: data, encoding: .utf8))
        json = json.replacingOccurrences(of: #""states":["#, with: #""states":[{"inactive":{}},"#)
        #expect {
            try JSONDecoder().decode(AlertEvaluator.self, from: Data(json.utf8))
        } throws: { error in
            "\(error)".contains("3 alert states for 2 rules")
        }
    }

    @Test("the seed rules follow the thresholds: block_rate and one scrape interval of `for`")
    func seedRules() {
        let rules = AlertRule.seedRules(MonitoringThresholds(blockRate: 0.35, scrapeIntervalSeconds: 15, alertWindowSeconds: 600))
        #expect(rules == [
            AlertRule(name: "High Block Rate", severity: .warning, measure: .blockRatio, threshold: 0.35, pendingFor: 15_000),
            AlertRule(name: "Error Spike", severity: .critical, measure: .errorsPerSecond, threshold: 10, pendingFor: 15_000),
        ])
    }

    struct TransitionRow: CustomTestStringConvertible, Sendable {
        let from: AlertState
        let crossed: Bool
        let now: Int64
        let to: AlertState
        let notifies: AlertNotification.Status?
        var testDescription: String { "\(from), crossed \(crossed) at \(now) -> \(to)" }
    }

    @Test(
        "rule state transitions (pendingFor 5 s, value 0.5)",
        arguments: [
            TransitionRow(from: .inactive, crossed: false, now: 100, to: .inactive, notifies: nil),
            TransitionRow(from: .inactive, crossed: true, now: 100, to: .pending(since: 100, value: 0.5), notifies: nil),
            TransitionRow(from: .pending(since: 100, value: 0.3), crossed: true, now: 4_000, to: .pending(since: 100, value: 0.5), notifies: nil),
            TransitionRow(from: .pending(since: 100, value: 0.3), crossed: true, now: 5_100, to: .firing(since: 5_100, value: 0.5), notifies: .firing),
            TransitionRow(from: .pending(since: 100, value: 0.3), crossed: false, now: 5_100, to: .inactive, notifies: nil),
            TransitionRow(from: .firing(since: 100, value: 0.3), crossed: true, now: 9_000, to: .firing(since: 100, value: 0.5), notifies: nil),
            TransitionRow(from: .firing(since: 100, value: 0.3), crossed: false, now: 9_000, to: .resolved(at: 9_000), notifies: .resolved),
            TransitionRow(from: .resolved(at: 9_000), crossed: false, now: 14_000, to: .resolved(at: 9_000), notifies: nil),
            TransitionRow(from: .resolved(at: 9_000), crossed: true, now: 14_000, to: .pending(since: 14_000, value: 0.5), notifies: nil),
        ]
    )
    func transitions(_ row: TransitionRow) {
        let (next, status) = AlertEvaluator.transition(row.from, crossed: row.crossed, value: 0.5, pendingFor: 5_000, now: row.now)
        #expect(next == row.to)
        #expect(status == row.notifies)
    }

    @Test("invalid thresholds or duplicate rule names stop the process")
    func invalidConfigurationTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = AlertEvaluator(environment: "staging", thresholds: MonitoringThresholds(alertWindowSeconds: 1))
        }
        await #expect(processExitsWith: .failure) {
            _ = AlertEvaluator(environment: "staging", rules: [.errorSpike(), .errorSpike()])
        }
    }
}
