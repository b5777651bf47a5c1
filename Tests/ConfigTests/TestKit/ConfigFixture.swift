import Foundation
import TestSupport
import Testing

@testable import Config

/// A throwaway directory holding a wrangler.toml (and optionally
/// cluster/<env>.toml files), loaded through the real ConfigLoader.
final class ConfigFixture {
    private let temporary: TemporaryDirectory
    var directory: String { temporary.path }

    /// A minimal valid file: one binding whose class a migration creates.
    static let minimalWrangler = """
        name = "fixture"
        main = "Sources/ratelimit/Entry.swift"
        compatibility_date = "2024-01-22"

        [durable_objects]
        bindings = [{ name = "RATE_LIMIT", class_name = "RateLimitDO" }]

        [[migrations]]
        tag = "v1"
        new_classes = ["RateLimitDO"]

        [env.staging]
        vars = { ENVIRONMENT = "staging" }

        [env.production]
        vars = { ENVIRONMENT = "production" }

        """

    /// Three loopback nodes, as cluster/development.toml ships.
    static func threeNodeTopology(basePort: Int = 8700) -> String {
        var text = """
            replicas = 2
            certs_dir = "cluster/certs/test"

            [coordinator]
            host = "127.0.0.1"
            http_port = \(basePort)
            peer_port = \(basePort - 1000)

            """
        for index in 1...3 {
            text += """

                [[nodes]]
                id = "n\(index)"
                host = "127.0.0.1"
                http_port = \(basePort + index)
                peer_port = \(basePort - 1000 + index)
                data_dir = "cluster/data/test/n\(index)"

                """
        }
        return text
    }

    /// The secrets staging and production require.
    static let secrets = [
        "MONITORING_TOKEN": "mon-secret-abcd",
        "ALERT_WEBHOOK_URL": "https://hooks.example.com/services/T000/B000/XXXX",
    ]

    /// - Parameters:
    ///   - wrangler: the wrangler.toml text; nil writes none.
    ///   - appending: appended to `wrangler` (rules under test).
    ///   - cluster: `cluster/<env>.toml` texts by environment name.
    init(wrangler: String? = ConfigFixture.minimalWrangler, appending extra: String = "", cluster: [String: String] = [:])
        throws
    {
        temporary = try TemporaryDirectory(prefix: "config-tests")
        if let wrangler {
            try write("wrangler.toml", wrangler + extra)
        }
        for (environment, text) in cluster {
            try write("cluster/\(environment).toml", text)
        }
    }

    var wranglerPath: String { directory + "/wrangler.toml" }

    func write(_ relativePath: String, _ text: String) throws {
        let path = directory + "/" + relativePath
        let parent = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Loads, expecting success.
    func load(environment: String? = nil, process: [String: String] = [:]) throws -> ResolvedConfig {
        try ConfigLoader.load(wranglerPath: wranglerPath, environment: environment, processEnvironment: process)
    }

    /// Loads, expecting failure; returns every problem (empty if it loaded).
    func problems(environment: String? = nil, process: [String: String] = [:]) -> [ConfigError] {
        do throws(ConfigProblems) {
            _ = try ConfigLoader.load(
                wranglerPath: wranglerPath, environment: environment, processEnvironment: process)
            return []
        } catch {
            return error.problems
        }
    }

    /// Messages of `problems(...)`, for readable expectation failures.
    func messages(environment: String? = nil, process: [String: String] = [:]) -> [String] {
        problems(environment: environment, process: process).map(\.message)
    }
}

/// A `[[ratelimits]]` block, with the fields a test does not care about filled in.
func ratelimit(
    name: String = "API", namespaceID: String = "1001", limit: String = "100", period: String = "60",
    algorithm: String? = "sliding_window", extra: String = ""
) -> String {
    var text = """

        [[ratelimits]]
        name = "\(name)"
        namespace_id = "\(namespaceID)"
        simple = { limit = \(limit), period = \(period) }

        """
    if let algorithm { text += "algorithm = \"\(algorithm)\"\n" }
    if !extra.isEmpty { text += extra + "\n" }
    return text
}
