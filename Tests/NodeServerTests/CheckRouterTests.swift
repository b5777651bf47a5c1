import LimiterCore
@testable import NodeServer
import Placement
import Synchronization
import Testing

@Suite("Routing checks to their owners")
struct CheckRouterTests {
    static let api = rule("API", limit: 5)

    /// A placement view that tests set.
    final class View: OwnerLookup {
        let view: Mutex<PlacementView>
        init(_ view: PlacementView) { self.view = Mutex(view) }
        var placementView: PlacementView { view.withLock { $0 } }
        var isDeciding: Bool { true }
        var failoverEnabled: Bool { false }
    }

    /// Owners played by closures: each call records where it went.
    final class Owners: CheckForwarding {
        let calls = Mutex<[(owner: String, keys: [String])]>([])
        let answer: @Sendable (String, [LimiterEngine.ResolvedCheck]) -> ForwardedResults

        init(answer: @escaping @Sendable (String, [LimiterEngine.ResolvedCheck]) -> ForwardedResults) {
            self.answer = answer
        }

        func forward(_ checks: [LimiterEngine.ResolvedCheck], to owner: String,
                     completion: @escaping @Sendable (Result<ForwardedAnswers, APIProblem>) -> Void) {
            calls.withLock { $0.append((owner, checks.map(\.request.key))) }
            // As the Forwarder hands answers out: a slice of a larger batch's
            // answer, whose indices do not start at 0.
            let results = answer(owner, checks)
            let batch = [ForwardedResults.Item.notMine(owner: nil)] + results.items
            completion(.success(ForwardedAnswers(epoch: results.epoch, items: batch[1...])))
        }

        var destinations: [String] { calls.withLock { $0.map(\.owner) } }
    }

    static func decided(by node: String, _ checks: [LimiterEngine.ResolvedCheck]) -> ForwardedResults {
        ForwardedResults(requestID: 1, epoch: 0, items: checks.map { check in
            .decided(CheckResult(decision: Decision(allowed: true, limit: 5, remaining: 4, resetMs: 1, retryAfterMs: 0),
                                 rule: check.rule.name, version: check.version, node: node))
        })
    }

    func resolved(_ key: String) -> LimiterEngine.ResolvedCheck {
        LimiterEngine.ResolvedCheck(request: CheckRequest(key: key, rule: "API"), rule: Self.api, version: "v-1")
    }

    func key(ownedBy owner: String, in view: PlacementView) -> String {
        (0...).lazy.map { "key-\($0)" }.first { view.ring.owner(namespace: "1001", key: $0) == owner }!
    }

    func single(_ router: CheckRouter, _ check: LimiterEngine.ResolvedCheck) async -> Result<CheckResult, APIProblem> {
        await withCheckedContinuation { continuation in
            if case .done(let result) = router.check(check, completion: { continuation.resume(returning: $0) }) {
                continuation.resume(returning: result)
            }
        }
    }

    @Test("A key another node owns is forwarded to it and its decision returned")
    func forwardsToOwner() async throws {
        let view = PlacementView(selfID: "n1", aliveNodes: ["n1", "n2", "n3"], settled: true)
        let owners = Owners { owner, checks in Self.decided(by: owner, checks) }
        let router = CheckRouter(engine: try makeTestEngine(rules: ["API": Self.api]), placement: View(view), forwarder: owners)
        let result = try await single(router, resolved(key(ownedBy: "n2", in: view))).get()
        #expect(result.node == "n2")
        #expect(owners.destinations == ["n2"])
    }

    @Test("An owner that disowns a key sends the check on to the owner it names, which decides")
    func followsOwnerHint() async throws {
        let view = PlacementView(selfID: "n1", aliveNodes: ["n1", "n2", "n3"], settled: true)
        let owners = Owners { owner, checks in
            owner == "n2" ? ForwardedResults(requestID: 1, epoch: 99, items: [.notMine(owner: "n3")]) : Self.decided(by: owner, checks)
        }
        let router = CheckRouter(engine: try makeTestEngine(rules: ["API": Self.api]), placement: View(view), forwarder: owners)
        let result = try await single(router, resolved(key(ownedBy: "n2", in: view))).get()
        #expect(result.node == "n3")
        #expect(owners.destinations == ["n2", "n3"])
    }

    @Test("When owners keep disowning a key, the router gives up after its hop limit with a 503 naming both epochs")
    func boundedRetries() async throws {
        let view = PlacementView(selfID: "n1", aliveNodes: ["n1", "n2", "n3", "n4"], settled: true)
        let hints = ["n2": "n3", "n3": "n4", "n4": "n2"]
        let owners = Owners { owner, _ in ForwardedResults(requestID: 1, epoch: 42, items: [.notMine(owner: hints[owner])]) }
        let router = CheckRouter(engine: try makeTestEngine(rules: ["API": Self.api]), placement: View(view), forwarder: owners)
        let result = await single(router, resolved(key(ownedBy: "n2", in: view)))
        guard case .failure(let problem) = result else { Issue.record("expected a failure, got \(result)"); return }
        #expect(problem.status == 503)
        #expect(problem.detail.contains("placement not agreed"))
        #expect(problem.detail.contains(PlacementView.format(epoch: 42)))
        #expect(owners.destinations.count == 3)
    }

    @Test("If the sender's view changed so that it owns a disowned key, it decides the key itself")
    func decidesLocallyAfterViewChange() async throws {
        let before = PlacementView(selfID: "n1", aliveNodes: ["n1", "n2"], settled: true)
        let key = key(ownedBy: "n2", in: before)
        let lookup = View(before)
        let owners = Owners { _, _ in
            lookup.view.withLock { $0 = PlacementView(selfID: "n1", aliveNodes: ["n1"], settled: true) }
            return ForwardedResults(requestID: 1, epoch: 7, items: [.notMine(owner: "n1")])
        }
        let router = CheckRouter(engine: try makeTestEngine(rules: ["API": Self.api]), placement: lookup, forwarder: owners)
        let result = try await single(router, resolved(key)).get()
        #expect(result.node == "n1")
        #expect(result.decision.remaining == 4)
    }

    @Test("An unsettled node decides nothing: every check is a 503 until placement is agreed")
    func unsettled() async throws {
        let owners = Owners { owner, checks in Self.decided(by: owner, checks) }
        let router = CheckRouter(engine: try makeTestEngine(rules: ["API": Self.api]), placement: View(.unsettled(selfID: "n1")),
                                 forwarder: owners)
        let result = await single(router, resolved("k"))
        guard case .failure(let problem) = result else { Issue.record("expected a failure, got \(result)"); return }
        #expect(problem.status == 503)
        #expect(owners.destinations.isEmpty)
    }

    @Test("A batch mixing local and remote keys comes back in request order")
    func batchOrder() async throws {
        let view = PlacementView(selfID: "n1", aliveNodes: ["n1", "n2", "n3"], settled: true)
        let owners = Owners { owner, checks in Self.decided(by: owner, checks) }
        let router = CheckRouter(engine: try makeTestEngine(rules: ["API": Self.api]), placement: View(view), forwarder: owners)
        let keys = (0..<30).map { "batch-\($0)" }
        let result = await LimiterEngine.Outcome.await { completion in router.check(keys.map(resolved), completion: completion) }
        let nodes = try result.get().map(\.node)
        #expect(nodes == keys.map { view.ring.owner(namespace: "1001", key: $0)! })
        #expect(Set(owners.destinations) == ["n2", "n3"], "one batch per remote owner")
        #expect(owners.destinations.count == 2)
    }
}
