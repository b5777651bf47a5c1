/// `gcra` state: the theoretical arrival time (TAT) of the generic cell rate algorithm, with
/// redis-cell's admission rule (DESIGN.md §4).
///
/// With emission interval `T = W / L` and tolerance `tau = T * B`, a request of `n` at `t`
/// computes `new = max(TAT, t) + n * T` and is admitted iff `new - tau <= t`. `T` is rarely a
/// whole number of ms, so time is kept scaled by `L` (one unit = `1/L` ms): then `T = W` and
/// `tau = W * B` are integers and every comparison is exact. Durations reported in ms are
/// rounded up. `scale` records the `L` the TAT was written with, so a rule change that alters
/// the limit rescales the TAT instead of misreading it.
public struct GCRAState: Sendable, Hashable {
    /// TAT times `scale`, i.e. in units of `1/scale` ms since the epoch.
    public internal(set) var tatScaled: Int128
    /// The limit `L` the TAT is scaled by.
    public internal(set) var scale: Int64

    /// Forced replays can push the TAT far ahead; it is capped at 2^61 ms so that rescaling
    /// stays inside 128 bits.
    static let tatBoundMs: Int128 = 1 << 61

    /// Values out of range (a scale outside the valid limits, a TAT beyond ±2^61 ms) are
    /// clamped into it.
    public init(tatScaled: Int128, scale: Int64) {
        let scale = scale.clamped(to: 1...Int64(Rule.limitRange.upperBound))
        let bound = Self.tatBoundMs * Int128(scale)
        self.tatScaled = tatScaled.clamped(to: -bound...bound)
        self.scale = scale
    }
}

extension GCRAState: AlgorithmState {
    static func take(from state: inout CounterState?) -> GCRAState? {
        guard case .gcra(let own)? = state else { return nil }
        state = nil
        return own
    }

    var wrapped: CounterState { .gcra(self) }

    /// `max(TAT, t)` and `t`, both scaled by this rule's `L`. A TAT written under another
    /// limit is rescaled rounding up, so a rule change never grants capacity.
    @inline(__always)
    private static func view(_ state: Self?, now: Int64, _ p: LimitParameters) -> (t: Int128, tat: Int128) {
        let t = Int128(now) * Int128(p.limit)
        guard let state else { return (t, t) }
        var tat = state.tatScaled
        if state.scale != p.limit {
            let scale = Int128(state.scale)
            let whole = floorDiv(tat, scale)
            let part = tat - whole * scale
            tat = whole * Int128(p.limit) + ceilDiv(part * Int128(p.limit), scale)
        }
        return (t, max(tat, t))
    }

    static func decide(_ state: inout Self?, hits n: Int, now: Int64, _ p: LimitParameters) -> Decision {
        let (t, tat) = view(state, now: now, p)
        let interval = Int128(p.period)
        let tolerance = interval * Int128(p.burst)
        let rate = Int128(p.limit)
        let proposed = tat + Int128(n) * interval
        let fits = n <= Int(p.burst) && proposed - tolerance <= t
        if fits && n > 0 {
            record(&state, hits: n, at: now, p)
        }
        let tatAfter = fits ? proposed : tat
        let resetMs = Int64(saturating: ceilDiv(tatAfter - t, rate))
        let retryAfterMs: Int64
        if fits {
            retryAfterMs = 0
        } else if n > Int(p.burst) {
            retryAfterMs = max(resetMs, p.period)
        } else {
            retryAfterMs = Int64(saturating: ceilDiv(proposed - tolerance - t, rate))
        }
        let room = floorDiv(t + tolerance - tatAfter, interval)
        return Decision(
            allowed: fits, limit: Int(p.limit), remaining: room > 0 ? Int(clamping: room) : 0,
            resetMs: resetMs, retryAfterMs: retryAfterMs
        )
    }

    static func record(_ state: inout Self?, hits n: Int, at: Int64, _ p: LimitParameters) {
        let (_, tat) = view(state, now: at, p)
        let bound = tatBoundMs * Int128(p.limit)
        let next = min(tat + Int128(n) * Int128(p.period), bound)
        state = GCRAState(tatScaled: next, scale: p.limit)
    }

    func isFullyAvailable(now: Int64, _ p: LimitParameters) -> Bool {
        let (t, tat) = Self.view(self, now: now, p)
        return tat <= t
    }
}
