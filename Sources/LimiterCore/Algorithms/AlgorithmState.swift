/// What every per-algorithm state provides to ``Rule`` and ``LimiterTable``.
///
/// Each algorithm is written twice over one view of its state: `decide` checks and, when it
/// admits hits, calls `record`, which is also what log replay calls. Sharing `record` is what
/// makes replayed state equal to live state.
protocol AlgorithmState: Sendable, Hashable {
    /// Moves this algorithm's state out of `state` (leaving nil) so it can be mutated without a
    /// copy-on-write copy; nil, and `state` untouched, when `state` holds another algorithm.
    static func take(from state: inout CounterState?) -> Self?

    var wrapped: CounterState { get }

    /// Checks `hits` (>= 0) at `now` (clamped) and records them when admitted and positive.
    static func decide(_ state: inout Self?, hits: Int, now: Int64, _ p: LimitParameters) -> Decision

    /// Applies `hits` (> 0) at `at` (clamped) without checking.
    static func record(_ state: inout Self?, hits: Int, at: Int64, _ p: LimitParameters)

    /// True when a read at `now` would report the whole capacity: the state can be dropped.
    func isFullyAvailable(now: Int64, _ p: LimitParameters) -> Bool
}

extension AlgorithmState {
    @inline(__always)
    static func decide(
        in state: inout CounterState?, hits: Int, now: Int64, _ p: LimitParameters
    ) -> Decision {
        var own = take(from: &state)
        let matched = own != nil
        let decision = decide(&own, hits: hits, now: now, p)
        if matched || (decision.allowed && hits > 0), let own {
            state = own.wrapped
        }
        return decision
    }

    @inline(__always)
    static func record(in state: inout CounterState?, hits: Int, at: Int64, _ p: LimitParameters) {
        var own = take(from: &state)
        record(&own, hits: hits, at: at, p)
        state = own?.wrapped
    }
}
