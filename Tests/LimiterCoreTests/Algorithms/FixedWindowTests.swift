import LimiterCore
import Testing

@Suite("fixed_window")
struct FixedWindowTests {
    let rule = Rule(name: "API", limit: 3, periodSeconds: 10, algorithm: .fixedWindow)

    @Test("counts admitted hits in windows aligned to the epoch and denies until the window ends")
    func handWorkedVector() {
        var counter = Counter(rule)
        #expect(counter.peek(0, at: 1_000) == .allowed(3, limit: 3, reset: 0))
        #expect(counter.hit(at: 1_000) == .allowed(2, limit: 3, reset: 9_000))
        #expect(counter.hit(2, at: 2_000) == .allowed(0, limit: 3, reset: 8_000))
        #expect(counter.hit(at: 3_000) == .denied(0, limit: 3, reset: 7_000, retry: 7_000))
        #expect(counter.hit(0, at: 3_000) == .allowed(0, limit: 3, reset: 7_000))
        #expect(counter.hit(at: 9_999) == .denied(0, limit: 3, reset: 1, retry: 1))
        // The window [10 000, 20 000) starts empty.
        #expect(counter.hit(at: 10_000) == .allowed(2, limit: 3, reset: 10_000))
        #expect(counter.state == .fixedWindow(FixedWindowState(windowStart: 10_000, count: 1)))
    }

    @Test("a request above the limit is denied with one period as its back-off hint")
    func oversizedRequest() {
        var counter = Counter(rule)
        counter.hit(at: 12_000)
        let before = counter.state
        #expect(counter.hit(4, at: 12_000) == .denied(2, limit: 3, reset: 8_000, retry: 10_000))
        #expect(counter.state == before)
    }

    @Test("an earlier time than the stored window (clock skew) counts in the stored window")
    func clockSkew() {
        var counter = Counter(rule)
        counter.hit(3, at: 10_500)
        #expect(counter.hit(at: 9_500) == .denied(0, limit: 3, reset: 10_500, retry: 10_500))
    }
}
