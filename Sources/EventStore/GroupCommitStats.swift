/// Counters of a ``GroupCommitter``, for metrics and tests.
public struct GroupCommitStats: Sendable, Hashable {
    /// Transactions committed (flush markers alone open no transaction).
    public var batchesCommitted: Int = 0
    /// Events committed over all batches.
    public var eventsCommitted: Int = 0
    /// Calls to `submit` accepted, including empty ones used as flush markers.
    public var submissions: Int = 0
    /// The most events committed in one transaction.
    public var largestBatch: Int = 0
    /// Transactions that failed; each failed every submission in it.
    public var batchesFailed: Int = 0

    public init() {}
}
