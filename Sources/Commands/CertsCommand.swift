import ArgumentParser
import Config
import Foundation
import PeerTransport

struct CertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make the cluster CA and node certificates for mutual TLS between peers.",
        subcommands: [Init.self, Add.self]
    )

    /// Nodes and certs dir default to the environment's topology.
    static func defaults(_ options: ConfigOptions, dir: String?, nodes: String?) throws -> (dir: String, env: String, nodes: [String]) {
        let config = try options.load()
        let directory = dir ?? config.topology?.certsDir ?? (config.baseDirectory + "/cluster/certs/\(config.environment)")
        var ids = nodes.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
            ?? config.topology?.nodes.map(\.id) ?? []
        if nodes == nil, config.topology?.coordinator != nil { ids.append("coordinator") }
        guard !ids.isEmpty else { throw CLIError("--nodes: no nodes given and \(config.topologyFile) lists none") }
        return (directory, config.environment, ids)
    }

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a cluster CA and one certificate per node (SANs: id, localhost, 127.0.0.1, spiffe://ratelimit/<env>/<id>).")

        @OptionGroup var options: ConfigOptions
        @Option(name: .long, help: "Where to write (default: certs_dir of cluster/<env>.toml).")
        var dir: String?
        @Option(name: .long, help: "Comma-separated node ids (default: the topology's nodes and coordinator).")
        var nodes: String?
        @Flag(name: .long, help: "Replace existing files.")
        var force = false

        func run() async throws {
            let (dir, env, nodes) = try CertsCommand.defaults(options, dir: dir, nodes: nodes)
            do {
                let written = try ClusterCertificates.initCluster(directory: dir, environment: env, nodes: nodes, force: force)
                for path in written { print("wrote \(path)") }
            } catch {
                throw CLIError(error.message)
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a certificate for one more node from the existing CA.")

        @OptionGroup var options: ConfigOptions
        @Option(name: .long, help: "Where the CA lives (default: certs_dir of cluster/<env>.toml).")
        var dir: String?
        @Option(name: .long, help: "The new node's id.")
        var node: String
        @Flag(name: .long, help: "Replace an existing certificate for this node.")
        var force = false

        func run() async throws {
            let (dir, env, _) = try CertsCommand.defaults(options, dir: dir, nodes: node)
            do {
                let written = try ClusterCertificates.addNode(directory: dir, environment: env, node: node, force: force)
                for path in written { print("wrote \(path)") }
            } catch {
                throw CLIError(error.message)
            }
        }
    }
}
