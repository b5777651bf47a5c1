/// The state one counter keeps, whichever algorithm its rule uses.
///
/// A counter that is fully available needs no state at all (`nil`), so the table holds only
/// keys that are currently limited. A state of a different algorithm than the rule's (the
/// rule's algorithm changed between versions) is read as a fresh counter and replaced by
/// the first hit recorded under the new algorithm: counts of one algorithm mean nothing to
/// another.
public enum CounterState: Sendable, Hashable {
    case fixedWindow(FixedWindowState)
    case slidingWindow(SlidingWindowState)
    case slidingLog(SlidingLogState)
    case tokenBucket(TokenBucketState)
    case gcra(GCRAState)

    /// The algorithm that wrote this state.
    public var algorithm: Algorithm {
        switch self {
        case .fixedWindow: .fixedWindow
        case .slidingWindow: .slidingWindow
        case .slidingLog: .slidingLog
        case .tokenBucket: .tokenBucket
        case .gcra: .gcra
        }
    }
}
