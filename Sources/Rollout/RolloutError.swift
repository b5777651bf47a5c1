/// An error from the rollout core: an operator command the current state
/// does not allow, or a plan or split that cannot work. `code` is stable
/// (the coordinator maps it to a problem+json type, tests match on it);
/// `message` is for humans and names the state or the offending field.
public struct RolloutError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable error codes, in the style of swift-service-lifecycle's `ServiceGroupError.Code`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String

        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// The command is not allowed in the current state (e.g. `promote`
        /// with no canary, `start` during a gradual rollout); the message
        /// carries the state.
        public static let illegalTransition = Code("rollout.illegal_transition")
        /// A split percentage outside what the command accepts.
        public static let invalidPercent = Code("rollout.invalid_percent")
        /// A plan that cannot run: no steps, steps not rising to 100, a
        /// duration too short to hold every step, a threshold out of range.
        public static let invalidPlan = Code("rollout.invalid_plan")
        /// A deployment that breaks its invariants (``Deployment/checked(epoch:stable:canary:percent:)``).
        public static let invalidDeployment = Code("rollout.invalid_deployment")
        /// An empty version name.
        public static let invalidVersion = Code("rollout.invalid_version")

        public var description: String { self.rawValue }
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }

    /// Says first, in words, why `command` does not apply, then the state
    /// and deployment it met (for the journal and bug reports).
    static func illegal(_ command: String, in state: Rollout.State, deployment: Deployment) -> RolloutError {
        let reason: String
        if case .stepping(let step) = state {
            reason = "a gradual rollout of \(step.version) is in progress at \(step.percent)%; promote or abort it first"
        } else if deployment.canary == nil {
            reason = "no canary is deployed, \(deployment.stable) serves every key"
        } else {
            reason = "it does not apply now"
        }
        return RolloutError(
            code: .illegalTransition,
            message: "\(command) is not allowed: \(reason) (while \(state); \(deployment))"
        )
    }
}
