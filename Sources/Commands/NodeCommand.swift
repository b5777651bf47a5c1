import ArgumentParser
import EventStore
import Logging
import NodeServer

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run one node of the environment's cluster (see cluster/<env>.toml).")

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Node id from cluster/<env>.toml.")
    var id: String

    @Option(name: .long, help: "Event log durability: full (fsync every group commit) or normal (survives process crashes, not power loss). Default: normal when the topology has replicas = 2 (the replica's copy covers a power loss), full otherwise.")
    var durability: String?

    func run() async throws {
        let config = try options.load()
        let replicated = (config.topology?.replicas ?? 1) >= 2
        guard let durability = durability.map(Durability.init(rawValue:)) ?? (replicated ? .normal : .full) else {
            throw CLIError("--durability: expected full or normal, got \"\(self.durability ?? "")\"")
        }
        var nodeOptions = NodeRuntime.Options(nodeID: id)
        nodeOptions.durability = durability
        var logger = Logger(label: "ratelimit.node")
        logger[metadataKey: "node"] = "\(id)"
        let runtime: NodeRuntime
        do {
            runtime = try await NodeRuntime.start(config: config, options: nodeOptions, logger: logger)
        } catch let error as NodeError {
            throw CLIError(error.message)
        } catch let error as StoreError {
            throw CLIError(error.message)
        }
        print("node \(id) serving http://\(runtime.spec.host):\(runtime.httpPort) (env \(config.environment), version \(runtime.versions.deployment.stable))")
        flushOutput()
        try await runtime.run()
    }
}
