import Rollout
import Testing

@Suite("Rollout: a gradual rollout driven step by step with a fake clock")
struct RolloutGradualTests {
    static let plan = try! RolloutPlan(duration: 300_000)

    @Test("Given a healthy canary, when every step passes, then it ends stable with canary nil and percent 0")
    func healthyRolloutCompletes() throws {
        var driver = RolloutDriver(stable: "v1")
        let start = driver.clock.now
        let outcome = try driver.runGradual(version: "v2", plan: Self.plan) { percent, _ in Traffic.window(percent: percent) }

        #expect(outcome == .completed(Deployment(epoch: 6, stable: "v2")))
        #expect(driver.pushed.map(\.percent) == [10, 25, 50, 75, 100, 0])
        #expect(driver.pushed.map(\.epoch) == [1, 2, 3, 4, 5, 6], "the epoch rises on every split change")
        #expect(driver.pushed.dropLast().allSatisfy { $0.stable == "v1" && $0.canary == "v2" })
        #expect(driver.clock.now - start == Self.plan.nominalDuration)
        #expect(driver.rollout.state == .completed(version: "v2", at: driver.clock.now))
        #expect(driver.rollout.deployment == Deployment(epoch: 6, stable: "v2", canary: nil, percent: 0))
        #expect(driver.transcript.count == 5)
        #expect(driver.transcript[0].hasPrefix("advanced: 10%: samples 200, error rate 0, p95 4.9 ms, block rate 0.1 vs stable 0.1: pass"))
        #expect(driver.transcript[4].hasPrefix("completed: 100%: samples 2000"))
    }

    struct FailureRow: CustomTestStringConvertible, Sendable {
        let name: String
        let failAt: Int
        let window: @Sendable (Int) -> StepWindow
        let reason: String
        var testDescription: String { name }
    }

    @Test(
        "Given a canary that breaks a threshold at one step, then it rolls back at that step to the old stable",
        arguments: [
            FailureRow(
                name: "error rate at 25%", failAt: 25,
                window: { Traffic.window(percent: $0, canaryErrorRate: $0 >= 25 ? 0.08 : 0) },
                reason: "canary error rate 0.08 > 0.05"
            ),
            FailureRow(
                name: "p95 at 10%", failAt: 10,
                window: { Traffic.window(percent: $0, canarySlow: true) },
                reason: "canary p95 297.5 ms > 200 ms"
            ),
            FailureRow(
                name: "block rate at 75%", failAt: 75,
                window: { Traffic.window(percent: $0, canaryBlockRate: $0 >= 75 ? 0.5 : 0.1) },
                reason: "canary block rate 0.5 > stable 0.1 + 0.2"
            ),
            FailureRow(
                name: "block rate at 100% against the 75% step's stable", failAt: 100,
                window: {
                    $0 == 100
                        ? StepWindow(canary: Traffic.version(decisions: 2_000, blockRate: 0.6), stable: .zero)
                        : Traffic.window(percent: $0, canaryBlockRate: 0.35, stableBlockRate: 0.35)
                },
                reason: "canary block rate 0.6 > stable 0.35 + 0.2"
            ),
        ]
    )
    func failedStepRollsBack(_ row: FailureRow) throws {
        var driver = RolloutDriver(stable: "v1")
        let outcome = try driver.runGradual(version: "v2", plan: Self.plan) { percent, _ in row.window(percent) }

        guard case .rolledBack(let record) = outcome else {
            Issue.record("expected a rollback, got \(outcome)")
            return
        }
        #expect(record.percent == row.failAt, "the CLI prints `Rollout failed at \(record.percent)%`")
        #expect(record.version == "v2")
        #expect(record.restored == "v1")
        #expect(record.automatic)
        #expect(record.reason == row.reason)
        #expect(record.verdict?.outcome == .fail)
        let steps = Self.plan.percents.firstIndex(of: row.failAt)! + 1
        #expect(driver.rollout.deployment == Deployment(epoch: UInt64(steps + 1), stable: "v1", canary: nil, percent: 0))
        #expect(driver.rollout.state == .rolledBack(record))
    }

    @Test("At 100% a canary block rate within 0.2 of the previous step's stable passes, though stable serves nothing")
    func lastStepUsesPreviousBaseline() throws {
        var driver = RolloutDriver(stable: "v1")
        let outcome = try driver.runGradual(version: "v2", plan: Self.plan) { percent, _ in
            percent == 100
                ? StepWindow(canary: Traffic.version(decisions: 2_000, blockRate: 0.45), stable: .zero)
                : Traffic.window(percent: percent, canaryBlockRate: 0.3, stableBlockRate: 0.3)
        }
        #expect(outcome == .completed(Deployment(epoch: 6, stable: "v2")))
    }

    @Test("Given too few samples at a step's end, then the step is held once more and passes when samples arrive")
    func shortStepIsExtendedOnce() throws {
        var driver = RolloutDriver(stable: "v1")
        let start = driver.clock.now
        let outcome = try driver.runGradual(version: "v2", plan: Self.plan) { percent, extended in
            // 200 requests in the first hold: 20 canary decisions at 10%; 1200 once extended.
            Traffic.window(total: percent == 10 && !extended ? 200 : 1_200, percent: percent)
        }
        #expect(outcome == .completed(Deployment(epoch: 6, stable: "v2")))
        #expect(driver.transcript[0].hasPrefix("extended: 10%: samples 20"))
        #expect(driver.transcript[1].hasPrefix("advanced: 10%: samples 120"))
        #expect(driver.pushed.map(\.epoch) == [1, 2, 3, 4, 5, 6], "an extension changes no split and no epoch")
        #expect(driver.clock.now - start == Self.plan.nominalDuration + Self.plan.stepHold)
    }

    @Test("Given every step short of samples once, then the rollout takes exactly the worst case the plan describes")
    func worstCaseMatchesPlan() throws {
        var driver = RolloutDriver(stable: "v1")
        let start = driver.clock.now
        let outcome = try driver.runGradual(version: "v2", plan: Self.plan) { percent, extended in
            Traffic.window(total: extended ? 10_000 : 10, percent: percent)
        }
        #expect(outcome == .completed(Deployment(epoch: 6, stable: "v2")))
        #expect(driver.clock.now - start == Self.plan.worstCaseDuration)
    }

    @Test("Given still too few samples after the extension, then the step fails")
    func stillShortAfterExtensionFails() throws {
        var driver = RolloutDriver(stable: "v1")
        let outcome = try driver.runGradual(version: "v2", plan: Self.plan) { percent, _ in
            Traffic.window(total: percent >= 50 ? 150 : 5_000, percent: percent)
        }
        guard case .rolledBack(let record) = outcome else {
            Issue.record("expected a rollback, got \(outcome)")
            return
        }
        #expect(record.percent == 50)
        #expect(record.reason == "75 canary decisions < min_samples 100 after extending the step once")
        #expect(record.verdict?.failed == [.samples])
    }

    @Test("A tick inside the step holds until its end, and rolls back at once on a crossed threshold with enough samples")
    func earlyTicks() throws {
        var rollout = Rollout(stable: "v1")
        var clock = FakeClock()
        guard case .started(_, let end) = try rollout.onStart(version: "v2", plan: Self.plan, now: clock.now) else {
            Issue.record("not started")
            return
        }
        clock.advance(by: 10_000)
        // Terrible but too few samples to judge: hold.
        let early = rollout.onTick(
            window: StepWindow(canary: Traffic.version(decisions: 30, errorRate: 1, slow: true)), now: clock.now
        )
        guard case .hold(let until, let pending) = early else {
            Issue.record("expected hold, got \(early)")
            return
        }
        #expect(until == end)
        #expect(pending.outcome == .pending)

        // Healthy with plenty of samples: still hold until the step's end.
        clock.advance(by: 10_000)
        guard case .hold(until: end, _) = rollout.onTick(window: Traffic.window(percent: 10), now: clock.now) else {
            Issue.record("expected hold until \(end)")
            return
        }

        // Enough samples and an error spike: roll back now, not at the end.
        clock.advance(by: 10_000)
        let failed = rollout.onTick(window: Traffic.window(percent: 10, canaryErrorRate: 0.5), now: clock.now)
        guard case .rolledBack(_, let split, let record) = failed else {
            Issue.record("expected rollback, got \(failed)")
            return
        }
        #expect(split == Deployment(epoch: 2, stable: "v1"))
        #expect(record.at == clock.now)
        #expect(clock.now < end)
    }

    @Test("A tick with no gradual rollout running changes nothing")
    func staleTick() throws {
        var rollout = Rollout(stable: "v1")
        let before = rollout
        #expect(rollout.onTick(window: .empty, now: 5) == .notStepping(.idle))
        #expect(rollout == before)

        _ = try rollout.onSetPercent(version: "v2", percent: 30, now: 10)
        let split = rollout
        #expect(rollout.onTick(window: Traffic.window(percent: 30), now: 20) == .notStepping(.split(version: "v2", since: 10)))
        #expect(rollout == split)
    }

    @Test("A new rollout may start after the previous one ended, from the new stable")
    func consecutiveRollouts() throws {
        var driver = RolloutDriver(stable: "v1")
        _ = try driver.runGradual(version: "v2", plan: Self.plan) { percent, _ in Traffic.window(percent: percent) }
        let second = try driver.runGradual(version: "v3", plan: Self.plan) { percent, _ in Traffic.window(percent: percent) }
        #expect(second == .completed(Deployment(epoch: 12, stable: "v3")))
        #expect(driver.pushed[6] == Deployment(epoch: 7, stable: "v2", canary: "v3", percent: 10))
    }
}
