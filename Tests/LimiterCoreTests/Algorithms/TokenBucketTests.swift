import LimiterCore
import Testing

@Suite("token_bucket")
struct TokenBucketTests {
    /// 2 tokens per second (one per 500 ms), capacity 4.
    let rule = Rule(name: "API", limit: 2, periodSeconds: 1, algorithm: .tokenBucket, burst: 4)

    @Test("starts full, refills L/W per ms exactly and reports whole tokens")
    func handWorkedVector() {
        var counter = Counter(rule)
        #expect(counter.peek(0, at: 0) == .allowed(4, limit: 2, reset: 0))
        #expect(counter.hit(3, at: 0) == .allowed(1, limit: 2, reset: 1_500))
        #expect(counter.hit(2, at: 0) == .denied(1, limit: 2, reset: 1_500, retry: 500))
        // 1.5 tokens at 250 ms; one spent leaves half a token.
        #expect(counter.hit(at: 250) == .allowed(0, limit: 2, reset: 1_750))
        #expect(counter.hit(at: 500) == .allowed(0, limit: 2, reset: 2_000))
        #expect(counter.hit(at: 999) == .denied(0, limit: 2, reset: 1_501, retry: 1))
        #expect(counter.hit(0, at: 10_000) == .allowed(4, limit: 2, reset: 0))
    }

    @Test("a request above the burst is denied without spending tokens")
    func oversizedRequest() {
        var counter = Counter(rule)
        counter.hit(4, at: 0)
        let before = counter.state
        #expect(counter.hit(5, at: 500) == .denied(1, limit: 2, reset: 1_500, retry: 1_500))
        #expect(counter.state == before)
    }

    @Test("burst defaults to the limit")
    func burstDefault() {
        var counter = Counter(Rule(name: "API", limit: 5, periodSeconds: 10, algorithm: .tokenBucket))
        #expect(counter.hit(5, at: 0) == .allowed(0, limit: 5, reset: 10_000))
        #expect(counter.hit(at: 0) == .denied(0, limit: 5, reset: 10_000, retry: 2_000))
    }

    @Test("a period change rescales the stored tokens instead of misreading them")
    func periodChange() {
        var counter = Counter(Rule(name: "API", limit: 10, periodSeconds: 1, algorithm: .tokenBucket))
        counter.hit(5, at: 0)
        counter.rule.periodSeconds = 2
        // Still 5 tokens; refilling 5 more at 10 per 2 s takes 1 s.
        #expect(counter.peek(0, at: 0) == .allowed(5, limit: 10, reset: 1_000))
    }
}
