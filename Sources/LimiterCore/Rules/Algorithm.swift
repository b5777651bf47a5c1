/// The five limiter algorithms a rule can name in `wrangler.toml` (DESIGN.md §4).
///
/// Raw values are the configuration spellings, so a rule set round-trips through
/// TOML, JSON and the deployment journal unchanged.
public enum Algorithm: String, Sendable, Codable, CaseIterable {
    /// Counters reset at multiples of the period since the Unix epoch.
    case fixedWindow = "fixed_window"
    /// Cloudflare's weighted two-window estimate, as the Python `limits` library computes it.
    case slidingWindow = "sliding_window"
    /// An exact log of admitted hits over the trailing period.
    case slidingLog = "sliding_log"
    /// A bucket of `burst` tokens refilled at `limit / period`.
    case tokenBucket = "token_bucket"
    /// The generic cell rate algorithm with redis-cell's admission rule.
    case gcra
}
