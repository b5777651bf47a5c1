import LimiterCore
import Testing

@Suite("gcra")
struct GCRATests {
    @Test("matches redis-cell: burst 5 at 1/s admits five, denies the sixth for 1 s, has 2 left after 3 s")
    func redisCellVector() {
        var counter = Counter(Rule(name: "cell", limit: 1, periodSeconds: 1, algorithm: .gcra, burst: 5))
        for (index, remaining) in [4, 3, 2, 1, 0].enumerated() {
            let tat = Int64(index + 1) * 1_000
            #expect(counter.hit(at: 0) == .allowed(remaining, limit: 1, reset: tat))
        }
        #expect(counter.hit(at: 0) == .denied(0, limit: 1, reset: 5_000, retry: 1_000))
        #expect(counter.hit(at: 3_000) == .allowed(2, limit: 1, reset: 3_000))
    }

    @Test("keeps exact time when the emission interval is not a whole number of ms")
    func fractionalInterval() {
        // T = 333.3 ms, tau = 666.7 ms; times are exact in units of 1/3 ms.
        var counter = Counter(Rule(name: "API", limit: 3, periodSeconds: 1, algorithm: .gcra, burst: 2))
        #expect(counter.hit(at: 0) == .allowed(1, limit: 3, reset: 334))
        #expect(counter.hit(at: 0) == .allowed(0, limit: 3, reset: 667))
        // new = 1000 ms, new - tau = 333.3 ms: admissible from 334.
        #expect(counter.hit(at: 0) == .denied(0, limit: 3, reset: 667, retry: 334))
        #expect(counter.peek(at: 333).allowed == false)
        #expect(counter.hit(at: 334) == .allowed(0, limit: 3, reset: 666))
        #expect(counter.hit(3, at: 1_000) == .denied(2, limit: 3, reset: 0, retry: 1_000))
        #expect(counter.hit(0, at: 1_000) == .allowed(2, limit: 3, reset: 0))
    }

    @Test("a limit change rescales the stored TAT, keeping it in ms")
    func limitChange() {
        var counter = Counter(Rule(name: "API", limit: 10, periodSeconds: 1, algorithm: .gcra))
        counter.hit(5, at: 0)  // TAT = 500 ms
        counter.rule.limit = 20  // T = 50 ms, tau = 500 ms (burst stays 10)
        #expect(counter.peek(0, at: 0) == .allowed(0, limit: 20, reset: 500))
        #expect(counter.peek(0, at: 100) == .allowed(2, limit: 20, reset: 400))
    }
}
