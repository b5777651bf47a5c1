extension Rule {
    /// How long (ms) a logged hit of this rule's counters can still change a decision: when a
    /// counter is rebuilt from its logged hits alone (no snapshot), replaying only the hits
    /// logged at or after `now - replayHorizonMs` gives the same decisions at `now` and later
    /// as replaying all of them (DESIGN.md §4 for each algorithm's window):
    ///
    /// - `fixed_window`: `W`. The window holding `now` started less than `W` ago, and only
    ///   its hits count.
    /// - `sliding_log`: `W`. Only hits at `s > t - W` count.
    /// - `sliding_window`: `2W`, not `W`: the estimate weighs the previous aligned window,
    ///   which starts up to `2W` before `now`.
    /// - `token_bucket` and `gcra`: no horizon is exact, because a bucket kept below full by
    ///   steady traffic remembers every hit since it was last full. `max(W, B * W / L)` (the
    ///   time an empty bucket takes to refill, rounded up) covers the idle key; for a busy one
    ///   a replay that starts later starts from a fuller bucket, so it errs towards admitting,
    ///   by at most one burst `B`. Snapshots hold these states exactly; this horizon only
    ///   matters when no snapshot can be read.
    public var replayHorizonMs: Int64 {
        let window = periodMs
        switch algorithm {
        case .fixedWindow, .slidingLog:
            return window
        case .slidingWindow:
            return 2 * window
        case .tokenBucket, .gcra:
            let limit = Int128(self.limit.clamped(to: Self.limitRange))
            let burst = Int128(self.burst.clamped(to: Self.limitRange))
            let refill = (burst * Int128(window) + limit - 1) / limit
            return max(window, Int64(clamping: refill))
        }
    }
}

extension Sequence where Element == Rule {
    /// The longest ``Rule/replayHorizonMs`` of these rules, 0 when there are none.
    public var longestReplayHorizonMs: Int64 {
        reduce(0) { Swift.max($0, $1.replayHorizonMs) }
    }
}
