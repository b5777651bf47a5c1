/// A named limit on a namespace: at most `limit` hits per `periodSeconds`, enforced by
/// `algorithm` (Cloudflare's `[[ratelimits]]` binding form plus our `algorithm` and `burst`,
/// DESIGN.md §3).
///
/// A rule is plain data; ``decide(_:hits:now:)`` and ``record(_:hits:at:)`` turn it into
/// behaviour. Values outside ``limitRange``, ``periodSecondsRange`` are rejected by
/// ``validated(name:namespaceID:limit:periodSeconds:algorithm:burst:)`` and by the Config
/// target; if a hand-built rule carries them anyway, the algorithms clamp them into range so
/// that no input can make the arithmetic trap.
public struct Rule: Sendable, Hashable {
    /// The name clients send as `rule`.
    public var name: String
    /// The Cloudflare `namespace_id` the rule belongs to.
    public var namespaceID: String
    /// `L`: hits admitted per period (the long-run rate for `token_bucket` and `gcra`).
    public var limit: Int
    /// `W` in seconds.
    public var periodSeconds: Int
    public var algorithm: Algorithm
    /// `B`: the most hits `token_bucket` and `gcra` admit at once; the window algorithms
    /// ignore it.
    public var burst: Int

    /// Largest accepted `limit` and `burst`: the HTTP API caps `hits` at 2^31 too (DESIGN.md §5).
    public static let limitRange: ClosedRange<Int> = 1...Int(Int32.max)
    /// Accepted periods: one second to one hundred 365-day years.
    public static let periodSecondsRange: ClosedRange<Int> = 1...3_153_600_000

    /// - Parameter burst: defaults to `limit`, Cloudflare's and redis-cell's usual choice.
    public init(
        name: String,
        namespaceID: String = "",
        limit: Int,
        periodSeconds: Int,
        algorithm: Algorithm,
        burst: Int? = nil
    ) {
        self.name = name
        self.namespaceID = namespaceID
        self.limit = limit
        self.periodSeconds = periodSeconds
        self.algorithm = algorithm
        self.burst = burst ?? limit
    }

    /// `W` in milliseconds, the unit every algorithm works in (clamped like the limit).
    public var periodMs: Int64 {
        Int64(periodSeconds.clamped(to: Self.periodSecondsRange)) * 1000
    }

    /// The most hits one request can ever be admitted with: `limit` for the window
    /// algorithms, `burst` for `token_bucket` and `gcra`.
    public var capacity: Int {
        switch algorithm {
        case .fixedWindow, .slidingWindow, .slidingLog:
            limit.clamped(to: Self.limitRange)
        case .tokenBucket, .gcra:
            burst.clamped(to: Self.limitRange)
        }
    }
}

extension Comparable {
    @inline(__always)
    func clamped(to range: ClosedRange<Self>) -> Self {
        min(max(self, range.lowerBound), range.upperBound)
    }
}
