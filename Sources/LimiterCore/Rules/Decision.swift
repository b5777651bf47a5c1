/// The answer to one check, in the shape every interface reports it (DESIGN.md §4, §5).
///
/// All durations are whole milliseconds measured from the `now` of the check, rounded up so a
/// client that waits exactly that long is never early.
public struct Decision: Sendable, Hashable {
    /// Whether the hits were admitted (and, when `hits > 0`, recorded).
    public var allowed: Bool
    /// The rule's limit `L`, as advertised in `RateLimit-Policy` (`q=`).
    public var limit: Int
    /// Hits that could still be admitted right now, after this request; never negative.
    ///
    /// For `token_bucket` and `gcra` this counts against `burst`, so it can exceed `limit`
    /// when the burst is larger than the limit.
    public var remaining: Int
    /// Milliseconds until the limit is fully available again if nothing else is admitted;
    /// 0 when it already is.
    public var resetMs: Int64
    /// 0 when allowed. When denied, the least wait after which the same request would be
    /// admitted if nothing else is; for a request that can never fit (hits above the limit,
    /// or above the burst for `token_bucket`/`gcra`) it is `max(resetMs, period)`, a
    /// back-off hint after which the request will still be denied.
    public var retryAfterMs: Int64

    public init(allowed: Bool, limit: Int, remaining: Int, resetMs: Int64, retryAfterMs: Int64) {
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.resetMs = resetMs
        self.retryAfterMs = retryAfterMs
    }
}
