import LimiterCore
import Testing

@Suite("sliding_log")
struct SlidingLogTests {
    let rule = Rule(name: "API", limit: 3, periodSeconds: 10, algorithm: .slidingLog)

    @Test("admits exactly L hits in any trailing period and waits for the oldest to expire")
    func handWorkedVector() {
        var counter = Counter(rule)
        #expect(counter.hit(at: 0) == .allowed(2, limit: 3, reset: 10_000))
        #expect(counter.hit(at: 4_000) == .allowed(1, limit: 3, reset: 10_000))
        #expect(counter.hit(at: 4_000) == .allowed(0, limit: 3, reset: 10_000))
        // One hit must expire: the one at 0 leaves the window at 10 000.
        #expect(counter.hit(at: 5_000) == .denied(0, limit: 3, reset: 9_000, retry: 5_000))
        // Two must expire: those at 0 and both at 4 000, gone at 14 000.
        #expect(counter.hit(2, at: 5_000) == .denied(0, limit: 3, reset: 9_000, retry: 9_000))
        // The hit at 0 is out: s > t - W fails for s = 0, t = 10 000.
        #expect(counter.hit(at: 10_000) == .allowed(0, limit: 3, reset: 10_000))
        #expect(counter.hit(at: 13_999) == .denied(0, limit: 3, reset: 6_001, retry: 1))
        #expect(counter.hit(at: 14_000) == .allowed(1, limit: 3, reset: 10_000))
    }

    @Test("keeps only in-window entries and coalesces hits of the same millisecond")
    func compactLog() throws {
        var counter = Counter(rule)
        counter.hit(at: 0)
        counter.hit(at: 4_000)
        counter.hit(at: 4_000)
        counter.hit(at: 10_000)
        guard case .slidingLog(let log)? = counter.state else {
            Issue.record("expected a sliding_log state, got \(String(describing: counter.state))")
            return
        }
        #expect(Array(log.entries) == [.init(at: 4_000, hits: 2), .init(at: 10_000, hits: 1)])
        #expect(log.total == 3)
    }

    @Test("a long log trims its expired front without changing what it admits")
    func longLog() {
        let big = Rule(name: "big", limit: 1_000, periodSeconds: 1, algorithm: .slidingLog)
        var counter = Counter(big)
        for t in stride(from: Int64(0), to: 5_000, by: 1) {
            let decision = counter.hit(at: t)
            // One hit per ms over a 1 000 ms window: always exactly fits, never more.
            #expect(decision.allowed)
            #expect(decision.remaining == 1_000 - Int(min(t + 1, 1_000)))
        }
        #expect(!counter.hit(at: 4_999).allowed)
    }
}
