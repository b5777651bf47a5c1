import ArgumentParser
import Config
import Foundation

/// `--config` and `--env`, shared by every verb that reads wrangler.toml.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "Path to wrangler.toml (default: ./wrangler.toml).")
    var configFile: String?

    /// `--config`, or `wrangler.toml` in the current directory.
    var config: String { configFile ?? "wrangler.toml" }

    @Option(name: .long, help: "Environment: development (default), staging, production.")
    var env: String?

    /// Loads and validates, printing one line per problem and exiting 1.
    func load() throws -> ResolvedConfig {
        do {
            return try ConfigLoader.load(wranglerPath: config, environment: env,
                                         processEnvironment: ProcessInfo.processInfo.environment)
        } catch {
            for problem in error.problems { printError(problem.message) }
            throw ExitCode.failure
        }
    }
}

/// Where a client verb sends its request: `--url`, `--node`, or the first
/// node of the environment's topology.
struct TargetOptions: ParsableArguments {
    @Option(name: .long, help: "Node id to ask (default: the first node of cluster/<env>.toml).")
    var node: String?

    @Option(name: .long, help: "Node base URL, e.g. http://127.0.0.1:8701 (overrides --node).")
    var url: String?

    func endpoint(_ config: ResolvedConfig) throws -> (host: String, port: Int) {
        if let url {
            guard let parsed = URL(string: url), parsed.scheme == "http", let host = parsed.host else {
                throw CLIError("--url: expected http://HOST:PORT, got \"\(url)\"")
            }
            return (host, parsed.port ?? 80)
        }
        guard let topology = config.topology, !topology.nodes.isEmpty else {
            throw CLIError("\(config.topologyFile) is missing or has no nodes; pass --url http://HOST:PORT")
        }
        if let node {
            guard let spec = topology.node(id: node) else {
                throw CLIError("--node: no node \"\(node)\" in \(config.topologyFile) (has: \(topology.nodes.map(\.id).joined(separator: ", ")))")
            }
            return (spec.host, spec.httpPort)
        }
        return (topology.nodes[0].host, topology.nodes[0].httpPort)
    }
}

/// A one-line failure; ArgumentParser prints it as `Error: ...` and exits 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// One failure line on standard error, in the style ArgumentParser gives a
/// thrown ``CLIError``: `Error: ...`.
func printError(_ line: String) {
    let text = line.hasPrefix("Error: ") ? line : "Error: " + line
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Pushes buffered standard output out now: into a pipe it is block
/// buffered, and a supervisor or test waits for these lines.
func flushOutput() {
    fflush(nil)
}
