import Config
import LimiterCore

/// What a node answers for a check it cannot decide from recorded state
/// (`on_unavailable`, DESIGN.md §6): its store cannot record the hit, or no
/// copy of the key's state is reachable. Fail closed (`deny`) or fail open
/// (`allow`), as Envoy's `failure_mode_deny` chooses; either way nothing is
/// recorded, so a 503 is left for requests that cannot be decided at all.
///
/// Pure: the answer depends on the mode, the rule and the hits alone, never
/// on counters, so any path that lost its state can use it.
public struct UnavailablePolicy: Sendable, Hashable {
    /// The least `retry_after_ms` of a denial: `Retry-After` is in whole
    /// seconds and at least 1 (DESIGN.md §5).
    public static let minimumRetryAfterMs: Int64 = 1000

    public var mode: UnavailableMode
    /// How long a denied client should wait before asking again: about how
    /// long the node takes to notice that the fault has cleared.
    public var retryAfterMs: Int64

    /// `retryAfterMs` below ``minimumRetryAfterMs`` is raised to it.
    public init(mode: UnavailableMode = .deny, retryAfterMs: Int64 = UnavailablePolicy.minimumRetryAfterMs) {
        self.mode = mode
        self.retryAfterMs = max(retryAfterMs, Self.minimumRetryAfterMs)
    }

    /// The decision for `hits` under `rule` without its counter.
    ///
    /// - `deny`: not allowed, nothing remaining, retry after ``retryAfterMs``.
    /// - `allow`: allowed; `remaining` is 0 because the node cannot know what
    ///   is left, and `reset_ms` is ``retryAfterMs``, when it expects to know.
    /// - In both modes a request that can never fit (`hits` above the rule's
    ///   capacity) is denied as a fresh counter would deny it (DESIGN.md §4):
    ///   that needs no state, and failing open must not admit what no state could.
    public func decide(rule: Rule, hits: Int) -> Decision {
        if hits > rule.capacity {
            let period = rule.periodMs
            return Decision(allowed: false, limit: rule.limit, remaining: 0, resetMs: period, retryAfterMs: period)
        }
        switch mode {
        case .deny:
            return Decision(allowed: false, limit: rule.limit, remaining: 0, resetMs: retryAfterMs, retryAfterMs: retryAfterMs)
        case .allow:
            return Decision(allowed: true, limit: rule.limit, remaining: 0, resetMs: retryAfterMs, retryAfterMs: 0)
        }
    }

    /// ``decide(rule:hits:)`` for one resolved check, as `node` reports it.
    public func answer(_ check: LimiterEngine.ResolvedCheck, node: String) -> CheckResult {
        CheckResult(decision: decide(rule: check.rule, hits: check.request.hits), rule: check.rule.name,
                    version: check.version, node: node)
    }
}
