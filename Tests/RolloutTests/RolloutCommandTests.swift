import Rollout
import Testing

@Suite("Rollout: operator commands and illegal transitions")
struct RolloutCommandTests {
    static let plan = try! RolloutPlan(duration: 60_000)

    /// Named starting points for the transition table.
    enum Situation: String, CaseIterable, Sendable {
        case idle, split, stepping, completed, rolledBack, aborted

        func make() throws -> Rollout {
            var rollout = Rollout(stable: "v1")
            switch self {
            case .idle: break
            case .split: _ = try rollout.onSetPercent(version: "v2", percent: 30, now: 100)
            case .stepping: _ = try rollout.onStart(version: "v2", plan: RolloutCommandTests.plan, now: 100)
            case .completed: _ = try rollout.onSetPercent(version: "v2", percent: 100, now: 100)
            case .rolledBack:
                _ = try rollout.onSetPercent(version: "v2", percent: 30, now: 100)
                _ = try rollout.onRollback(reason: "bad", now: 200)
            case .aborted:
                _ = try rollout.onStart(version: "v2", plan: RolloutCommandTests.plan, now: 100)
                _ = try rollout.onAbort(now: 200)
            }
            return rollout
        }
    }

    enum Command: String, CaseIterable, Sendable {
        case start, setPercent, promote, abort

        func run(_ rollout: inout Rollout) throws {
            switch self {
            case .start: _ = try rollout.onStart(version: "v9", plan: RolloutCommandTests.plan, now: 1_000)
            case .setPercent: _ = try rollout.onSetPercent(version: "v9", percent: 40, now: 1_000)
            case .promote: _ = try rollout.onPromote(now: 1_000)
            case .abort: _ = try rollout.onAbort(now: 1_000)
            }
        }
    }

    /// Which command each situation allows (rollback is always allowed).
    static let allowed: [Situation: Set<Command>] = [
        .idle: [.start, .setPercent],
        .split: [.setPercent, .promote, .abort],
        .stepping: [.promote, .abort],
        .completed: [.start, .setPercent],
        .rolledBack: [.start, .setPercent],
        .aborted: [.start, .setPercent],
    ]

    @Test(
        "every command in every state: allowed ones succeed, the others throw with the state and change nothing",
        arguments: Situation.allCases, Command.allCases
    )
    func transitionTable(_ situation: Situation, _ command: Command) throws {
        var rollout = try situation.make()
        let before = rollout
        if Self.allowed[situation]!.contains(command) {
            try command.run(&rollout)
            #expect(rollout.deployment.epoch == before.deployment.epoch + 1)
        } else {
            #expect {
                try command.run(&rollout)
            } throws: { error in
                guard let error = error as? RolloutError else { return false }
                return error.code == .illegalTransition && error.message.contains("\(before.state)")
                    && error.message.contains("\(before.deployment)")
            }
            #expect(rollout == before)
        }
    }

    @Test("an illegal command's message names the command, says why in words, then the state")
    func illegalMessage() throws {
        var rollout = Rollout(stable: "v1")
        #expect {
            try rollout.onPromote(now: 0)
        } throws: { error in
            "\(error)" == "rollout.illegal_transition: promote is not allowed: no canary is deployed, v1 serves every key (while idle; epoch 0: v1)"
        }
    }

    struct PercentRow: CustomTestStringConvertible, Sendable {
        let version: String
        let percent: Int
        let expected: Rollout.SetPercentResult
        let state: Rollout.State
        var testDescription: String { "--percent \(percent) of \(version)" }
    }

    @Test(
        "--percent P from rest",
        arguments: [
            PercentRow(
                version: "v2", percent: 30, expected: .split(Deployment(epoch: 1, stable: "v1", canary: "v2", percent: 30)),
                state: .split(version: "v2", since: 50)
            ),
            PercentRow(
                version: "v2", percent: 1, expected: .split(Deployment(epoch: 1, stable: "v1", canary: "v2", percent: 1)),
                state: .split(version: "v2", since: 50)
            ),
            PercentRow(
                version: "v2", percent: 100, expected: .completed(final: Deployment(epoch: 1, stable: "v2")),
                state: .completed(version: "v2", at: 50)
            ),
            PercentRow(version: "v1", percent: 30, expected: .alreadyStable(Deployment(epoch: 0, stable: "v1")), state: .idle),
        ]
    )
    func setPercent(_ row: PercentRow) throws {
        var rollout = Rollout(stable: "v1")
        #expect(try rollout.onSetPercent(version: row.version, percent: row.percent, now: 50) == row.expected)
        #expect(rollout.state == row.state)
    }

    @Test("--percent outside 1...100 is refused", arguments: [0, -5, 101])
    func invalidPercent(_ percent: Int) {
        var rollout = Rollout(stable: "v1")
        #expect {
            try rollout.onSetPercent(version: "v2", percent: percent, now: 0)
        } throws: { error in
            (error as? RolloutError)?.code == .invalidPercent && "\(error)".contains("got \(percent)")
        }
    }

    @Test("--percent over a split: same share is unchanged, a new share or version replaces it")
    func percentOverSplit() throws {
        var rollout = Rollout(stable: "v1")
        _ = try rollout.onSetPercent(version: "v2", percent: 30, now: 0)
        #expect(try rollout.onSetPercent(version: "v2", percent: 30, now: 1) == .unchanged(rollout.deployment))
        #expect(try rollout.onSetPercent(version: "v2", percent: 60, now: 2) == .split(Deployment(epoch: 2, stable: "v1", canary: "v2", percent: 60)))
        #expect(try rollout.onSetPercent(version: "v3", percent: 60, now: 3) == .split(Deployment(epoch: 3, stable: "v1", canary: "v3", percent: 60)))
        #expect(rollout.state == .split(version: "v3", since: 3))
    }

    @Test("promote jumps to 100% and completes, from a split or mid-rollout")
    func promote() throws {
        var stepping = try Situation.stepping.make()
        let promoted = try stepping.onPromote(now: 500)
        #expect(promoted.final == Deployment(epoch: 2, stable: "v2"))
        #expect(promoted.fromPercent == 10)
        #expect(stepping.state == .completed(version: "v2", at: 500))
        #expect(stepping.onTick(window: .empty, now: 60_100) == .notStepping(.completed(version: "v2", at: 500)))

        var split = try Situation.split.make()
        #expect(try split.onPromote(now: 500).fromPercent == 30)
        #expect(split.deployment == Deployment(epoch: 2, stable: "v2"))
    }

    @Test("abort goes back to stable with canary nil, recording what was taken out")
    func abort() throws {
        var rollout = try Situation.stepping.make()
        let aborted = try rollout.onAbort(now: 700)
        #expect(aborted.split == Deployment(epoch: 2, stable: "v1"))
        #expect(aborted.version == "v2")
        #expect(aborted.percent == 10)
        #expect(rollout.state == .aborted(version: "v2", percent: 10, at: 700))
    }

    @Test("rollback: takes the canary out, or restores a named version, or changes nothing")
    func rollback() throws {
        var stepping = try Situation.stepping.make()
        guard case .rolledBack(let split, let record) = try stepping.onRollback(reason: "operator", now: 900) else {
            Issue.record("expected a rollback")
            return
        }
        #expect(split == Deployment(epoch: 2, stable: "v1"))
        #expect(record == Rollout.RollbackRecord(
            version: "v2", percent: 10, restored: "v1", reason: "operator", automatic: false, verdict: nil, at: 900
        ))

        var completed = try Situation.completed.make()
        guard case .rolledBack(let back, let undo) = try completed.onRollback(to: "v1", reason: "undo v2", now: 900) else {
            Issue.record("expected a rollback to v1")
            return
        }
        #expect(back == Deployment(epoch: 2, stable: "v1"))
        #expect(undo.version == "v2")
        #expect(undo.percent == 100)

        var idle = Rollout(stable: "v1")
        #expect(try idle.onRollback(reason: "nothing to do", now: 1) == .unchanged(Deployment(epoch: 0, stable: "v1")))
        #expect(idle.state == .idle)

        var splitRollout = try Situation.split.make()
        guard case .rolledBack(let kept, let oldStable) = try splitRollout.onRollback(to: "v2", reason: "keep v2", now: 5) else {
            Issue.record("expected v2 to become stable")
            return
        }
        #expect(kept == Deployment(epoch: 2, stable: "v2"))
        #expect(oldStable.version == "v1")
        #expect(oldStable.percent == 70)
    }

    @Test("starting a rollout of the stable version changes nothing; an empty version is refused")
    func startEdgeCases() throws {
        var rollout = Rollout(stable: "v1", epoch: 41)
        #expect(try rollout.onStart(version: "v1", plan: Self.plan, now: 0) == .alreadyStable(Deployment(epoch: 41, stable: "v1")))
        #expect(rollout.state == .idle)
        #expect {
            try rollout.onStart(version: "", plan: Self.plan, now: 0)
        } throws: { error in
            (error as? RolloutError)?.code == .invalidVersion
        }
        #expect(try rollout.onStart(version: "v2", plan: Self.plan, now: 0) == .started(
            split: Deployment(epoch: 42, stable: "v1", canary: "v2", percent: 10), holdUntil: 12_000
        ))
    }
}
