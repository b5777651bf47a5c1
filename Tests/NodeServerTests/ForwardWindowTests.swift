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

    /// Feeds arrivals `gap` apart from `start` and returns each answer.
    func arrivals(_ window: inout ForwardWindow, count: Int, gap: UInt64, start: UInt64 = start) -> [Bool] {
        (0..<UInt64(count)).map { window.arrival(at: start + $0 * gap) }
    }

    @Test("A zero window never waits, however fast checks arrive")
    func zeroNeverWaits() {
        var window = ForwardWindow(lengthNanos: 0)
        #expect(arrivals(&window, count: 100, gap: 1).allSatisfy { !$0 })
    }

    @Test("Checks wait once one per window has arrived over the last eight windows, not before")
    func waitsOnceTheRateIsThere() {
        var window = ForwardWindow(lengthNanos: Self.window)
        let answers = arrivals(&window, count: 200, gap: 100 * Self.micro)
        #expect(answers.prefix(8).allSatisfy { !$0 }, "the first eight have fewer than eight before them: \(answers.prefix(9))")
        #expect(answers.dropFirst(8).allSatisfy { $0 }, "a check every 100 µs keeps waiting, across span boundaries")
    }

    @Test("Checks rarer than one per window never wait")
    func sparseNeverWaits() {
        var window = ForwardWindow(lengthNanos: Self.window)
        #expect(arrivals(&window, count: 200, gap: 1_000 * Self.micro).allSatisfy { !$0 }, "a check every 1 ms")
    }

    @Test("Bursts every 2 ms (clients that all got their answers together) keep the window, first check of each burst included")
    func burstsKeepTheWindow() {
        var window = ForwardWindow(lengthNanos: Self.window)
        var firstOfBurst: [Bool] = []
        for burst in 0..<UInt64(20) {
            let answers = arrivals(&window, count: 10, gap: 1 * Self.micro, start: Self.start + burst * 2_000 * Self.micro)
            firstOfBurst.append(answers[0])
        }
        #expect(firstOfBurst.dropFirst(1).allSatisfy { $0 }, "\(firstOfBurst)")
    }

    @Test("After a quiet spell the next check leaves at once, and eight quick ones restore the wait")
    func quietSpell() {
        var window = ForwardWindow(lengthNanos: Self.window)
        _ = arrivals(&window, count: 100, gap: 100 * Self.micro)
        let later = Self.start + 60_000_000_000  // a minute later
        let answers = arrivals(&window, count: 9, gap: 100 * Self.micro, start: later)
        #expect(answers == Array(repeating: false, count: 8) + [true])
        // A pause just over one span (4 ms) still counts the previous span, partly.
        var paused = ForwardWindow(lengthNanos: Self.window)
        _ = arrivals(&paused, count: 100, gap: 100 * Self.micro)
        #expect(paused.arrival(at: Self.start + 100 * 100 * Self.micro + 1_000 * Self.micro) == true)
    }

    @Test("A clock reading earlier than a previous one neither traps nor loses the count")
    func clockGoingBackwards() {
        var window = ForwardWindow(lengthNanos: Self.window)
        _ = arrivals(&window, count: 20, gap: 10 * Self.micro)
        #expect(window.arrival(at: Self.start - 1_000_000) == true)
    }
}
