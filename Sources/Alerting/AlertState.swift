/// Where one rule is (DESIGN.md §8), in Prometheus' terms plus `resolved`:
///
///     inactive --crossed--> pending --still crossed after `for`--> firing
///        ^                     |                                     |
///        +----- not crossed ---+                     not crossed: resolved
///
/// `resolved` behaves like `inactive` and remembers when the alert ended.
/// Only `pending -> firing` and `firing -> resolved` notify, so each alert
/// is sent once when it fires and once when it resolves.
public enum AlertState: Sendable, Hashable, Codable, CustomStringConvertible {
    case inactive
    /// Crossed since `since`, not yet for `pendingFor`; `value` is the latest.
    case pending(since: Int64, value: Double)
    /// Firing since `since`; `value` is the latest.
    case firing(since: Int64, value: Double)
    /// Stopped firing at `at`.
    case resolved(at: Int64)

    public var isFiring: Bool {
        if case .firing = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .inactive: "inactive"
        case .pending(let since, let value): "pending since \(since) (\(value))"
        case .firing(let since, let value): "firing since \(since) (\(value))"
        case .resolved(let at): "resolved at \(at)"
        }
    }
}
