/// `sliding_window` state: admitted hits of the current aligned window and of the one before.
///
/// Cloudflare's approximation as the Python `limits` library computes it (DESIGN.md §4):
/// `estimate = prev * (W - (t - start)) / W + cur`, admitted iff `floor(estimate) + n <= L`.
/// Because `cur` is an integer, `floor(estimate) = floor(prev * (W - elapsed) / W) + cur`,
/// which is computed exactly in integers; no floating point is involved.
public struct SlidingWindowState: Sendable, Hashable {
    /// Start of the window `current` belongs to, in ms since the epoch.
    public internal(set) var windowStart: Int64
    /// Hits admitted in the window starting at `windowStart`.
    public internal(set) var current: Int
    /// Hits admitted in the window before it.
    public internal(set) var previous: Int

    /// Values out of range (times beyond ±2^61 ms, negative counts) are clamped into it.
    public init(windowStart: Int64, current: Int, previous: Int) {
        self.windowStart = LimitParameters.clampStateTime(windowStart)
        self.current = max(current, 0)
        self.previous = max(previous, 0)
    }
}

extension SlidingWindowState: AlgorithmState {
    static func take(from state: inout CounterState?) -> SlidingWindowState? {
        guard case .slidingWindow(let own)? = state else { return nil }
        state = nil
        return own
    }

    var wrapped: CounterState { .slidingWindow(self) }

    /// The state as seen at `now`: the window holding `now` (or the stored one when `now` is
    /// earlier, so time never runs backwards inside a state), the effective time, both counts
    /// and the weighted share of the previous window, `floor(prev * (W - elapsed) / W)`.
    struct View {
        var start: Int64
        var t: Int64
        var previous: Int
        var current: Int
        var weighted: Int
    }

    @inline(__always)
    private static func view(_ state: Self?, now: Int64, _ p: LimitParameters) -> View {
        var start = p.windowStart(of: now)
        var previous = 0
        var current = 0
        if let state {
            if state.windowStart >= start {
                start = state.windowStart
                previous = state.previous
                current = state.current
            } else if state.windowStart == start - p.period {
                previous = state.current
            }
        }
        let t = max(now, start)
        return View(
            start: start, t: t, previous: previous, current: current,
            weighted: weightedShare(previous, elapsed: t - start, p.period)
        )
    }

    /// `floor(prev * (W - elapsed) / W)`, in 128 bits because `prev * W` can pass 2^63.
    @inline(__always)
    private static func weightedShare(_ previous: Int, elapsed: Int64, _ period: Int64) -> Int {
        if previous == 0 { return 0 }
        let share = floorDiv(Int128(previous) * Int128(period - elapsed), Int128(period))
        return Int(clamping: share)
    }

    static func decide(_ state: inout Self?, hits n: Int, now: Int64, _ p: LimitParameters) -> Decision {
        let v = view(state, now: now, p)
        let limit = Int(p.limit)
        let estimate = v.weighted.saturatingAdd(v.current)
        let fits = n <= limit && estimate <= limit - n
        if fits && n > 0 {
            record(&state, hits: n, at: now, p)
        }
        let currentAfter = fits ? v.current.saturatingAdd(n) : v.current
        let estimateAfter = v.weighted.saturatingAdd(currentAfter)
        let resetAt = fullyAvailableAt(v, currentAfter: currentAfter, p)
        let resetMs = resetAt.map { $0 - now } ?? 0
        let retryAfterMs: Int64
        if fits {
            retryAfterMs = 0
        } else if n > limit {
            retryAfterMs = max(resetMs, p.period)
        } else {
            retryAfterMs = admissibleAt(v, ceiling: limit - n, p) - now
        }
        return Decision(
            allowed: fits, limit: limit, remaining: max(0, limit - estimateAfter),
            resetMs: resetMs, retryAfterMs: retryAfterMs
        )
    }

    /// The first instant at which `floor(estimate) == 0` with no further hits, or nil when it
    /// already is.
    ///
    /// A share `floor(c * (W - e) / W)` is 0 iff `c * (W - e) <= W - 1`, i.e. from
    /// `e = W - floor((W - 1) / c)` on.
    private static func fullyAvailableAt(_ v: View, currentAfter: Int, _ p: LimitParameters) -> Int64? {
        let w = p.period
        if currentAfter > 0 {
            // Never in this window (cur >= 1); next window it is the previous count.
            return v.start + w + zeroShareFrom(currentAfter, ceiling: 0, w)
        }
        if v.weighted > 0 {
            return v.start + zeroShareFrom(v.previous, ceiling: 0, w)
        }
        return nil
    }

    /// The least elapsed time `e` in `0...W` from which `floor(count * (W - e) / W) <= ceiling`:
    /// `count * (W - e) <= (ceiling + 1) * W - 1`.
    @inline(__always)
    private static func zeroShareFrom(_ count: Int, ceiling: Int, _ w: Int64) -> Int64 {
        if count == 0 { return 0 }
        let slack = floorDiv(Int128(ceiling + 1) * Int128(w) - 1, Int128(count))
        return slack >= Int128(w) ? 0 : w - Int64(slack)
    }

    /// The first instant after a denial at which `floor(estimate) <= ceiling` (= L - n), with no
    /// further hits: later in this window as the previous window's share decays, else in the
    /// next window as this window's count decays, else two windows on when both are gone.
    /// O(1): each candidate is the closed form of `zeroShareFrom`.
    private static func admissibleAt(_ v: View, ceiling: Int, _ p: LimitParameters) -> Int64 {
        let w = p.period
        let headroom = ceiling - v.current
        if headroom >= 0 {
            let e = zeroShareFrom(v.previous, ceiling: headroom, w)
            if e < w { return v.start + e }
        }
        let e = zeroShareFrom(v.current, ceiling: ceiling, w)
        if e < w { return v.start + w + e }
        return v.start + 2 * w
    }

    static func record(_ state: inout Self?, hits n: Int, at: Int64, _ p: LimitParameters) {
        let v = view(state, now: at, p)
        state = SlidingWindowState(
            windowStart: v.start, current: v.current.saturatingAdd(n), previous: v.previous
        )
    }

    func isFullyAvailable(now: Int64, _ p: LimitParameters) -> Bool {
        let v = Self.view(self, now: now, p)
        return v.current == 0 && v.weighted == 0
    }
}
