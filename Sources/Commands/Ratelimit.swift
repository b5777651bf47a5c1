import ArgumentParser
import Config

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
            DashboardsCommand.self, AlertsCommand.self, StatusCommand.self, ChaosCommand.self,
        ]
    )

    public init() {}

    /// For a first argument that names no verb: the line to print, with the
    /// nearest verb when one is close (`ratelimit chek` -> `check`).
    public static func unknownVerbMessage(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let verbs = configuration.subcommands.map { $0.configuration.commandName ?? "" } + ["help"]
        guard !verbs.contains(first) else { return nil }
        var message = "Error: unknown command '\(first)'"
        if let verb = NearestName.nearest(to: first, in: verbs) { message += "; did you mean '\(verb)'?" }
        return message + " (`ratelimit --help` lists them all)"
    }
}
