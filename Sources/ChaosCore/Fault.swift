/// One fault the chaos run injects, as the schedule plans it. Faults that
/// depend on the cluster's state (who owns a key now) name the key; the
/// driver asks a live node for its owner when the fault is due.
public enum Fault: Sendable, Hashable {
    /// `kill -9` the owner of key number `ownerOfKey`, then start it again on
    /// the same data dir after `downMs`.
    case kill(ownerOfKey: Int, downMs: Int64)
    /// `SIGSTOP` the owner of key number `ownerOfKey`, `SIGCONT` after `frozenMs`.
    case freeze(ownerOfKey: Int, frozenMs: Int64)
    /// Start a node that the topology lists but that is not running.
    case add(node: String)
    /// `SIGTERM` a running node (a graceful leave) and keep it stopped.
    case remove(node: String)

    public var kind: Kind {
        switch self {
        case .kill: .kill
        case .freeze: .freeze
        case .add: .add
        case .remove: .remove
        }
    }

    /// The four kinds; every run has at least one of each.
    public enum Kind: String, Sendable, Hashable, CaseIterable, Comparable {
        case kill = "kill -9"
        case freeze = "SIGSTOP"
        case add = "add node"
        case remove = "remove node"

        public static func < (lhs: Kind, rhs: Kind) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }
}

/// A fault and when it is due, in milliseconds since the load started.
public struct ScheduledFault: Sendable, Hashable {
    public var atMs: Int64
    public var fault: Fault

    public init(atMs: Int64, fault: Fault) {
        self.atMs = atMs
        self.fault = fault
    }
}
