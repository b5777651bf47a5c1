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
            DashboardsCommand.self, AlertsCommand.self, StatusCommand.self,
        ]
    )

    public init() {}

    /// For a first argument that names no verb: the line to print, with the
    /// nearest verb when one is close (`ratelimit chek` -> `check`).
    public static func unknownVerbMessage(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let verbs = configuration.subcommands.map { $0.configuration.commandName ?? "" } + ["help"]
        guard !verbs.contains(first) else { return nil }
        let nearest = verbs.map { ($0, editDistance(first, $0)) }.min { $0.1 < $1.1 }
        var message = "Error: unknown command '\(first)'"
        if let (verb, distance) = nearest, distance <= max(2, first.count / 3) { message += "; did you mean '\(verb)'?" }
        return message + " (`ratelimit --help` lists them all)"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
