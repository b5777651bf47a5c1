import Config
import LimiterCore
@testable import NodeServer
import Testing

@Suite("on_unavailable: the answer for a check without recorded state")
struct UnavailablePolicyTests {
    static let window = Rule(name: "API", namespaceID: "1001", limit: 100, periodSeconds: 60, algorithm: .slidingWindow)
    static let bucket = Rule(name: "BURST", namespaceID: "1002", limit: 10, periodSeconds: 60, algorithm: .tokenBucket, burst: 30)

    @Test("deny refuses with nothing remaining and a Retry-After of at least one second")
    func denyRefuses() {
        let policy = UnavailablePolicy(mode: .deny)
        for hits in [0, 1, 100] {
            let decision = policy.decide(rule: Self.window, hits: hits)
            #expect(!decision.allowed, "hits \(hits)")
            #expect(decision.limit == 100)
            #expect(decision.remaining == 0)
            #expect(decision.retryAfterMs >= 1000)
        }
        let result = policy.answer(LimiterEngine.ResolvedCheck(request: CheckRequest(key: "k", rule: "API", hits: 1),
                                                               rule: Self.window, version: "v-1"), node: "n2")
        #expect(result.rule == "API" && result.version == "v-1" && result.node == "n2")
        let retryAfter = result.headers(periodSeconds: 60).first { $0.0 == "Retry-After" }?.1
        #expect(retryAfter.flatMap(Int.init).map { $0 >= 1 } == true, "\(String(describing: retryAfter))")
    }

    @Test("allow admits without a Retry-After and claims nothing remaining")
    func allowAdmits() {
        let policy = UnavailablePolicy(mode: .allow)
        for hits in [0, 1, 30] {
            let decision = policy.decide(rule: Self.bucket, hits: hits)
            #expect(decision.allowed, "hits \(hits)")
            #expect(decision.remaining == 0)
            #expect(decision.retryAfterMs == 0)
        }
        let result = CheckResult(decision: policy.decide(rule: Self.window, hits: 1), rule: "API", version: "v", node: "n1")
        #expect(!result.headers(periodSeconds: 60).contains { $0.0 == "Retry-After" })
    }

    @Test("a request above the rule's capacity is denied in both modes, as a fresh counter denies it",
          arguments: [UnavailableMode.deny, .allow])
    func neverFits(mode: UnavailableMode) {
        let policy = UnavailablePolicy(mode: mode)
        #expect(!policy.decide(rule: Self.window, hits: 101).allowed)
        #expect(policy.decide(rule: Self.window, hits: 101).retryAfterMs == 60_000)
        // token_bucket's capacity is its burst, not its limit.
        #expect(policy.decide(rule: Self.bucket, hits: 30).allowed == (mode == .allow))
        #expect(!policy.decide(rule: Self.bucket, hits: 31).allowed)
    }

    @Test("retry_after_ms is at least 1000 whatever it is made with, and longer intervals are kept")
    func retryFloor() {
        #expect(UnavailablePolicy(mode: .deny, retryAfterMs: 0).retryAfterMs == 1000)
        #expect(UnavailablePolicy(mode: .deny, retryAfterMs: -5).decide(rule: Self.window, hits: 1).retryAfterMs == 1000)
        #expect(UnavailablePolicy(mode: .deny, retryAfterMs: 2500).decide(rule: Self.window, hits: 1).retryAfterMs == 2500)
        #expect(UnavailablePolicy().mode == .deny, "deny is the default")
    }
}
