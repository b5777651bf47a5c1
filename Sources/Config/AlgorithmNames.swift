import LimiterCore

/// What the loader needs to know about LimiterCore's algorithms by their
/// wrangler.toml names, without depending on the enum's case names.
enum AlgorithmNames {
    /// The names accepted in `algorithm = "..."`, in DESIGN.md §3 order.
    static let accepted = ["fixed_window", "sliding_window", "sliding_log", "token_bucket", "gcra"]

    /// Algorithms whose capacity is a separate `burst`: a token bucket's size,
    /// and GCRA's tolerance as in redis-cell's `CL.THROTTLE key max_burst ...`.
    static let withBurst: Set<String> = ["token_bucket", "gcra"]

    /// Cloudflare's own approximation; the algorithm of rules that name none
    /// and of the `default` rule.
    static var slidingWindow: Algorithm {
        guard let algorithm = Algorithm(rawValue: "sliding_window") else {
            preconditionFailure("LimiterCore.Algorithm lost its sliding_window case")
        }
        return algorithm
    }

    /// The algorithm named `name`, or nil.
    static func algorithm(named name: String) -> Algorithm? {
        Algorithm(rawValue: name)
    }

    /// `fixed_window, sliding_window, ...` for "expected one of" messages.
    static var expectedList: String {
        accepted.joined(separator: ", ")
    }
}
