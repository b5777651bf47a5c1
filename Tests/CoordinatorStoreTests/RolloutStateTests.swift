import CoordinatorStore
import Foundation
import Rollout
import TestSupport
import Testing

@Suite("CoordinatorJournal rollout state: saved with its journal entry, resumed on start")
struct RolloutStateTests {
    static let plan = try! RolloutPlan(duration: 300_000)

    @Test("Given a gradual rollout recorded mid-step, when the journal is reopened, then the same machine and baselines come back")
    func resumesAfterReopen() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        #expect(try journal.currentRollout() == nil)

        var rollout = Rollout(stable: "v-a", epoch: 3)
        guard case .started(let split, _) = try rollout.onStart(version: "v-b", plan: Self.plan, now: 10_000) else {
            Issue.record("expected a start")
            return
        }
        let baselines = Data(#"{"node-1":{"decisions":120},"node-2":{"decisions":80}}"#.utf8)
        let seq = try journal.record(
            entry: entry(.deploy, .started, version: "v-b", fromStable: "v-a", percent: 10, deployment: split, at: 10_000),
            rollout: rollout, baselines: baselines)

        let reopened = try CoordinatorJournal(path: journal.path)
        let saved = try #require(try reopened.currentRollout())
        #expect(saved == SavedRollout(rollout: rollout, baselines: baselines, seq: seq, savedAtMs: 10_000))
        #expect(saved.rollout.isStepping)
        #expect(try reopened.latestDeployment() == split)
    }

    @Test("each record replaces the state; an automatic rollback keeps its verdict")
    func replacesState() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        var rollout = Rollout(stable: "v-a")
        guard case .started(let split, _) = try rollout.onStart(version: "v-b", plan: Self.plan, now: 0) else {
            Issue.record("expected a start")
            return
        }
        try journal.record(
            entry: entry(.deploy, .started, version: "v-b", deployment: split, at: 0), rollout: rollout, baselines: Data("1".utf8))

        let failing = StepWindow(
            canary: VersionMetrics(decisions: 1_000, blocked: 0, errors: 500),
            stable: VersionMetrics(decisions: 9_000, blocked: 0, errors: 0))
        guard case .rolledBack(let verdict, let back, let record) = rollout.onTick(window: failing, now: 60_000) else {
            Issue.record("expected a rollback, got \(rollout)")
            return
        }
        let metrics = String(decoding: try JSONEncoder().encode(verdict), as: UTF8.self)
        let seq = try journal.record(
            entry: entry(.rollback, .rolledBack, version: record.version, fromStable: "v-a", percent: record.percent,
                         deployment: back, at: 60_000, actor: "coordinator", reason: record.reason, metricsJSON: metrics),
            rollout: rollout, baselines: nil)

        let saved = try #require(try journal.currentRollout())
        #expect(saved == SavedRollout(rollout: rollout, baselines: nil, seq: seq, savedAtMs: 60_000))
        guard case .rolledBack(let stored) = saved.rollout.state else {
            Issue.record("expected rolled back, got \(saved.rollout.state)")
            return
        }
        #expect(stored.verdict?.failed.contains(.errorRate) == true)
        #expect(try journal.entries().first?.metricsJSON == metrics)
        #expect(try JSONDecoder().decode(Verdict.self, from: Data(metrics.utf8)) == verdict)
    }

    @Test("a rollout that does not serve the journal's deployment is refused; neither entry nor state is written")
    func mismatchRefusedAtomically() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        var rollout = Rollout(stable: "v-a")
        guard case .split(let split) = try rollout.onSetPercent(version: "v-b", percent: 20, now: 0) else {
            Issue.record("expected a split")
            return
        }
        try journal.record(entry: entry(.percent, .applied, version: "v-b", deployment: split), rollout: rollout, baselines: nil)
        let before = try journal.currentRollout()

        // The entry pushes one split, the rollout serves another.
        var other = rollout
        _ = try other.onSetPercent(version: "v-b", percent: 40, now: 1)
        let pushedElsewhere = Deployment(epoch: split.epoch + 1, stable: "v-a", canary: "v-b", percent: 50)
        let first = #expect(throws: JournalError.self) {
            try journal.record(entry: entry(.percent, .applied, version: "v-b", deployment: pushedElsewhere), rollout: other, baselines: nil)
        }
        // No split pushed, yet the rollout moved away from the last one journalled.
        let second = #expect(throws: JournalError.self) {
            try journal.record(entry: entry(.step, .stepExtended, version: "v-b"), rollout: other, baselines: nil)
        }
        // A stale epoch is refused inside the same transaction.
        let third = #expect(throws: JournalError.self) {
            try journal.record(entry: entry(.percent, .applied, version: "v-b", deployment: split), rollout: rollout, baselines: nil)
        }

        #expect(first?.code == .invalidEntry)
        #expect(second?.code == .invalidEntry)
        #expect(third?.code == .staleEpoch)
        #expect(try journal.entryCount() == 1)
        #expect(try journal.currentRollout() == before)
    }

    @Test("an entry that pushed nothing records a state change of the same split (an extended step)")
    func recordWithoutDeployment() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        var rollout = Rollout(stable: "v-a")
        guard case .started(let split, let holdUntil) = try rollout.onStart(version: "v-b", plan: Self.plan, now: 0) else {
            Issue.record("expected a start")
            return
        }
        try journal.record(entry: entry(.deploy, .started, version: "v-b", deployment: split), rollout: rollout, baselines: nil)
        guard case .extended = rollout.onTick(window: .empty, now: holdUntil) else {
            Issue.record("expected an extension, got \(rollout)")
            return
        }

        try journal.record(entry: entry(.step, .stepExtended, version: "v-b", percent: 10, at: holdUntil), rollout: rollout, baselines: nil)

        #expect(try journal.currentRollout()?.rollout == rollout)
        #expect(try journal.latestDeployment() == split)
    }
}
