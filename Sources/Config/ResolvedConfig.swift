import Alerting
import LimiterCore

/// Everything a verb needs after loading: the file as written, the selected
/// environment, its variables, the effective rules and the topology.
public struct ResolvedConfig: Sendable, Hashable {
    /// The name of the rule used when a check names none (DESIGN.md §5).
    public static let defaultRuleName = "default"

    /// wrangler.toml as written.
    public var wrangler: WranglerConfig
    /// The selected environment: `development`, `staging`, `production`, ...
    public var environment: String
    /// Variables after precedence (process > `[env.X].vars` > `[vars]` > defaults).
    public var runtime: RuntimeEnvironment
    /// Rules by name: every `[[ratelimits]]` plus ``defaultRuleName``.
    public var rules: [String: Rule]
    /// `cluster/<environment>.toml`, or nil when that file does not exist.
    public var topology: ClusterTopology?
    /// Absolute directory holding wrangler.toml; relative paths resolve against it.
    public var baseDirectory: String
    /// The environment's `[monitoring]` thresholds (DESIGN.md §8): defaults,
    /// then top-level `[monitoring]`, then `[env.NAME.monitoring]`, key by key.
    public var monitoring: MonitoringThresholds

    public init(
        wrangler: WranglerConfig = WranglerConfig(),
        environment: String = "development",
        runtime: RuntimeEnvironment = RuntimeEnvironment(),
        rules: [String: Rule] = [:],
        topology: ClusterTopology? = nil,
        baseDirectory: String = ".",
        monitoring: MonitoringThresholds? = nil
    ) {
        self.wrangler = wrangler
        self.environment = environment
        self.runtime = runtime
        self.rules = rules
        self.topology = topology
        self.baseDirectory = baseDirectory
        self.monitoring = monitoring ?? wrangler.monitoring(for: environment)
        if self.rules[Self.defaultRuleName] == nil {
            self.rules[Self.defaultRuleName] = Self.defaultRule(for: runtime)
        }
    }

    /// The topology file's name as messages show it.
    public var topologyFile: String { "cluster/\(environment).toml" }

    /// The node `id` of this environment's topology, or an error naming the
    /// file and the ids it does have (for `ratelimit node --id n4` typos).
    public func node(id: String) throws(ConfigError) -> NodeSpec {
        guard let topology else {
            throw ConfigError(
                .unknownNode, file: topologyFile, key: nil,
                "file not found in \(baseDirectory), so there is no node \"\(id)\"")
        }
        guard let node = topology.node(id: id) else {
            let known = topology.nodes.map(\.id).joined(separator: ", ")
            throw ConfigError(.unknownNode, file: topologyFile, key: "nodes", "no node \"\(id)\" (has: \(known))")
        }
        return node
    }

    /// The vars a version of this environment records (DESIGN.md §7): the
    /// top-level `[vars]` overridden by `[env.NAME].vars`, with `ENVIRONMENT`
    /// the selected environment. Only what wrangler.toml says, less the
    /// credentials (``RuntimeEnvironment/secretNames``) a `[vars]` table may
    /// hold: the process environment, where secrets belong, is left out.
    public var versionVars: [String: String] {
        var vars = wrangler.vars
        vars.merge(wrangler.environments[environment]?.vars ?? [:]) { _, override in override }
        vars["ENVIRONMENT"] = environment
        return vars.filter { !RuntimeEnvironment.secretNames.contains($0.key) }
    }

    /// Rules sorted by name, `default` included, for stable listings.
    public var sortedRules: [Rule] {
        rules.values.sorted { $0.name < $1.name }
    }

    /// The rule `default`: sliding_window with `DEFAULT_RATE_LIMIT` hits per
    /// `DEFAULT_WINDOW` seconds, as the seed's `loadEnv` defaults.
    static func defaultRule(for runtime: RuntimeEnvironment) -> Rule {
        Rule(
            name: defaultRuleName,
            namespaceID: defaultRuleName,
            limit: runtime.defaultRateLimit,
            periodSeconds: runtime.defaultWindow,
            algorithm: AlgorithmNames.slidingWindow,
            burst: runtime.defaultRateLimit
        )
    }
}
