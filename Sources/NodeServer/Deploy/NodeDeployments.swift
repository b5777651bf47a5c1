import EventStore
import Logging
import Rollout
import Synchronization

/// This node's side of deployments (DESIGN §7): applies a pushed or pulled
/// ``DeploymentState`` when its epoch is newer, persisting it first so a
/// restarted node serves the same versions before the coordinator is back.
///
/// The deployment is persisted in the node's event log. While that log is
/// unavailable (a storage fault) a newer deployment is refused rather than
/// served unsaved; once the log is back (``attach(_:)``) peers offer it again.
public final class NodeDeployments: Sendable {
    static let stateName = "deployment"

    public let versions: RuleVersions
    /// Where deployments are saved; nil while the store is unavailable.
    private let log: Mutex<EventLog?>
    private let logger: Logger
    /// The rule sets of the deployment served now; one writer at a time.
    private let state: Mutex<DeploymentState>
    private let applying = Mutex<Void>(())

    /// Starts from the deployment persisted in `log` when there is one,
    /// otherwise from `versions` as configured (the config's rules as stable,
    /// epoch 0). Without a log (it could not be opened) it starts from
    /// `versions` and restores the saved deployment at ``attach(_:)``.
    public init(versions: RuleVersions, log: EventLog?, logger: Logger) throws {
        self.versions = versions
        self.log = Mutex(log)
        self.logger = logger
        var current = DeploymentState(deployment: versions.deployment, ruleSets: [versions.current.stable.ruleSet])
        if let log, let restored = try Self.restore(from: log, into: versions) {
            current = restored
        }
        state = Mutex(current)
    }

    /// Installs the rule sets of the deployment saved in `log`, and serves it
    /// when its epoch is newer than the one served. Returns it, nil when none was saved.
    private static func restore(from log: EventLog, into versions: RuleVersions) throws(NodeError) -> DeploymentState? {
        let bytes: [UInt8]?
        do throws(StoreError) {
            bytes = try log.loadState(Self.stateName)
        } catch {
            throw NodeError(code: "deployment_state", message: "the deployment saved in \(log.path) cannot be read: \(error.message)")
        }
        guard let bytes else { return nil }
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
        return restored
    }

    /// The deployment served now, with its rule sets.
    public var current: DeploymentState { state.withLock { $0 } }

    /// Saves deployments in `log` from now on (the store is back after a
    /// fault). First serves the deployment saved there if it is newer than
    /// the one served; if the one served is newer (the file was replaced),
    /// saves that instead, so a restart serves it too.
    public func attach(_ log: EventLog) throws(NodeError) {
        try applying.withLock { _ throws(NodeError) in
            let served = state.withLock { $0 }
            let restored = try Self.restore(from: log, into: versions)
            if let restored, restored.deployment.epoch > served.deployment.epoch {
                state.withLock { $0 = restored }
            } else if served.deployment.epoch > (restored?.deployment.epoch ?? 0) {
                do throws(StoreError) {
                    try log.saveState(Self.stateName, served.bytes, at: SystemClock().nowMs())
                } catch {
                    throw NodeError(code: "deployment_not_saved", message:
                        "cannot save deployment epoch \(served.deployment.epoch) in \(log.path): \(error.message)")
                }
            }
            self.log.withLock { $0 = log }
        }
    }

    /// Stops saving in the current log (it is being retired after a fault).
    public func detach() {
        applying.withLock { _ in log.withLock { $0 = nil } }
    }

    /// Applies `offered` if its epoch is above the current one: installs its
    /// rule sets, persists it, then switches. Returns the deployment served
    /// afterwards (the current one when `offered` is not newer). Blocks on
    /// the store: call it off the event loops.
    ///
    /// - Throws: `deployment_not_saved` when the event log is unavailable or
    ///   the write fails; the deployment served does not change.
    @discardableResult
    public func apply(_ offered: DeploymentState, at nowMs: Int64) throws(NodeError) -> Deployment {
        try applying.withLock { _ throws(NodeError) -> Deployment in
            let current = versions.deployment
            guard offered.deployment.epoch > current.epoch else { return current }
            guard let log = log.withLock({ $0 }) else {
                throw NodeError(code: "deployment_not_saved", message:
                    "cannot save deployment epoch \(offered.deployment.epoch): the event log is unavailable")
            }
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
