/// `fixed_window` state: the admitted hits of one window aligned to a multiple of `W` since
/// the Unix epoch (DESIGN.md §4). Only admitted hits are counted.
public struct FixedWindowState: Sendable, Hashable {
    /// Start of the window `count` belongs to, in ms since the epoch.
    public internal(set) var windowStart: Int64
    /// Hits admitted in that window.
    public internal(set) var count: Int

    /// Values out of range (times beyond ±2^61 ms, negative counts) are clamped into it.
    public init(windowStart: Int64, count: Int) {
        self.windowStart = LimitParameters.clampStateTime(windowStart)
        self.count = max(count, 0)
    }
}

extension FixedWindowState: AlgorithmState {
    static func take(from state: inout CounterState?) -> FixedWindowState? {
        guard case .fixedWindow(let own)? = state else { return nil }
        state = nil
        return own
    }

    var wrapped: CounterState { .fixedWindow(self) }

    /// The window holding `now` and the hits already in it. A `now` earlier than the stored
    /// window (clock skew between nodes) is read as the stored window, so time never runs
    /// backwards inside a state.
    @inline(__always)
    private static func view(_ state: Self?, now: Int64, _ p: LimitParameters) -> (start: Int64, used: Int) {
        let start = p.windowStart(of: now)
        guard let state else { return (start, 0) }
        if state.windowStart == start { return (start, state.count) }
        if state.windowStart > start { return (state.windowStart, state.count) }
        return (start, 0)
    }

    static func decide(_ state: inout Self?, hits n: Int, now: Int64, _ p: LimitParameters) -> Decision {
        let (start, used) = view(state, now: now, p)
        let limit = Int(p.limit)
        let windowEnd = start + p.period
        let fits = n <= limit && used <= limit - n
        if fits && n > 0 {
            record(&state, hits: n, at: now, p)
        }
        let usedAfter = fits ? used + n : used
        let resetMs = usedAfter > 0 ? windowEnd - now : 0
        let retryAfterMs: Int64
        if fits {
            retryAfterMs = 0
        } else if n > limit {
            retryAfterMs = max(resetMs, p.period)
        } else {
            // The next window starts empty and n <= L fits there; before it nothing expires.
            retryAfterMs = windowEnd - now
        }
        return Decision(
            allowed: fits, limit: limit, remaining: max(0, limit - usedAfter),
            resetMs: resetMs, retryAfterMs: retryAfterMs
        )
    }

    static func record(_ state: inout Self?, hits n: Int, at: Int64, _ p: LimitParameters) {
        let (start, used) = view(state, now: at, p)
        state = FixedWindowState(windowStart: start, count: used.saturatingAdd(n))
    }

    func isFullyAvailable(now: Int64, _ p: LimitParameters) -> Bool {
        Self.view(self, now: now, p).used == 0
    }
}
