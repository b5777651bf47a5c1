import Foundation
import Rollout
import Testing

@Suite("Rollout: journalled as JSON and resumed after a coordinator restart")
struct RolloutJournalTests {
    static let plan = try! RolloutPlan(duration: 300_000)

    static func journal(_ rollout: Rollout) throws -> Data { try JSONEncoder().encode(rollout) }
    static func restore(_ data: Data) throws -> Rollout { try JSONDecoder().decode(Rollout.self, from: data) }

    @Test("every state round-trips through JSON", arguments: RolloutCommandTests.Situation.allCases)
    func roundTrip(_ situation: RolloutCommandTests.Situation) throws {
        let rollout = try situation.make()
        #expect(try Self.restore(Self.journal(rollout)) == rollout)
    }

    @Test("an automatic rollback's record keeps the verdict through the journal")
    func rollbackRecordRoundTrips() throws {
        var driver = RolloutDriver(stable: "v1")
        _ = try driver.runGradual(version: "v2", plan: Self.plan) { percent, _ in
            Traffic.window(percent: percent, canaryErrorRate: 0.2)
        }
        let restored = try Self.restore(Self.journal(driver.rollout))
        guard case .rolledBack(let record) = restored.state else {
            Issue.record("expected rolled back, got \(restored.state)")
            return
        }
        #expect(record.verdict?.failed == [.errorRate])
        #expect(restored == driver.rollout)
    }

    @Test("Given a journal written mid-step, when resumed later, then the step continues with its remaining time")
    func resumeContinuesStep() throws {
        var clock = FakeClock()
        let t0 = clock.now
        var rollout = Rollout(stable: "v1")
        _ = try rollout.onStart(version: "v2", plan: Self.plan, now: t0)
        clock.advance(by: 70_000)
        _ = rollout.onTick(window: Traffic.window(percent: 10), now: clock.now)  // now at 25%, ends t0 + 130 s
        let journal = try Self.journal(rollout)

        clock.advance(by: 25_000)  // the coordinator was down meanwhile
        var resumed = try Self.restore(journal)
        let result = resumed.onResume(now: clock.now)
        #expect(result == .continueStep(split: Deployment(epoch: 2, stable: "v1", canary: "v2", percent: 25), holdUntil: t0 + 130_000))
        #expect(resumed.remainingStepTime(now: clock.now) == 35_000)

        clock.set(t0 + 130_000)
        guard case .advanced(_, let split, _) = resumed.onTick(window: Traffic.window(percent: 25), now: clock.now) else {
            Issue.record("expected the resumed step to advance at its original end")
            return
        }
        #expect(split.percent == 50)
    }

    @Test("A step that ended while the coordinator was down is due at once")
    func resumeOverdue() throws {
        var rollout = Rollout(stable: "v1")
        _ = try rollout.onStart(version: "v2", plan: Self.plan, now: 0)
        var resumed = try Self.restore(Self.journal(rollout))
        #expect(resumed.onResume(now: 500_000) == .continueStep(split: rollout.deployment, holdUntil: 60_000))
        #expect(resumed.remainingStepTime(now: 500_000) == 0)
        guard case .advanced = resumed.onTick(window: Traffic.window(percent: 10), now: 500_000) else {
            Issue.record("expected the overdue step to be judged at once")
            return
        }
    }

    @Test("A wall clock that went back never holds a step longer than one hold from now")
    func resumeAfterClockWentBack() throws {
        var rollout = Rollout(stable: "v1")
        _ = try rollout.onStart(version: "v2", plan: Self.plan, now: 1_000_000)
        #expect(rollout.onResume(now: 400_000) == .continueStep(split: rollout.deployment, holdUntil: 460_000))
        #expect(rollout.remainingStepTime(now: 400_000) == 60_000)
    }

    @Test("Resuming at rest re-announces the deployment unchanged")
    func resumeAtRest() throws {
        var rollout = try RolloutCommandTests.Situation.split.make()
        let before = rollout
        #expect(rollout.onResume(now: 10) == .unchanged(before.deployment))
        #expect(rollout == before)
        #expect(rollout.remainingStepTime(now: 10) == nil)
    }

    @Test("A journal whose state and deployment disagree is refused with both in the message")
    func inconsistentJournal() throws {
        var stepping = Rollout(stable: "v1")
        _ = try stepping.onStart(version: "v2", plan: Self.plan, now: 0)
        var json = try #require(String(data: Self.journal(stepping), encoding: .utf8))
        json = json.replacingOccurrences(of: "\"percent\":10", with: "\"percent\":25")
        #expect {
            try Self.restore(Data(json.utf8))
        } throws: { error in
            "\(error)".contains("step 1 must be at 10%") && "\(error)".contains("canary v2 at 25%")
        }

        let atRestWithCanary = #"{"deployment":{"epoch":3,"stable":"v1","canary":"v2","percent":10},"state":{"kind":"idle"}}"#
        #expect {
            try Self.restore(Data(atRestWithCanary.utf8))
        } throws: { error in
            "\(error)".contains("a rollout at rest must have no canary")
        }
    }

    @Test("the journal format is explicit: a hand-written stepping journal resumes")
    func handWrittenJournal() throws {
        let json = #"""
            {"deployment": {"epoch": 4, "stable": "v1", "canary": "v2", "percent": 50},
             "state": {"kind": "stepping", "step": {
                "plan": {"percents": [10, 25, 50, 75, 100], "duration": 300000,
                         "thresholds": {"maxErrorRate": 0.05, "maxP95Milliseconds": 200, "maxBlockRateIncrease": 0.2, "minSamples": 100}},
                "version": "v2", "index": 2, "rolloutStartedAt": 0, "startedAt": 120000, "endsAt": 180000,
                "extended": false, "previousStableBlockRate": 0.1}}}
            """#
        var rollout = try Self.restore(Data(json.utf8))
        #expect(rollout.onResume(now: 150_000) == .continueStep(
            split: Deployment(epoch: 4, stable: "v1", canary: "v2", percent: 50), holdUntil: 180_000
        ))
        let encoded = try #require(String(data: Self.journal(rollout), encoding: .utf8))
        #expect(encoded.contains(#""kind":"stepping""#))
        #expect(!encoded.contains("_0"))

        let unknown = #"{"deployment":{"epoch":1,"stable":"v1","canary":null,"percent":0},"state":{"kind":"paused"}}"#
        #expect(throws: DecodingError.self) { try Self.restore(Data(unknown.utf8)) }
    }
}
