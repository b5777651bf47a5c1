@testable import CoordinatorStore
import Foundation
import Rollout
import TestSupport
import Testing

@Suite("CoordinatorJournal deployments: the append-only journal of transitions")
struct DeploymentJournalTests {
    @Test("appended entries get consecutive seqs and read back whole, newest first")
    func appendAndList() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        let verdict = #"{"outcome":"pass","percent":10,"samples":250,"reason":"within thresholds"}"#
        let entries = [
            entry(.deploy, .started, version: "v-b", fromStable: "v-a", percent: 10,
                  deployment: Deployment(epoch: 4, stable: "v-a", canary: "v-b", percent: 10), at: 100, actor: "alice",
                  reason: "gradual over 5m"),
            entry(.step, .stepPassed, version: "v-b", fromStable: "v-a", percent: 10,
                  deployment: Deployment(epoch: 5, stable: "v-a", canary: "v-b", percent: 25), at: 160, actor: "coordinator",
                  reason: "within thresholds", metricsJSON: verdict),
            entry(.step, .stepExtended, version: "v-b", fromStable: "v-a", percent: 25, at: 220, actor: "coordinator",
                  reason: "samples 12 < 100"),
            entry(.forced, .applied, version: "v-c", fromStable: "v-a", percent: 50,
                  deployment: Deployment(epoch: 6, stable: "v-a", canary: "v-c", percent: 50), at: 230, actor: "bob",
                  forced: true, forceMessage: "hotfix, staging is down"),
        ]

        var seqs: [Int64] = []
        for item in entries { seqs.append(try journal.append(item)) }

        #expect(seqs == [1, 2, 3, 4])
        let listed = try journal.entries()
        #expect(listed.map(\.seq) == [4, 3, 2, 1])
        for (stored, original) in zip(listed.reversed(), entries) {
            var expected = original
            expected.seq = stored.seq
            #expect(stored == expected)
        }
        #expect(try journal.entries(limit: 1).map(\.seq) == [4])
        #expect(try journal.entryCount() == 4)
    }

    @Test("an unknown kind or outcome, written by a newer coordinator, reads back as it was")
    func openEndedKinds() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        try journal.append(entry(JournalEntry.Kind(rawValue: "pause"), JournalEntry.Outcome(rawValue: "paused")))
        let read = try #require(try journal.entries().first)
        #expect(read.kind.rawValue == "pause")
        #expect(read.outcome.rawValue == "paused")
    }

    @Test("latestDeployment is the last split pushed, skipping entries that pushed none")
    func latestDeployment() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        #expect(try journal.latestDeployment() == nil)

        try journal.append(entry(
            .percent, .applied, version: "v-b", deployment: Deployment(epoch: 1, stable: "v-a", canary: "v-b", percent: 30)))
        try journal.append(entry(.percent, .completed, version: "v-b", percent: 100, deployment: Deployment(epoch: 2, stable: "v-b")))
        try journal.append(entry(.deploy, .refused, version: "v-c", reason: "staging has not completed these rules"))

        #expect(try journal.latestDeployment() == Deployment(epoch: 2, stable: "v-b"))
        #expect(try CoordinatorJournal(path: journal.path).latestDeployment() == Deployment(epoch: 2, stable: "v-b"))
    }

    @Test("a deployment whose epoch is not above the last journalled one is refused")
    func staleEpochRefused() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        try journal.append(entry(
            .percent, .applied, version: "v-b", deployment: Deployment(epoch: 7, stable: "v-a", canary: "v-b", percent: 30)))

        for epoch: UInt64 in [7, 3] {
            let error = #expect(throws: JournalError.self) {
                try journal.append(entry(.abort, .aborted, version: "v-b", deployment: Deployment(epoch: epoch, stable: "v-a")))
            }
            #expect(error?.code == .staleEpoch)
            #expect(error?.message.contains("epoch 7") == true)
        }
        #expect(try journal.entryCount() == 1)
    }

    struct InvalidCase: Sendable, CustomTestStringConvertible {
        let name: String
        let entry: JournalEntry
        let mentions: String
        var testDescription: String { name }
    }

    static let invalidCases: [InvalidCase] = [
        InvalidCase(name: "empty actor", entry: entry(.deploy, .started, actor: ""), mentions: "actor"),
        InvalidCase(name: "empty kind", entry: entry(JournalEntry.Kind(rawValue: ""), .started), mentions: "kind"),
        InvalidCase(name: "percent above 100", entry: entry(.percent, .applied, percent: 101), mentions: "101"),
        InvalidCase(name: "forced without a message", entry: entry(.forced, .applied, forced: true), mentions: "--force --message"),
        InvalidCase(
            name: "forced with a blank message", entry: entry(.forced, .applied, forced: true, forceMessage: "  "),
            mentions: "--force --message"),
        InvalidCase(name: "a force message on an unforced entry", entry: entry(.deploy, .started, forceMessage: "why"), mentions: "not forced"),
        InvalidCase(name: "metrics that are not JSON", entry: entry(.step, .stepPassed, metricsJSON: "{\"samples\": 12"), mentions: "not JSON"),
        InvalidCase(name: "completed without a deployment", entry: entry(.completed, .completed, version: "v-b"), mentions: "completed"),
        InvalidCase(
            name: "completed with another version stable",
            entry: entry(.completed, .completed, version: "v-b", deployment: Deployment(epoch: 1, stable: "v-a")), mentions: "completed"),
        InvalidCase(
            name: "completed with a canary left",
            entry: entry(.completed, .completed, version: "v-b", deployment: Deployment(epoch: 1, stable: "v-b", canary: "v-c", percent: 5)),
            mentions: "completed"),
        InvalidCase(name: "rolled back without a deployment", entry: entry(.rollback, .rolledBack, version: "v-b"), mentions: "rolled-back"),
        InvalidCase(
            name: "rolled back without the version taken out",
            entry: entry(.rollback, .rolledBack, deployment: Deployment(epoch: 1, stable: "v-a")), mentions: "rolled-back"),
    ]

    @Test("an entry that breaks the journal's invariants is refused and nothing is written", arguments: invalidCases)
    func invalidEntries(_ invalid: InvalidCase) throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        let error = #expect(throws: JournalError.self) { try journal.append(invalid.entry) }
        #expect(error?.code == .invalidEntry)
        #expect(error?.message.contains(invalid.mentions) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(journal.path) == true)
        #expect(try journal.entryCount() == 0)
    }
}
