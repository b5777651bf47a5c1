/// The deployment state machine of one environment (DESIGN.md §7): direct
/// splits, gradual rollouts judged step by step, promotion, abort and
/// rollback, as a pure value.
///
/// The coordinator owns one `Rollout` per environment, feeds it events with
/// the time (`on...(now:)`, wall-clock ms since 1970) and performs what the
/// event's result says: push a ``Deployment`` to every node, arm a timer for
/// the next tick, send the rollback alert, journal the transition. It reads
/// no clock and does no IO, so tests drive whole rollouts with a fake clock.
///
/// Time is wall-clock rather than monotonic on purpose: the value is
/// journalled (`Codable`) and resumed after a coordinator restart
/// (``onResume(now:)``), which a monotonic clock does not survive, and the
/// nodes keep serving the split while the coordinator is down, so that time
/// counts toward the step.
///
/// Every change of the split raises the deployment's epoch. Commands the
/// current state does not allow throw ``RolloutError`` with the state in the
/// message; a state that breaks the invariants stops the process.
public struct Rollout: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What the nodes should serve now.
    public private(set) var deployment: Deployment
    public private(set) var state: State

    /// A rollout at rest with `stable` serving every key.
    public init(stable: String, epoch: UInt64 = 0) {
        self.deployment = Deployment(epoch: epoch, stable: stable)
        self.state = .idle
    }

    /// Resumes a journalled machine; fails like decoding does.
    init(deployment: Deployment, state: State) throws(RolloutError) {
        self.deployment = deployment
        self.state = state
        if let problem = self.invariantProblem {
            throw RolloutError(code: .illegalTransition, message: "inconsistent rollout: \(problem) (\(self))")
        }
    }

    /// The canary version in service, if any.
    public var canary: String? { self.deployment.canary }

    /// True while a gradual rollout is being stepped.
    public var isStepping: Bool {
        if case .stepping = self.state { return true }
        return false
    }

    public var description: String { "Rollout(\(self.state); \(self.deployment))" }

    // MARK: Invariants

    /// Why state and deployment disagree, or nil when they fit together.
    var invariantProblem: String? {
        switch self.state {
        case .idle, .completed, .rolledBack, .aborted:
            if self.deployment.canary != nil { return "a rollout at rest must have no canary" }
        case .split(let version, _):
            if self.deployment.canary != version { return "the split's canary must be \(version)" }
            if !(1...99).contains(self.deployment.percent) { return "a direct split must be in 1...99%" }
        case .stepping(let step):
            if !step.plan.percents.indices.contains(step.index) {
                return "step index \(step.index) outside the plan's \(step.plan.stepCount) steps"
            }
            if self.deployment.canary != step.version { return "the stepped canary must be \(step.version)" }
            if self.deployment.percent != step.percent { return "step \(step.index + 1) must be at \(step.percent)%" }
        }
        return nil
    }

    /// Called after every transition: a broken invariant here is a bug in
    /// this file, never an input to tolerate.
    func checkInvariants(after event: String) {
        if let problem = self.invariantProblem {
            preconditionFailure("Rollout after \(event): \(problem): \(self)")
        }
    }

    mutating func apply(_ deployment: Deployment, _ state: State, after event: String) {
        self.deployment = deployment
        self.state = state
        self.checkInvariants(after: event)
    }
}
