import EventStore
import Logging
import Rollout
import Synchronization

/// This node's side of deployments (DESIGN §7): applies a pushed or pulled
/// ``DeploymentState`` when its epoch is newer, persisting it first so a
/// restarted node serves the same versions before the coordinator is back.
public final class NodeDeployments: Sendable {
    static let stateName = "deployment"

    public let versions: RuleVersions
    private let log: EventLog
    private let logger: Logger
    /// The rule sets of the deployment served now; one writer at a time.
    private let state: Mutex<DeploymentState>
    private let applying = Mutex<Void>(())

    /// Starts from the persisted deployment when there is one, otherwise from
    /// `versions` as configured (the config's rules as stable, epoch 0).
    public init(versions: RuleVersions, log: EventLog, logger: Logger) throws {
        self.versions = versions
        self.log = log
        self.logger = logger
        var current = DeploymentState(deployment: versions.deployment, ruleSets: [versions.current.stable.ruleSet])
        if let bytes = try log.loadState(Self.stateName) {
            let restored: DeploymentState
            do {
                restored = try DeploymentState(bytes: bytes)
            } catch {
                throw NodeError(code: "deployment_state", message: "the deployment saved in \(log.path) cannot be read: \(error.message)")
            }
            for ruleSet in restored.ruleSets { versions.install(ruleSet) }
            if restored.deployment.epoch > versions.deployment.epoch {
                do {
                    try versions.apply(restored.deployment)
                } catch {
                    throw NodeError(code: "deployment_state", message: "the deployment saved in \(log.path) cannot be applied: \(error)")
                }
            }
            current = restored
        }
        state = Mutex(current)
    }

    /// The deployment served now, with its rule sets.
    public var current: DeploymentState { state.withLock { $0 } }

    /// Applies `offered` if its epoch is above the current one: installs its
    /// rule sets, persists it, then switches. Returns the deployment served
    /// afterwards (the current one when `offered` is not newer). Blocks on
    /// the store: call it off the event loops.
    @discardableResult
    public func apply(_ offered: DeploymentState, at nowMs: Int64) throws(NodeError) -> Deployment {
        try applying.withLock { _ throws(NodeError) -> Deployment in
            let current = versions.deployment
            guard offered.deployment.epoch > current.epoch else { return current }
            for ruleSet in offered.ruleSets { versions.install(ruleSet) }
            do throws(StoreError) {
                try log.saveState(Self.stateName, offered.bytes, at: nowMs)
            } catch {
                throw NodeError(code: "deployment_not_saved", message: "cannot save deployment epoch \(offered.deployment.epoch): \(error.message)")
            }
            do throws(RuleVersions.Failure) {
                try versions.apply(offered.deployment)
            } catch {
                throw NodeError(code: "deployment_refused", message: "\(error)")
            }
            state.withLock { $0 = offered }
            logger.info("deployment applied", metadata: [
                "epoch": "\(offered.deployment.epoch)", "stable": "\(offered.deployment.stable)",
                "canary": "\(offered.deployment.canary ?? "none")", "percent": "\(offered.deployment.percent)",
            ])
            return offered.deployment
        }
    }
}
