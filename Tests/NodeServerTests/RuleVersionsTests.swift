import Foundation
import JSONCore
import LimiterCore
import NIOCore
@testable import NodeServer
import Placement
import Rollout
import Testing

@Suite("Two rule-set versions in one node")
struct RuleVersionsTests {
    let stableSet = RuleSet(rules: ["API": rule("API", limit: 100)])
    let canarySet = RuleSet(rules: ["API": rule("API", limit: 3)])

    func node() throws -> (NodeRoutes, RuleVersions) {
        let clock = ManualClock()
        clock.set(1_800_000_000_000)
        let engine = try makeTestEngine(rules: stableSet.rules, clock: clock)
        let versions = RuleVersions(stable: stableSet, metrics: EngineMetrics(node: "n1"))
        versions.install(canarySet)
        let solo = SoloCluster(summary: MemberSummary(id: "n1", address: "", httpAddress: "", status: "alive", incarnation: 0,
                                                      build: "", role: "node", ringShare: 1))
        return (NodeRoutes(router: CheckRouter(engine: engine), versions: versions, cluster: solo, settings: .init()), versions)
    }

    /// One `POST /v1/check` through the fast path, to its committed answer.
    func check(_ routes: NodeRoutes, _ key: String) async throws -> CheckResult {
        let body = ByteBuffer(string: #"{"key":"\#(key)","rule":"API"}"#)
        let reply: CheckReply = await withCheckedContinuation { continuation in
            if let reply = routes.check(body: body, committed: { continuation.resume(returning: $0) }) {
                continuation.resume(returning: reply)
            }
        }
        guard case .decided(let result, _) = reply else { throw CheckFailed(reply: "\(reply)") }
        return result
    }

    struct CheckFailed: Error { var reply: String }

    func isCanary(_ key: String, percent: Int) -> Bool {
        StableHash.hash64(namespace: "1001", key: key) % 10_000 < UInt64(percent) * 100
    }

    @Test("Each key is decided by the version its hash picks, with that version's limit, version id and template")
    func keysSplitByHash() async throws {
        let (routes, versions) = try node()
        try versions.apply(Deployment(epoch: 1, stable: stableSet.version, canary: canarySet.version, percent: 30))
        var canaries = 0
        for index in 0..<200 {
            let key = "user:\(index)"
            let result = try await check(routes, key)
            let canary = isCanary(key, percent: 30)
            if canary { canaries += 1 }
            #expect(result.version == (canary ? canarySet.version : stableSet.version), "\(key)")
            #expect(result.decision.limit == (canary ? 3 : 100), "\(key)")
        }
        #expect((30...90).contains(canaries), "\(canaries) of 200 keys on the canary at 30 %")
        let metrics = String(decoding: versions.metrics.prometheusText(), as: UTF8.self)
        #expect(metrics.contains(#"version="\#(stableSet.version)""#))
        #expect(metrics.contains(#"version="\#(canarySet.version)""#))
    }

    @Test("A key on the canary stays on it while the percentage grows, and its counter carries over from the stable version")
    func stickyAndShared() async throws {
        let (routes, versions) = try node()
        try versions.apply(Deployment(epoch: 1, stable: stableSet.version, canary: canarySet.version, percent: 10))
        let keys = (0..<400).map { "k\($0)" }
        let early = keys.filter { isCanary($0, percent: 10) }
        // A key that moves from stable (10 %) to the canary (60 %).
        let mover = try #require(keys.first { !isCanary($0, percent: 10) && isCanary($0, percent: 60) })
        for _ in 0..<2 { #expect(try await check(routes, mover).version == stableSet.version) }
        for (epoch, percent) in [(2, 25), (3, 60)] {
            try versions.apply(Deployment(epoch: UInt64(epoch), stable: stableSet.version, canary: canarySet.version, percent: percent))
            for key in early { #expect(versions.current.resolve(rule: "API", key: key)?.version.id == canarySet.version, "\(key) at \(percent) %") }
        }
        // Two hits under stable count against the canary's limit of 3: one more is admitted, then denied.
        let third = try await check(routes, mover)
        #expect(third.version == canarySet.version)
        #expect(third.decision.allowed && third.decision.remaining == 0)
        #expect(try await check(routes, mover).decision.allowed == false)
    }

    @Test("A deployment whose epoch is not newer, or that names a version not installed, changes nothing")
    func refusedDeployments() throws {
        let (_, versions) = try node()
        try versions.apply(Deployment(epoch: 5, stable: stableSet.version, canary: canarySet.version, percent: 50))
        #expect(throws: RuleVersions.Failure.staleEpoch(offered: 5, current: 5)) {
            try versions.apply(Deployment(epoch: 5, stable: canarySet.version))
        }
        #expect(throws: RuleVersions.Failure.notInstalled("v-00000000000000ff")) {
            try versions.apply(Deployment(epoch: 6, stable: "v-00000000000000ff"))
        }
        #expect(versions.deployment == Deployment(epoch: 5, stable: stableSet.version, canary: canarySet.version, percent: 50))
    }

    @Test("Beyond 8 installed versions, each switch uninstalls the oldest ones not served, and their series leave /metrics")
    func oldVersionsAreUninstalled() throws {
        let metrics = EngineMetrics(node: "n1")
        let versions = RuleVersions(stable: stableSet, metrics: metrics)
        let sets = (1...12).map { RuleSet(rules: ["API": rule("API", limit: 10 + $0)]) }
        var epoch: UInt64 = 0
        for (index, set) in sets.enumerated() {
            versions.install(set)
            epoch += 1
            // Each version is the canary for a while, over the first stable.
            try versions.apply(Deployment(epoch: epoch, stable: stableSet.version, canary: set.version, percent: 10 + index))
            #expect(versions.installedVersions.count <= RuleVersions.maxInstalled)
        }
        let installed = Set(versions.installedVersions)
        #expect(installed.count == RuleVersions.maxInstalled)
        #expect(installed.contains(stableSet.version), "the served stable version stays, however old")
        #expect(installed.isSuperset(of: sets.suffix(RuleVersions.maxInstalled - 1).map(\.version)), "the newest stay")
        #expect(installed.isDisjoint(with: sets.prefix(12 - (RuleVersions.maxInstalled - 1)).map(\.version)), "the oldest went")
        let text = String(decoding: metrics.prometheusText(), as: UTF8.self)
        #expect(!text.contains("version=\"\(sets[0].version)\""), "an uninstalled version's series are no longer exported")
        #expect(text.contains("version=\"\(sets[11].version)\""))
        // A deployment serving an uninstalled version needs it pushed again.
        #expect(throws: RuleVersions.Failure.notInstalled(sets[0].version)) {
            try versions.apply(Deployment(epoch: epoch + 1, stable: sets[0].version))
        }
        versions.install(sets[0])
        try versions.apply(Deployment(epoch: epoch + 1, stable: sets[0].version))
        #expect(versions.current.stable.id == sets[0].version)
    }
}
