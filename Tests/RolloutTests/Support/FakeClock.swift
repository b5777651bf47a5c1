/// Wall-clock ms that only tests move: the rollout core reads no clock, so
/// a whole gradual rollout runs in microseconds.
struct FakeClock {
    private(set) var now: Int64

    init(_ start: Int64 = 1_764_460_800_000) { self.now = start }

    mutating func advance(by milliseconds: Int64) { self.now += milliseconds }

    mutating func set(_ milliseconds: Int64) {
        precondition(milliseconds >= self.now, "FakeClock: cannot go back from \(self.now) to \(milliseconds)")
        self.now = milliseconds
    }
}
