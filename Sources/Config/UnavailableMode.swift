/// `on_unavailable` in `cluster/<env>.toml` (DESIGN.md §6): what a node
/// answers for a check it cannot decide from recorded state, because no copy
/// of the key's state is reachable or its store cannot record the hit.
///
/// The same choice as Envoy's `failure_mode_deny`: fail closed or fail open.
public enum UnavailableMode: String, Sendable, Hashable, CaseIterable {
    /// Fail closed (the default): deny, so nothing is admitted that was not recorded.
    case deny
    /// Fail open: admit without recording, so an outage of the store never
    /// blocks clients (at the price of not enforcing the limit meanwhile).
    case allow
}
