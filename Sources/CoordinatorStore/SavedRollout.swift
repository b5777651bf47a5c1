import Foundation
import Rollout

/// The rollout state the coordinator resumes from after a restart
/// (DESIGN.md §7): the machine itself and the per-step metric baselines its
/// shell keeps, as written with the journal entry that last changed them.
public struct SavedRollout: Sendable, Hashable {
    /// The deployment state machine, as journalled.
    public let rollout: Rollout
    /// The shell's opaque per-step baselines (e.g. each node's counters when
    /// the step started), or nil when it had none.
    public let baselines: Data?
    /// The journal entry written in the same transaction.
    public let seq: Int64
    /// That entry's time, in ms since 1970.
    public let savedAtMs: Int64

    public init(rollout: Rollout, baselines: Data?, seq: Int64, savedAtMs: Int64) {
        self.rollout = rollout
        self.baselines = baselines
        self.seq = seq
        self.savedAtMs = savedAtMs
    }
}
