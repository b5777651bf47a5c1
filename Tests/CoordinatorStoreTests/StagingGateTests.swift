import CoordinatorStore
import Rollout
import TestSupport
import Testing

@Suite("CoordinatorJournal staging gate: did these rules reach 100 % here, and stay?")
struct StagingGateTests {
    /// Four versions: `Z` is stable when each scenario starts.
    static let versions: [String: VersionBundle] = [
        "Z": bundle(limit: 1), "A": bundle(limit: 2), "B": bundle(limit: 3), "C": bundle(limit: 4),
    ]

    static func id(_ name: String) -> String { versions[name]!.id }

    /// One transition, in version names; each one that pushes a split gets the next epoch.
    enum Step: Sendable {
        /// `deploy --percent P` (< 100) or a gradual rollout's step: `canary` at `percent` over `stable`.
        case split(canary: String, over: String, percent: Int, kind: JournalEntry.Kind = .percent)
        /// `version` became stable at 100 % (`--percent 100`, the last step, a promote).
        case complete(String, from: String, kind: JournalEntry.Kind)
        /// `out` left service (with `fromStable` the stable before), `restored` alone serves.
        case rollback(out: String, fromStable: String, restored: String)
        /// `rollout abort`: `canary` out, `stable` alone.
        case abort(canary: String, stable: String)
        /// A command that changed nothing (refused by the gate, or unchanged).
        case nothing(String, JournalEntry.Kind, JournalEntry.Outcome)
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        let name: String
        let steps: [Step]
        /// The answer expected for each version's rules hash.
        let expected: [String: Bool]
        var testDescription: String { name }
    }

    static let scenarios: [Scenario] = [
        Scenario(name: "nothing deployed", steps: [], expected: ["A": false, "Z": false]),
        Scenario(
            name: "--percent 100 completes",
            steps: [.complete("A", from: "Z", kind: .percent)],
            expected: ["A": true, "Z": false]),
        Scenario(
            name: "a gradual rollout that completed",
            steps: [
                .split(canary: "A", over: "Z", percent: 10, kind: .deploy), .split(canary: "A", over: "Z", percent: 25, kind: .step),
                .split(canary: "A", over: "Z", percent: 50, kind: .step), .split(canary: "A", over: "Z", percent: 75, kind: .step),
                .complete("A", from: "Z", kind: .completed),
            ],
            expected: ["A": true]),
        Scenario(
            name: "a promote reaches 100 %",
            steps: [.split(canary: "A", over: "Z", percent: 30), .complete("A", from: "Z", kind: .promote)],
            expected: ["A": true]),
        Scenario(
            name: "a split that never reached 100 %",
            steps: [.split(canary: "A", over: "Z", percent: 99)],
            expected: ["A": false]),
        Scenario(
            name: "a gradual rollout aborted at 50 %",
            steps: [.split(canary: "A", over: "Z", percent: 10, kind: .deploy), .split(canary: "A", over: "Z", percent: 50, kind: .step),
                    .abort(canary: "A", stable: "Z")],
            expected: ["A": false, "Z": false]),
        Scenario(
            name: "a gradual rollout rolled back automatically at 25 %",
            steps: [.split(canary: "A", over: "Z", percent: 10, kind: .deploy), .split(canary: "A", over: "Z", percent: 25, kind: .step),
                    .rollback(out: "A", fromStable: "Z", restored: "Z")],
            expected: ["A": false]),
        Scenario(
            name: "completed, then rolled back to the previous version",
            steps: [.complete("A", from: "Z", kind: .percent), .rollback(out: "A", fromStable: "A", restored: "Z")],
            expected: ["A": false, "Z": false]),
        Scenario(
            name: "completed, then a newer canary rolled back to it",
            steps: [.complete("A", from: "Z", kind: .percent), .split(canary: "B", over: "A", percent: 10, kind: .deploy),
                    .rollback(out: "B", fromStable: "A", restored: "A")],
            expected: ["A": true, "B": false]),
        Scenario(
            name: "completed, superseded by another completed version",
            steps: [.complete("A", from: "Z", kind: .percent), .complete("B", from: "A", kind: .completed)],
            expected: ["A": true, "B": true]),
        Scenario(
            name: "completed twice, then rolled back to the first",
            steps: [.complete("A", from: "Z", kind: .percent), .complete("B", from: "A", kind: .percent),
                    .rollback(out: "B", fromStable: "B", restored: "A")],
            expected: ["A": true, "B": false]),
        Scenario(
            name: "completed, then a rollback to a third version takes out stable and canary",
            steps: [.complete("A", from: "Z", kind: .percent), .split(canary: "B", over: "A", percent: 20),
                    .rollback(out: "B", fromStable: "A", restored: "C")],
            expected: ["A": false, "B": false, "C": false]),
        Scenario(
            name: "a rollback to the canary itself takes out the old stable",
            steps: [.complete("A", from: "Z", kind: .percent), .split(canary: "B", over: "A", percent: 60),
                    .rollback(out: "A", fromStable: "A", restored: "B")],
            expected: ["A": false, "B": false]),
        Scenario(
            name: "rolled back, then completed again",
            steps: [.complete("A", from: "Z", kind: .percent), .rollback(out: "A", fromStable: "A", restored: "Z"),
                    .complete("A", from: "Z", kind: .completed)],
            expected: ["A": true]),
        Scenario(
            name: "refused and unchanged commands change nothing",
            steps: [.nothing("B", .deploy, .refused), .complete("A", from: "Z", kind: .percent),
                    .nothing("A", .rollback, .unchanged), .nothing("A", .deploy, .unchanged)],
            expected: ["A": true, "B": false]),
    ]

    @Test("hasCompleted answers from the journal", arguments: scenarios)
    func scenario(_ scenario: Scenario) throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        for bundle in Self.versions.values { try journal.upload(bundle) }
        try Self.play(scenario.steps, into: journal)

        for (name, expected) in scenario.expected.sorted(by: { $0.key < $1.key }) {
            #expect(try journal.hasCompleted(rulesHash: Self.versions[name]!.rulesHash) == expected, "\(name)")
        }
    }

    @Test("rules that were never uploaded have not completed, nor does a version id stand for its hash")
    func unknownRules() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        for bundle in Self.versions.values { try journal.upload(bundle) }
        try Self.play([.complete("A", from: "Z", kind: .percent)], into: journal)

        #expect(try !journal.hasCompleted(rulesHash: bundle(limit: 99).rulesHash))
        #expect(try !journal.hasCompleted(rulesHash: ""))
        #expect(try !journal.hasCompleted(rulesHash: Self.id("A")))
    }

    @Test("the gate compares rules alone: staging's bundle with other vars answers for production's")
    func varsDoNotMatter() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let staging = try dir.journal()
        let stagingBundle = bundle(limit: 2, vars: ["ENVIRONMENT": "staging"])
        try staging.upload(stagingBundle)
        try staging.append(entry(
            .percent, .completed, version: stagingBundle.id, percent: 100, deployment: Deployment(epoch: 1, stable: stagingBundle.id)))

        let productionBundle = bundle(limit: 2, vars: ["ENVIRONMENT": "production", "EXTRA": "1"])
        #expect(try staging.hasCompleted(rulesHash: productionBundle.rulesHash))
    }

    @Test("Given a completed version whose bundle was pruned, the gate still answers true")
    func survivesPruning() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal(retainedVersions: 2)
        let completed = bundle(limit: 2)
        try journal.upload(completed)
        try journal.append(entry(.percent, .completed, version: completed.id, deployment: Deployment(epoch: 1, stable: completed.id)))
        // Moving on to another stable version lets the old bundle be pruned.
        let next = bundle(limit: 3)
        try journal.upload(next)
        try journal.append(entry(.percent, .completed, version: next.id, deployment: Deployment(epoch: 2, stable: next.id)))
        for limit in 4...6 { try journal.upload(bundle(limit: limit)) }

        #expect(try journal.version(completed.id) == nil)
        #expect(try journal.hasCompleted(rulesHash: completed.rulesHash))
    }

    static func play(_ steps: [Step], into journal: CoordinatorJournal) throws {
        var epoch: UInt64 = 0
        func next() -> UInt64 { epoch += 1; return epoch }
        for step in steps {
            switch step {
            case .split(let canary, let stable, let percent, let kind):
                try journal.append(entry(
                    kind, kind == .deploy ? .started : kind == .step ? .stepPassed : .applied, version: id(canary), fromStable: id(stable),
                    percent: percent, deployment: Deployment(epoch: next(), stable: id(stable), canary: id(canary), percent: percent)))
            case .complete(let version, let from, let kind):
                try journal.append(entry(
                    kind, .completed, version: id(version), fromStable: id(from), percent: 100,
                    deployment: Deployment(epoch: next(), stable: id(version))))
            case .rollback(let out, let fromStable, let restored):
                try journal.append(entry(
                    .rollback, .rolledBack, version: id(out), fromStable: id(fromStable),
                    deployment: Deployment(epoch: next(), stable: id(restored)), reason: "rollback"))
            case .abort(let canary, let stable):
                try journal.append(entry(
                    .abort, .aborted, version: id(canary), fromStable: id(stable), deployment: Deployment(epoch: next(), stable: id(stable))))
            case .nothing(let version, let kind, let outcome):
                try journal.append(entry(kind, outcome, version: id(version)))
            }
        }
    }
}
