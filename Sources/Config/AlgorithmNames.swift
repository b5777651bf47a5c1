import LimiterCore

/// What the loader needs to know about LimiterCore's algorithms by their
/// wrangler.toml names.
enum AlgorithmNames {
    /// The names accepted in `algorithm = "..."`, in DESIGN.md §3 order.
    static let accepted = Algorithm.allCases.map(\.rawValue)

    /// Algorithms whose capacity is a separate `burst`: a token bucket's size,
    /// and GCRA's tolerance as in redis-cell's `CL.THROTTLE key max_burst ...`.
    static let withBurst: Set<String> = [Algorithm.tokenBucket.rawValue, Algorithm.gcra.rawValue]

    /// Cloudflare's own approximation; the algorithm of rules that name none
    /// and of the `default` rule.
    static let slidingWindow = Algorithm.slidingWindow

    /// The algorithm named `name`, or nil.
    static func algorithm(named name: String) -> Algorithm? {
        Algorithm(rawValue: name)
    }

    /// `fixed_window, sliding_window, ...` for "expected one of" messages.
    static var expectedList: String {
        accepted.joined(separator: ", ")
    }
}
