import LimiterCore
import Rollout
import Placement
import Synchronization

/// One rule-set version as a node runs it: the rules, each rule's answer
/// template and its metric handles, all made once when the version is
/// installed so the check path only looks them up.
public final class InstalledVersion: Sendable {
    public let ruleSet: RuleSet
    let templates: [String: CheckResponseTemplate]
    let metrics: [String: EngineMetrics.RuleHandles]

    init(ruleSet: RuleSet, metrics: EngineMetrics) {
        self.ruleSet = ruleSet
        templates = ruleSet.rules.mapValues { CheckResponseTemplate(rule: $0, version: ruleSet.version) }
        self.metrics = metrics.handles(for: ruleSet)
    }

    public var id: String { ruleSet.version }

    /// Stops exporting this version's series; called once it is uninstalled.
    func retireMetrics() {
        for handles in metrics.values { handles.destroy() }
    }
}

/// The rule-set versions installed on a node and the deployment that picks
/// one per key (DESIGN §7). Readers take an immutable ``Current`` in one
/// lock; installing a version or applying a deployment swaps it.
public final class RuleVersions: Sendable {
    /// What the check path reads: the stable and canary versions and the split.
    public final class Current: Sendable {
        public let deployment: Deployment
        public let stable: InstalledVersion
        public let canary: InstalledVersion?
        /// Every rule name either version knows, for parsing requests; where
        /// both have the rule, the stable one.
        let rules: [String: Rule]
        /// The rules idle counters are pruned by: of a name both versions
        /// have, the one with the longer period, so no counter is dropped
        /// while either version still counts it.
        let pruneRules: [String: Rule]

        init(deployment: Deployment, stable: InstalledVersion, canary: InstalledVersion?) {
            self.deployment = deployment
            self.stable = stable
            self.canary = canary
            var rules = canary?.ruleSet.rules ?? [:]
            var pruneRules = rules
            for (name, rule) in stable.ruleSet.rules {
                rules[name] = rule
                if let other = pruneRules[name], other.periodSeconds > rule.periodSeconds { continue }
                pruneRules[name] = rule
            }
            self.rules = rules
            self.pruneRules = pruneRules
        }

        /// The version that decides `key` under the rule named `rule`, and
        /// that version's rule; nil when the chosen version has no such rule.
        @inline(__always)
        func resolve(rule name: String, key: String) -> (version: InstalledVersion, rule: Rule)? {
            guard let canary, deployment.percent > 0 else {
                return stable.ruleSet.rules[name].map { (stable, $0) }
            }
            guard let namespace = rules[name]?.namespaceID else { return nil }
            let chosen = deployment.version(namespace: namespace, key: key) == canary.id ? canary : stable
            return chosen.ruleSet.rules[name].map { (chosen, $0) }
        }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case notInstalled(String)
        case staleEpoch(offered: UInt64, current: UInt64)

        public var description: String {
            switch self {
            case .notInstalled(let version): "version \(version) is not installed on this node"
            case .staleEpoch(let offered, let current): "deployment epoch \(offered) is not newer than the current \(current)"
            }
        }
    }

    private struct State {
        var installed: [String: InstalledVersion]
        /// Installed ids, oldest first: the order versions are uninstalled in.
        var order: [String]
        var current: Current
    }

    /// The most versions a node keeps installed. Beyond that the oldest one
    /// the deployment does not serve is uninstalled, its series no longer
    /// exported: a node applying deployments for months would otherwise keep
    /// every rule set and export every version's series. A deployment push
    /// carries its versions' rule sets, so a rollback to an uninstalled one
    /// installs it again.
    public static let maxInstalled = 8

    let metrics: EngineMetrics
    private let state: Mutex<State>

    /// Starts serving `stable` at 100 %.
    public init(stable: RuleSet, metrics: EngineMetrics) {
        self.metrics = metrics
        let version = InstalledVersion(ruleSet: stable, metrics: metrics)
        state = Mutex(State(installed: [version.id: version], order: [version.id],
                            current: Current(deployment: Deployment(epoch: 0, stable: version.id), stable: version, canary: nil)))
    }

    @inline(__always)
    public var current: Current { state.withLock { $0.current } }

    public var deployment: Deployment { current.deployment }

    public func installed(_ version: String) -> InstalledVersion? {
        state.withLock { $0.installed[version] }
    }

    public var installedVersions: [String] { state.withLock { Array($0.installed.keys).sorted() } }

    /// Makes `ruleSet` available to deployments; installing a version twice
    /// keeps the first (a version id is its content).
    @discardableResult
    public func install(_ ruleSet: RuleSet) -> InstalledVersion {
        if let existing = installed(ruleSet.version) { return existing }
        let version = InstalledVersion(ruleSet: ruleSet, metrics: metrics)
        return state.withLock { state in
            if let existing = state.installed[version.id] { return existing }
            state.installed[version.id] = version
            state.order.append(version.id)
            return version
        }
    }

    /// Uninstalls the oldest versions beyond ``maxInstalled`` that the
    /// deployment does not serve. Only after a switch: a push installs its
    /// versions first, then applies the deployment that serves them.
    private static func uninstallOldest(_ state: inout State) -> [InstalledVersion] {
        var retired: [InstalledVersion] = []
        var serving: Set<String> = [state.current.stable.id]
        if let canary = state.current.canary { serving.insert(canary.id) }
        while state.installed.count > maxInstalled, let index = state.order.firstIndex(where: { !serving.contains($0) }) {
            let id = state.order.remove(at: index)
            if let version = state.installed.removeValue(forKey: id) { retired.append(version) }
        }
        return retired
    }

    /// Switches to `deployment` if its epoch is newer and its versions are
    /// installed; the switch is one pointer swap, so checks see either the
    /// old split or the new one, never a mix.
    public func apply(_ deployment: Deployment) throws(Failure) {
        let retired = try state.withLock { state throws(Failure) -> [InstalledVersion] in
            guard deployment.epoch > state.current.deployment.epoch else {
                throw .staleEpoch(offered: deployment.epoch, current: state.current.deployment.epoch)
            }
            guard let stable = state.installed[deployment.stable] else { throw .notInstalled(deployment.stable) }
            var canary: InstalledVersion?
            if let id = deployment.canary {
                guard let installed = state.installed[id] else { throw .notInstalled(id) }
                canary = installed
            }
            state.current = Current(deployment: deployment, stable: stable, canary: canary)
            return Self.uninstallOldest(&state)
        }
        for old in retired { old.retireMetrics() }
    }
}
