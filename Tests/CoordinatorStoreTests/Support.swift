import CoordinatorStore
import Foundation
import LimiterCore
import Rollout
import TestSupport

extension TemporaryDirectory {
    /// A new journal in this directory.
    func journal(_ name: String = "journal.sqlite", retainedVersions: Int = 100) throws -> CoordinatorJournal {
        try CoordinatorJournal(path: file(name), retainedVersions: retainedVersions)
    }
}

/// The rules of the project's wrangler.toml.
let wranglerRules: [Rule] = [
    Rule(name: "API", namespaceID: "1001", limit: 100, periodSeconds: 60, algorithm: .slidingWindow),
    Rule(name: "LOGIN", namespaceID: "1002", limit: 5, periodSeconds: 60, algorithm: .fixedWindow),
    Rule(name: "SEARCH", namespaceID: "1003", limit: 10, periodSeconds: 1, algorithm: .tokenBucket, burst: 30),
    Rule(name: "UPLOAD", namespaceID: "1004", limit: 60, periodSeconds: 3600, algorithm: .gcra, burst: 5),
    Rule(name: "EXACT", namespaceID: "1005", limit: 20, periodSeconds: 86400, algorithm: .slidingLog),
]

/// A bundle whose only rule is `API` with `limit`: distinct limits give distinct versions.
func bundle(
    limit: Int, vars: [String: String] = ["ENVIRONMENT": "staging"], tag: String? = nil,
    message: String? = nil, author: String = "alice", at createdAtMs: Int64 = 1_000
) -> VersionBundle {
    VersionBundle(
        rules: [Rule(name: "API", namespaceID: "1001", limit: limit, periodSeconds: 60, algorithm: .slidingWindow)],
        vars: vars, tag: tag, message: message, author: author, createdAtMs: createdAtMs)
}

/// A journal entry with the fields most tests do not care about defaulted.
func entry(
    _ kind: JournalEntry.Kind,
    _ outcome: JournalEntry.Outcome,
    version: String? = nil,
    fromStable: String? = nil,
    percent: Int? = nil,
    deployment: Deployment? = nil,
    at atMs: Int64 = 1_000,
    actor: String = "alice",
    reason: String? = nil,
    metricsJSON: String? = nil,
    forced: Bool = false,
    forceMessage: String? = nil
) -> JournalEntry {
    JournalEntry(
        atMs: atMs, actor: actor, kind: kind, outcome: outcome, version: version, fromStable: fromStable,
        percent: percent, deployment: deployment, reason: reason, metricsJSON: metricsJSON,
        forced: forced, forceMessage: forceMessage)
}
