/// What the canary and the stable version did during the current rollout
/// step: the increase of their ``VersionMetrics`` since the step's split was
/// applied (its `startedAt`), extension included. The shell builds it from
/// its scrapes (e.g. with ``VersionMetrics/increase(since:)`` per node,
/// summed) and passes it with every tick; it starts a new window whenever a
/// tick answers ``Rollout/TickResult/advanced(verdict:split:holdUntil:)``.
public struct StepWindow: Sendable, Hashable, Codable {
    public var canary: VersionMetrics
    public var stable: VersionMetrics

    public init(canary: VersionMetrics = .zero, stable: VersionMetrics = .zero) {
        self.canary = canary
        self.stable = stable
    }

    /// Nothing observed yet.
    public static let empty = StepWindow()
}
