import CoordinatorStore
import LimiterCore
import Rollout
import TestSupport
import Testing

@Suite("CoordinatorJournal versions: immutable bundles, the newest kept")
struct VersionStoreTests {
    @Test("an uploaded bundle reads back whole, every algorithm's rule included")
    func roundTrip() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        let original = VersionBundle(
            rules: wranglerRules, vars: ["ENVIRONMENT": "staging", "REGION": "eu/west \"1\""],
            tag: "v1.2", message: "raise SEARCH burst", author: "alice", createdAtMs: 1_700_000_000_123)

        let (stored, created) = try journal.upload(original)

        #expect(created)
        #expect(stored == original)
        #expect(try journal.version(original.id) == original)
        #expect(try journal.versions() == [original])
        #expect(try CoordinatorJournal(path: journal.path).version(original.id) == original)
    }

    @Test("Given a stored version, when the same rules are uploaded again, then nothing changes and the stored one is returned")
    func reuploadIsNoOp() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        let first = bundle(limit: 100, tag: "first", message: "one", author: "alice", at: 1)
        try journal.upload(first)

        let same = try journal.upload(bundle(limit: 100, tag: "first", message: "one", author: "alice", at: 1))
        // Other vars and metadata: still the same version, and the bundle is immutable.
        let otherVars = try journal.upload(
            bundle(limit: 100, vars: ["ENVIRONMENT": "production"], tag: "second", message: "two", author: "bob", at: 2))

        #expect(!same.created && same.bundle == first)
        #expect(!otherVars.created && otherVars.bundle == first)
        #expect(try journal.versionCount() == 1)
    }

    @Test("versions are listed newest upload first, limited")
    func newestFirst() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        // Creation times out of order: the upload order decides.
        let bundles = [bundle(limit: 1, at: 30), bundle(limit: 2, at: 10), bundle(limit: 3, at: 20)]
        for item in bundles { try journal.upload(item) }

        #expect(try journal.versions().map(\.id) == bundles.reversed().map(\.id))
        #expect(try journal.versions(limit: 2).map(\.id) == [bundles[2].id, bundles[1].id])
        #expect(try journal.versions(limit: 0).isEmpty)
        #expect(try journal.version("v-0000000000000000") == nil)
    }

    @Test("the last 100 versions are kept by default")
    func keepsLastHundred() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        let bundles = (1...105).map { bundle(limit: $0, at: Int64($0)) }
        for item in bundles { try journal.upload(item) }

        #expect(try journal.versionCount() == 100)
        #expect(try journal.versions(limit: 1000).map(\.id) == bundles.suffix(100).reversed().map(\.id))
        for old in bundles.prefix(5) { #expect(try journal.version(old.id) == nil) }
    }

    @Test("Given old versions stable and canary, when newer uploads push them past the limit, then they are kept")
    func neverPrunesServedVersions() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal(retainedVersions: 3)
        let stable = bundle(limit: 1)
        let canary = bundle(limit: 2)
        try journal.upload(stable)
        try journal.upload(canary)
        try journal.append(entry(.percent, .applied, version: canary.id, fromStable: stable.id, percent: 10,
                                 deployment: Deployment(epoch: 1, stable: stable.id, canary: canary.id, percent: 10)))

        let newer = (3...7).map { bundle(limit: $0) }
        for item in newer { try journal.upload(item) }

        #expect(try journal.versions(limit: 100).map(\.id) == newer.suffix(3).reversed().map(\.id) + [canary.id, stable.id])

        // Once the canary is aborted, the next upload prunes it; stable stays.
        try journal.append(entry(.abort, .aborted, version: canary.id, fromStable: stable.id, percent: 10,
                                 deployment: Deployment(epoch: 2, stable: stable.id)))
        let last = bundle(limit: 8)
        try journal.upload(last)
        #expect(try journal.version(canary.id) == nil)
        #expect(try journal.versions(limit: 100).map(\.id) == [last.id] + newer.suffix(2).reversed().map(\.id) + [stable.id])
    }

    @Test("the saved rollout's versions are protected too")
    func savedRolloutProtects() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal(retainedVersions: 1)
        let stable = bundle(limit: 1)
        try journal.upload(stable)
        try journal.record(entry: entry(.rollback, .unchanged, version: stable.id), rollout: Rollout(stable: stable.id), baselines: nil)
        for limit in 2...4 { try journal.upload(bundle(limit: limit)) }

        #expect(try journal.versions().map(\.id) == [bundle(limit: 4).id, stable.id])
    }

    @Test("a bundle naming two rules alike is refused")
    func duplicateNamesRefused() throws {
        let dir = try TemporaryDirectory(prefix: "coordinator-store-tests")
        let journal = try dir.journal()
        let rules = [wranglerRules[0], wranglerRules[1], Rule(name: "API", limit: 5, periodSeconds: 1, algorithm: .gcra)]
        let error = #expect(throws: JournalError.self) {
            try journal.upload(VersionBundle(rules: rules, author: "alice", createdAtMs: 1))
        }
        #expect(error?.code == .invalidVersion)
        #expect(error?.message.contains("API") == true)
        #expect(error?.message.contains(journal.path) == true)
        #expect(try journal.versionCount() == 0)
    }
}
