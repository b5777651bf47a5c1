import Alerting
import Foundation
import LimiterCore
import Testing

@testable import Config

/// The repository's own wrangler.toml and cluster/*.toml, as shipped.
@Suite("The project's real configuration")
struct ProjectConfigTests {
    /// `<repo>/wrangler.toml`, found from this file through any symlinked test directory.
    static let wranglerPath: String = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent()  // ConfigTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repo
        .appendingPathComponent("wrangler.toml").path

    static func load(_ environment: String?, _ process: [String: String] = [:]) throws(ConfigProblems) -> ResolvedConfig {
        try ConfigLoader.load(wranglerPath: wranglerPath, environment: environment, processEnvironment: process)
    }

    @Test("wrangler.toml loads cleanly for development with its rules and a three-node topology")
    func development() throws {
        let config = try Self.load(nil)
        #expect(config.environment == "development")
        #expect(config.wrangler.name == "rate-limit")
        #expect(config.wrangler.main == "Sources/ratelimit/Entry.swift")
        #expect(config.wrangler.compatibilityDate == "2024-01-22")
        #expect(config.wrangler.durableObjectBindings == [.init(name: "RATE_LIMIT", className: "RateLimitDO")])
        #expect(config.wrangler.migrations == [.init(tag: "v1", newClasses: ["RateLimitDO"])])
        #expect(config.wrangler.environmentNames == ["development", "production", "staging"])
        #expect(Set(config.rules.keys) == ["API", "LOGIN", "SEARCH", "UPLOAD", "EXACT", "default"])
        #expect(Set(config.rules.values.map(\.algorithm)) == Set(Algorithm.allCases), "every algorithm is exercised")
        #expect(config.rules["API"] == Rule(name: "API", namespaceID: "1001", limit: 100, periodSeconds: 60,
                                            algorithm: .slidingWindow))
        #expect(config.rules["LOGIN"]?.algorithm == .fixedWindow)
        #expect(config.rules["LOGIN"]?.limit == 5)

        let topology = try #require(config.topology)
        #expect(topology.replicas == 2, "cluster/development.toml keeps a copy of each hit on a second node")
        #expect(topology.coordinator == Endpoint(host: "127.0.0.1", httpPort: 8700, peerPort: 7700))
        #expect(topology.nodes.map(\.httpPort) == [8701, 8702, 8703])
        #expect(topology.nodes.map(\.peerPort) == [7701, 7702, 7703])
        #expect(topology.certsDir == config.baseDirectory + "/cluster/certs/development")
        #expect(try config.node(id: "n3").dataDir == config.baseDirectory + "/cluster/data/development/n3")
    }

    @Test("staging and production load when the monitoring secrets are given",
          arguments: [("staging", 8711), ("production", 8721)])
    func deployedEnvironments(environment: String, firstPort: Int) throws {
        let config = try Self.load(environment, ConfigFixture.secrets)
        #expect(config.environment == environment)
        #expect(config.runtime.alertWebhookURL == ConfigFixture.secrets["ALERT_WEBHOOK_URL"])
        #expect(config.wrangler.environments[environment]?.vars["ENVIRONMENT"] == environment)
        #expect(config.wrangler.environments[environment]?.routes.count == 1)
        #expect(config.topology?.nodes.first?.httpPort == firstPort)
        #expect(config.topology?.nodes.count == 3)
    }

    @Test("staging and production fail with the exact missing-variable messages without secrets",
          arguments: ["staging", "production"])
    func deployedEnvironmentsNeedSecrets(environment: String) {
        #expect(throws: ConfigProblems([
            ConfigError(code: .missingEnvironmentVariable, message: "Missing required env var: MONITORING_TOKEN",
                        file: "environment", key: "MONITORING_TOKEN"),
            ConfigError(code: .missingEnvironmentVariable, message: "Missing required env var: ALERT_WEBHOOK_URL",
                        file: "environment", key: "ALERT_WEBHOOK_URL"),
        ])) {
            try Self.load(environment)
        }
    }

    @Test("wrangler.toml spells out every [monitoring] key at its default, with no environment overrides",
          arguments: ["development", "staging", "production"])
    func monitoringDefaults(environment: String) throws {
        let config = try Self.load(environment, ConfigFixture.secrets)
        #expect(config.monitoring == MonitoringThresholds())
        #expect(MonitoringThresholds.CodingKeys.allCases.allSatisfy(config.wrangler.monitoring.sets))
        #expect(config.wrangler.environments[environment]?.monitoring ?? .init() == .init())
    }

    @Test("ENVIRONMENT in the process selects the environment when no --env is given")
    func environmentVariableSelects() throws {
        var process = ConfigFixture.secrets
        process["ENVIRONMENT"] = "production"
        #expect(try Self.load(nil, process).environment == "production")
    }

    @Test("The three topologies do not share a port, so all can run on one machine")
    func topologiesDisjoint() throws {
        var seen: [Int: String] = [:]
        for environment in ["development", "staging", "production"] {
            let topology = try #require(try Self.load(environment, ConfigFixture.secrets).topology)
            let ports = topology.nodes.flatMap { [$0.httpPort, $0.peerPort] }
                + [topology.coordinator?.httpPort, topology.coordinator?.peerPort].compactMap { $0 }
            for port in ports {
                #expect(seen[port] == nil, "port \(port) in \(environment) also in \(seen[port] ?? "")")
                seen[port] = environment
            }
        }
        #expect(seen.count == 24)
    }
}
