extension Rule {
    /// Checks `hits` for one counter at `now` and, if they are admitted and `hits > 0`, records
    /// them in `state` (DESIGN.md §4).
    ///
    /// - A request that can never fit (`hits > limit`, or `> burst` for `token_bucket` and
    ///   `gcra`) is denied and leaves `state` unchanged.
    /// - `hits == 0` only reads: it reports the current `remaining` and never records.
    ///   Negative `hits` are read as 0 (the HTTP and trace layers reject them first).
    /// - A denial never changes `state`; an admission changes it exactly as
    ///   ``record(_:hits:at:)`` with the same arguments would.
    /// - `now` is ms since the Unix epoch; an instant earlier than the state's own latest
    ///   time (clock skew between nodes) is read as that time.
    ///
    /// Pure and allocation-free except for `sliding_log`, whose log grows in place.
    public func decide(_ state: inout CounterState?, hits: Int, now: Int64) -> Decision {
        let p = LimitParameters(self)
        let n = max(hits, 0)
        let t = LimitParameters.clampTime(now)
        switch algorithm {
        case .fixedWindow: return FixedWindowState.decide(in: &state, hits: n, now: t, p)
        case .slidingWindow: return SlidingWindowState.decide(in: &state, hits: n, now: t, p)
        case .slidingLog: return SlidingLogState.decide(in: &state, hits: n, now: t, p)
        case .tokenBucket: return TokenBucketState.decide(in: &state, hits: n, now: t, p)
        case .gcra: return GCRAState.decide(in: &state, hits: n, now: t, p)
        }
    }

    /// Applies hits that were already admitted, without checking: the replay of a logged
    /// event, or a replica applying its owner's decision.
    ///
    /// Replaying the admitted events of a history through `record` yields a state equal (`==`)
    /// to the one the live ``decide(_:hits:now:)`` calls produced, because `decide` records
    /// through this very function. A forced apply may overdraw the counter; later checks then
    /// deny until it recovers. `hits <= 0` changes nothing; a state of another algorithm is
    /// replaced by a fresh one.
    public func record(_ state: inout CounterState?, hits: Int, at: Int64) {
        guard hits > 0 else { return }
        let p = LimitParameters(self)
        let n = min(hits, Int(Int32.max))
        let t = LimitParameters.clampTime(at)
        switch algorithm {
        case .fixedWindow: FixedWindowState.record(in: &state, hits: n, at: t, p)
        case .slidingWindow: SlidingWindowState.record(in: &state, hits: n, at: t, p)
        case .slidingLog: SlidingLogState.record(in: &state, hits: n, at: t, p)
        case .tokenBucket: TokenBucketState.record(in: &state, hits: n, at: t, p)
        case .gcra: GCRAState.record(in: &state, hits: n, at: t, p)
        }
    }

    /// True when `state` no longer limits anything at `now`: absent, of another algorithm, or
    /// back to the full capacity. Such a state can be dropped without changing any decision
    /// at `now` or later.
    public func isFullyAvailable(_ state: CounterState?, now: Int64) -> Bool {
        guard let state, state.algorithm == algorithm else { return true }
        let p = LimitParameters(self)
        let t = LimitParameters.clampTime(now)
        switch state {
        case .fixedWindow(let s): return s.isFullyAvailable(now: t, p)
        case .slidingWindow(let s): return s.isFullyAvailable(now: t, p)
        case .slidingLog(let s): return s.isFullyAvailable(now: t, p)
        case .tokenBucket(let s): return s.isFullyAvailable(now: t, p)
        case .gcra(let s): return s.isFullyAvailable(now: t, p)
        }
    }
}
