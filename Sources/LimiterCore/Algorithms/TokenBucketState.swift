/// `token_bucket` state: a bucket of capacity `B` refilled at `L / W` tokens per ms, full when
/// new (DESIGN.md §4).
///
/// Tokens are kept exactly as integers scaled by `W` (so the capacity is `B * W` and the
/// refill is `L` per ms), never as a `Double`: two nodes replaying the same log reach the
/// same bucket bit for bit. `scale` records the `W` the tokens were written with, so a rule
/// change that alters the period rescales instead of misreading them.
public struct TokenBucketState: Sendable, Hashable {
    /// Tokens times `scale`. Negative only after forced replays overdraw the bucket.
    public internal(set) var tokensScaled: Int128
    /// The period `W` (ms) the tokens are scaled by.
    public internal(set) var scale: Int64
    /// When `tokensScaled` was last brought up to date, in ms since the epoch.
    public internal(set) var updatedAt: Int64

    /// A forced replay can overdraw the bucket; the debt is capped here so that rescaling
    /// (`tokens * W`) stays inside 128 bits.
    static let tokenBound: Int128 = 1 << 84

    /// Values out of range (tokens beyond ±2^84, a scale outside the valid periods, times
    /// beyond ±2^61 ms) are clamped into it.
    public init(tokensScaled: Int128, scale: Int64, updatedAt: Int64) {
        self.tokensScaled = tokensScaled.clamped(to: -Self.tokenBound...Self.tokenBound)
        self.scale = scale.clamped(to: 1000...(Int64(Rule.periodSecondsRange.upperBound) * 1000))
        self.updatedAt = LimitParameters.clampStateTime(updatedAt)
    }
}

extension TokenBucketState: AlgorithmState {
    static func take(from state: inout CounterState?) -> TokenBucketState? {
        guard case .tokenBucket(let own)? = state else { return nil }
        state = nil
        return own
    }

    var wrapped: CounterState { .tokenBucket(self) }

    /// Tokens (scaled by `W`) at the effective time: the stored tokens rescaled to this rule's
    /// period (rounding down, so a rule change never grants tokens), refilled, capped at
    /// `B * W`. A `now` before `updatedAt` (clock skew) is read as `updatedAt`.
    @inline(__always)
    private static func view(_ state: Self?, now: Int64, _ p: LimitParameters) -> (t: Int64, tokens: Int128) {
        let capacity = Int128(p.burst) * Int128(p.period)
        guard let state else { return (now, capacity) }
        let t = max(now, state.updatedAt)
        var tokens = state.tokensScaled
        if state.scale != p.period {
            tokens = floorDiv(tokens * Int128(p.period), Int128(state.scale))
        }
        let missing = capacity - tokens
        if missing <= 0 { return (t, capacity) }
        let elapsed = Int128(t - state.updatedAt)
        let refill = elapsed * Int128(p.limit)
        return (t, refill >= missing ? capacity : tokens + refill)
    }

    static func decide(_ state: inout Self?, hits n: Int, now: Int64, _ p: LimitParameters) -> Decision {
        let (t, tokens) = view(state, now: now, p)
        let period = Int128(p.period)
        let rate = Int128(p.limit)
        let capacity = Int128(p.burst) * period
        let needed = Int128(n) * period
        let fits = n <= Int(p.burst) && tokens >= needed
        if fits && n > 0 {
            record(&state, hits: n, at: now, p)
        }
        let tokensAfter = fits ? tokens - needed : tokens
        let lag = Int128(t - now)  // > 0 only when `now` was before `updatedAt`
        let resetMs = tokensAfter >= capacity
            ? 0 : Int64(saturating: lag + ceilDiv(capacity - tokensAfter, rate))
        let retryAfterMs: Int64
        if fits {
            retryAfterMs = 0
        } else if n > Int(p.burst) {
            retryAfterMs = max(resetMs, p.period)
        } else {
            retryAfterMs = Int64(saturating: lag + ceilDiv(needed - tokens, rate))
        }
        return Decision(
            allowed: fits, limit: Int(p.limit),
            remaining: tokensAfter > 0 ? Int(clamping: tokensAfter / period) : 0,
            resetMs: resetMs, retryAfterMs: retryAfterMs
        )
    }

    static func record(_ state: inout Self?, hits n: Int, at: Int64, _ p: LimitParameters) {
        let (t, tokens) = view(state, now: at, p)
        let spent = max(tokens - Int128(n) * Int128(p.period), -tokenBound)
        state = TokenBucketState(tokensScaled: spent, scale: p.period, updatedAt: t)
    }

    func isFullyAvailable(now: Int64, _ p: LimitParameters) -> Bool {
        Self.view(self, now: now, p).tokens >= Int128(p.burst) * Int128(p.period)
    }
}
