import ArgumentParser

/// The one CLI an operator drives the cluster with (DESIGN §5).
@available(macOS 15, *)
public struct Ratelimit: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ratelimit",
        abstract: "An event-sourced, multi-node rate-limiter cluster.",
        version: "0.1.0",
        subcommands: [
            UpCommand.self, NodeCommand.self, CheckCommand.self, MembersCommand.self, RingCommand.self,
            CertsCommand.self, ConfigCommand.self, SimulateCommand.self, EventsCommand.self,
            CompactCommand.self, BenchStoreCommand.self, CoordinatorCommand.self, DeployCommand.self, VersionsCommand.self,
            DeploymentsCommand.self, RolloutCommand.self, RollbackCommand.self,
        ]
    )

    public init() {}
}
