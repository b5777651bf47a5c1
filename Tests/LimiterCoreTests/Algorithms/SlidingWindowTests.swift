import LimiterCore
import Testing

@Suite("sliding_window")
struct SlidingWindowTests {
    let rule = Rule(name: "API", limit: 10, periodSeconds: 10, algorithm: .slidingWindow)

    @Test("weights the previous window by the part of it still overlapping, in exact integers")
    func handWorkedVector() {
        var counter = Counter(rule)
        // Fully available once 6 * (W - e) <= W - 1 in the next window: e = 8 334.
        #expect(counter.hit(6, at: 1_000) == .allowed(4, limit: 10, reset: 17_334))
        #expect(counter.hit(4, at: 2_000) == .allowed(0, limit: 10, reset: 17_001))
        // Needs floor(10 * (W - e) / W) <= 9: e >= 1 in the next window, at 10 001.
        #expect(counter.hit(at: 3_000) == .denied(0, limit: 10, reset: 16_001, retry: 7_001))
        #expect(counter.peek(at: 10_000).allowed == false)
        // floor(10 * 9 999 / 10 000) = 9, plus this hit: 10.
        #expect(counter.hit(at: 10_001) == .allowed(0, limit: 10, reset: 9_999 + 1))
        // floor(10 * 7 500 / 10 000) = 7, plus 1 current: 8 used.
        #expect(counter.hit(0, at: 12_500) == .allowed(2, limit: 10, reset: 7_501))
        // 3 more need floor(10 * (W - e) / W) <= 6: e >= 3 001.
        #expect(counter.hit(3, at: 12_500) == .denied(2, limit: 10, reset: 7_501, retry: 501))
        #expect(counter.peek(3, at: 13_000).allowed == false)
        // 4 current hits decay below 1 once 4 * (W - e) <= W - 1 next window: e = 7 501.
        #expect(counter.hit(3, at: 13_001) == .allowed(0, limit: 10, reset: 14_500))
        #expect(counter.state == .slidingWindow(SlidingWindowState(windowStart: 10_000, current: 4, previous: 10)))
    }

    @Test("a window two periods old no longer counts")
    func staleWindows() {
        var counter = Counter(rule)
        counter.hit(10, at: 0)
        #expect(counter.hit(at: 20_000) == .allowed(9, limit: 10, reset: 10_001))
        #expect(counter.state == .slidingWindow(SlidingWindowState(windowStart: 20_000, current: 1, previous: 0)))
    }

    @Test("when the current window alone is over the limit the wait runs into the window after next")
    func retryTwoWindowsAhead() {
        // L = 2000, W = 1000 ms: a full current window decays by 2 per ms in the next one.
        let dense = Rule(name: "dense", limit: 2_000, periodSeconds: 1, algorithm: .slidingWindow)
        var counter = Counter(dense)
        #expect(counter.hit(2_000, at: 0).allowed)
        // Next window: floor(2000 * (1000 - e) / 1000) <= 0 needs e >= 1000: two windows on.
        #expect(counter.hit(2_000, at: 0) == .denied(0, limit: 2_000, reset: 2_000, retry: 2_000))
        #expect(counter.peek(2_000, at: 1_999).allowed == false)
        #expect(counter.peek(2_000, at: 2_000).allowed)
    }
}
