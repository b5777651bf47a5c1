@testable import NodeServer
import Testing

/// The pure policy behind the forwarding window, on a hand-driven clock
/// (nanoseconds).
@Suite("When a forwarded check waits for company")
struct ForwardWindowTests {
    static let micro: UInt64 = 1_000
    static let window = 500 * micro
    /// An uptime far from zero, as the monotonic clock gives.
    static let start: UInt64 = 3_600_000_000_000

    /// Arrivals `gap` apart from `start` at an idle lane, each window closed
    /// before the next arrival: whether each opened one.
    func lone(_ window: inout ForwardWindow, count: Int, gap: UInt64, start: UInt64 = start) -> [Bool] {
        (0..<UInt64(count)).map {
            let opened = window.arrival(at: start + $0 * gap, idle: true)
            if opened { window.close() }
            return opened
        }
    }

    /// Bursts of `size` arrivals 1 µs apart, `gap` apart: the first of each
    /// finds the lane idle, the rest find its window open or its batch in
    /// flight; the window closes before the next burst.
    func bursts(_ window: inout ForwardWindow, count: Int, size: Int, gap: UInt64) -> [Bool] {
        (0..<UInt64(count)).map { burst in
            let at = Self.start + burst * gap
            let opened = window.arrival(at: at, idle: true)
            for index in 1..<UInt64(size) { _ = window.arrival(at: at + index * Self.micro, idle: false) }
            if opened { window.close() }
            return opened
        }
    }

    @Test("A zero window never opens, however fast checks arrive")
    func zeroNeverOpens() {
        var window = ForwardWindow(lengthNanos: 0)
        #expect(bursts(&window, count: 50, size: 10, gap: 100 * Self.micro).allSatisfy { !$0 })
    }

    @Test("A window opens once eight checks arrived over the last eight windows, not before")
    func opensOnceTheRateIsThere() {
        var window = ForwardWindow(lengthNanos: Self.window)
        // Checks arriving 100 µs apart while a batch is in flight: counted, no window.
        let busy = (0..<UInt64(8)).map { window.arrival(at: Self.start + $0 * 100 * Self.micro, idle: false) }
        #expect(busy == Array(repeating: false, count: 8))
        let ninth = window.arrival(at: Self.start + 800 * Self.micro, idle: true)
        #expect(ninth)
        #expect(window.isOpen)
        var fresh = ForwardWindow(lengthNanos: Self.window)
        let first = (0..<UInt64(8)).map { fresh.arrival(at: Self.start + $0 * 100 * Self.micro, idle: true) }
        #expect(first == Array(repeating: false, count: 8), "no window while fewer than eight came before")
    }

    @Test("Bursts from many clients every 2 ms open a window at each, the first burst aside")
    func burstsKeepTheWindow() {
        var window = ForwardWindow(lengthNanos: Self.window)
        let opened = bursts(&window, count: 30, size: 10, gap: 2_000 * Self.micro)
        #expect(opened.first == false)
        #expect(opened.dropFirst().allSatisfy { $0 }, "\(opened)")
    }

    @Test("Bursts rarer than one check per window never open one")
    func sparseNeverOpens() {
        var window = ForwardWindow(lengthNanos: Self.window)
        #expect(lone(&window, count: 200, gap: 1_000 * Self.micro).allSatisfy { !$0 }, "a check every 1 ms")
        var sparseBursts = ForwardWindow(lengthNanos: Self.window)
        #expect(bursts(&sparseBursts, count: 50, size: 2, gap: 10_000 * Self.micro).allSatisfy { !$0 }, "two checks every 10 ms")
    }

    @Test("A client that waits for each answer opens six windows, then skips 8, 16, 32, 64 and 128 chances while windows gather no one")
    func sequentialClientBacksOff() {
        var window = ForwardWindow(lengthNanos: Self.window)
        // Warm the rate up while a batch is in flight, then one check every 150 µs, each alone.
        for index in 0..<UInt64(8) { _ = window.arrival(at: Self.start + index * Self.micro, idle: false) }
        let opened = lone(&window, count: 388, gap: 150 * Self.micro, start: Self.start + 10 * Self.micro)
        let openings = opened.indices.filter { opened[$0] }
        #expect(openings == [0, 1, 2, 3, 4, 5, 14, 31, 64, 129, 258, 387], "\(openings)")
    }

    @Test("A window that gathers company ends the back-off")
    func companyEndsBackOff() {
        var window = ForwardWindow(lengthNanos: Self.window)
        for index in 0..<UInt64(8) { _ = window.arrival(at: Self.start + index * Self.micro, idle: false) }
        var at = Self.start
        var lonely: [Bool] = []
        for _ in 0..<6 {
            at += 100 * Self.micro
            lonely.append(window.arrival(at: at, idle: true))
            window.close()  // gathered no one; the sixth of eight starts the back-off
        }
        #expect(lonely == Array(repeating: true, count: 6))
        var skipped: [Bool] = []
        for _ in 0..<8 {
            at += 100 * Self.micro
            skipped.append(window.arrival(at: at, idle: true))
        }
        #expect(skipped == Array(repeating: false, count: 8))
        at += 100 * Self.micro
        let reopened = window.arrival(at: at, idle: true)
        #expect(reopened)
        let joiner = window.arrival(at: at + Self.micro, idle: false)
        #expect(joiner == false, "it joins the open window")
        let gathered = window.close()
        #expect(gathered == 2)
        at += 100 * Self.micro
        let next = window.arrival(at: at, idle: true)
        #expect(next, "no skipping after a window that gathered someone")
    }

    @Test("Empty windows now and then among full ones never start the back-off")
    func occasionalEmptyWindows() {
        var window = ForwardWindow(lengthNanos: Self.window)
        for index in 0..<UInt64(8) { _ = window.arrival(at: Self.start + index * Self.micro, idle: false) }
        var at = Self.start + 100 * Self.micro
        var opened: [Bool] = []
        // Five empty windows out of every eight, forever: below six of eight.
        for round in 0..<80 {
            opened.append(window.arrival(at: at, idle: true))
            if round % 8 >= 5 { _ = window.arrival(at: at + Self.micro, idle: false) }
            window.close()
            at += 100 * Self.micro
        }
        #expect(opened.allSatisfy { $0 }, "\(opened)")
    }

    @Test("After a quiet spell the next check leaves at once, and a few quick ones restore the window")
    func quietSpell() {
        var window = ForwardWindow(lengthNanos: Self.window)
        _ = bursts(&window, count: 20, size: 10, gap: 2_000 * Self.micro)
        let later = Self.start + 60_000_000_000  // a minute later
        let afterSpell = window.arrival(at: later, idle: true)
        #expect(afterSpell == false)
        for index in 1..<UInt64(8) { _ = window.arrival(at: later + index * Self.micro, idle: false) }
        let restored = window.arrival(at: later + 8 * Self.micro, idle: true)
        #expect(restored)
    }

    @Test("A clock reading earlier than a previous one neither traps nor loses the count")
    func clockGoingBackwards() {
        var window = ForwardWindow(lengthNanos: Self.window)
        for index in 0..<UInt64(20) { _ = window.arrival(at: Self.start + index * 10 * Self.micro, idle: false) }
        let earlier = window.arrival(at: Self.start - 1_000_000, idle: true)
        #expect(earlier)
    }

    @Test("close() without an open window changes nothing")
    func closeWithoutWindow() {
        var window = ForwardWindow(lengthNanos: Self.window)
        let before = window
        let gathered = window.close()
        #expect(gathered == 0)
        #expect(window == before)
    }
}
