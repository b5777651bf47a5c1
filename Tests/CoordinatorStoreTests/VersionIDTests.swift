@testable import CoordinatorStore
import LimiterCore
import Placement
import Testing

@Suite("VersionID: the id every node computes for the same rules")
struct VersionIDTests {
    static let ruleSets: [[Rule]] = [
        [],
        wranglerRules,
        [wranglerRules[0]],
        [Rule(name: "API", namespaceID: "1001", limit: 101, periodSeconds: 60, algorithm: .slidingWindow)],
        [Rule(name: "é|ü", namespaceID: "", limit: 1, periodSeconds: 1, algorithm: .gcra, burst: 7)],
        Algorithm.allCases.enumerated().map { index, algorithm in
            Rule(name: "R\(9 - index)", namespaceID: "\(index)", limit: index + 1, periodSeconds: 60, algorithm: algorithm)
        },
    ]

    @Test("the id does not depend on the order rules come in", arguments: ruleSets)
    func orderIndependent(_ rules: [Rule]) {
        #expect(VersionID.of(rules) == VersionID.of(rules.reversed()))
    }

    @Test("pinned ids: a change here re-versions every journal and node")
    func pinnedValues() {
        #expect(VersionID.of(wranglerRules) == "v-db5f25e2f84f560a")
        #expect(VersionID.of([]) == "v-efd01f60ba992926")
        #expect(VersionID.canonicalText(of: wranglerRules) == """
            API|1001|100|60|sliding_window|100
            EXACT|1005|20|86400|sliding_log|20
            LOGIN|1002|5|60|fixed_window|5
            SEARCH|1003|10|1|token_bucket|30
            UPLOAD|1004|60|3600|gcra|5
            """)
    }

    @Test("the id does not depend on the order the rules are given in")
    func orderIndependent() {
        #expect(VersionID.of(wranglerRules.reversed()) == VersionID.of(wranglerRules))
        #expect(VersionID.of(wranglerRules.shuffled()) == VersionID.of(wranglerRules))
    }

    @Test("every field of a rule changes the id")
    func everyFieldCounts() {
        let base = wranglerRules[2]
        var variants: [Rule] = []
        for change in 0..<6 {
            var rule = base
            switch change {
            case 0: rule.name = "SEARCH2"
            case 1: rule.namespaceID = "1009"
            case 2: rule.limit += 1
            case 3: rule.periodSeconds += 1
            case 4: rule.algorithm = .gcra
            default: rule.burst += 1
            }
            variants.append(rule)
        }
        let ids = Set(([base] + variants).map { VersionID.of([$0]) })
        #expect(ids.count == 7)
    }

    @Test("the rules hash is the id's hex; both are well formed")
    func rulesHashIsTheHex() {
        let id = VersionID.of(wranglerRules)
        #expect(id == "v-" + VersionID.rulesHash(of: wranglerRules))
        #expect(VersionID.isWellFormed(id))
        #expect(VersionID.rulesHash(of: []).count == 16)
        for bad in ["", "v-", "v-0123", "x-0123456789abcdef", "v-0123456789ABCDEF", "v-0123456789abcdeg", "v-0123456789abcdef0"] {
            #expect(!VersionID.isWellFormed(bad), "\(bad)")
        }
    }

    @Test("a bundle's id covers its rules only: vars, tag, message, author and time do not change it")
    func bundleIDCoversRulesOnly() {
        let staging = VersionBundle(rules: wranglerRules, vars: ["ENVIRONMENT": "staging"], tag: "a", author: "alice", createdAtMs: 1)
        let production = VersionBundle(
            rules: wranglerRules.reversed(), vars: ["ENVIRONMENT": "production"], message: "m", author: "bob", createdAtMs: 2)
        #expect(staging.id == production.id)
        #expect(staging.rulesHash == production.rulesHash)
        #expect(staging.id == VersionID.of(wranglerRules))
        #expect(staging.rules == production.rules)
        #expect(staging.rules.map(\.name) == ["API", "EXACT", "LOGIN", "SEARCH", "UPLOAD"])
    }
}
