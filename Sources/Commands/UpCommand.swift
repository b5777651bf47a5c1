import ArgumentParser
import Config
import Foundation
import NodeServer
import PeerTransport
import UnixSignals

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start the environment's cluster on this machine: certificates if missing, every node and the coordinator as child processes.",
        discussion: """
            Waits until every node sees all the others and the coordinator answers, prints their URLs, and stops them all on \
            Ctrl-C or SIGTERM. In development without ADMIN_TOKEN the cluster's admin token is dev-admin-token; other \
            environments with a coordinator need ADMIN_TOKEN set.
            """)

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "How many of the topology's nodes to start (default: all).")
    var nodes: Int?

    @Option(name: .long, help: "Seconds to wait for the cluster to form.")
    var timeout: Int = 60

    func run() async throws {
        let config = try options.load()
        guard let topology = config.topology, !topology.nodes.isEmpty else {
            throw CLIError("\(config.baseDirectory)/\(config.topologyFile) is missing or lists no nodes")
        }
        let count = nodes ?? topology.nodes.count
        guard (1...topology.nodes.count).contains(count) else {
            throw CLIError("--nodes: \(config.topologyFile) has \(topology.nodes.count) nodes, asked for \(count)")
        }
        guard count >= topology.replicas else {
            throw CLIError("--nodes: \(config.topologyFile) keeps replicas = \(topology.replicas) copies of each hit, so at least \(topology.replicas) nodes must run (asked for \(count)); set replicas = 1 there for a single node")
        }
        let specs = Array(topology.nodes.prefix(count))
        var defaultedToken: String?
        if (config.runtime.adminToken ?? "").isEmpty {
            if config.environment == "development" {
                // One command starts a development cluster: its processes share this token.
                setenv("ADMIN_TOKEN", Self.developmentAdminToken, 1)
                defaultedToken = Self.developmentAdminToken
            } else if topology.coordinator != nil {
                throw CLIError("ADMIN_TOKEN is not set: the \(config.environment) coordinator's admin API needs it (export ADMIN_TOKEN=...)")
            }
        }
        do {
            let ids = topology.nodes.map(\.id) + (topology.coordinator == nil ? [] : ["coordinator"])
            let written = try ClusterCertificates.ensureCluster(
                directory: topology.certsDir, environment: config.environment, nodes: ids)
            if !written.isEmpty { print("made certificates in \(topology.certsDir)") }
        } catch {
            throw CLIError(error.message)
        }

        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let supervisor = try Supervisor(executable: Self.executablePath, config: options.config, environment: config.environment,
                                        nodes: specs, coordinator: topology.coordinator)
        do {
            try await supervisor.waitUntilFormed(within: .seconds(timeout))
        } catch {
            await supervisor.stopAll()
            throw error
        }
        print("cluster \(config.environment) is up: \(specs.count) nodes")
        for spec in specs { print("  \(spec.id)  http://\(spec.host):\(spec.httpPort)  (peer \(spec.host):\(spec.peerPort), data \(spec.dataDir))") }
        if let coordinator = topology.coordinator {
            print("  coordinator  http://\(coordinator.host):\(coordinator.httpPort)  (peer \(coordinator.host):\(coordinator.peerPort))")
        }
        let first = specs[0]
        let members = defaultedToken.map { "ADMIN_TOKEN=\($0) ratelimit members" } ?? "ratelimit members"
        if let defaultedToken {
            print("\nADMIN_TOKEN was not set: this development cluster's admin API takes \(defaultedToken) (export ADMIN_TOKEN=\(defaultedToken) for the admin verbs)")
        }
        print("""

            try:
              curl -si -X POST http://\(first.host):\(first.httpPort)/v1/check -H 'content-type: application/json' -d '{"key": "user:42", "rule": "API"}'
              \(members)

            Ctrl-C stops every node.
            """)
        flushOutput()
        let exited = await supervisor.waitForSignalOrExit(signals)
        if let exited { printError("node \(exited.id) exited with status \(exited.status); stopping the cluster") }
        await supervisor.stopAll()
        if exited != nil { throw ExitCode.failure }
    }

    /// The admin token of a development cluster started without `ADMIN_TOKEN`
    /// (its nodes listen on the topology's addresses, loopback as shipped).
    static let developmentAdminToken = "dev-admin-token"

    /// This binary, which runs each node as `ratelimit node`.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
