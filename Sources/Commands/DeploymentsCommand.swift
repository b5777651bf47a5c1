import ArgumentParser
import JSONCore

struct DeploymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployments",
        abstract: "The coordinator's journal of deployments, and what is deployed now.",
        subcommands: [List.self, Status.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every deployment transition, newest first: who, when, version, percent, outcome, reason.")
        @OptionGroup var options: ConfigOptions

        @Option(name: .long, help: "How many entries (1-1000).")
        var limit: Int = 50

        func run() async throws {
            let client = try CoordinatorClient(config: try options.load())
            let entries = try await client.call(.get, "/admin/deployments?limit=\(limit)").arrayValue
            var rows = [["SEQ", "TIME", "WHO", "KIND", "OUTCOME", "VERSION", "PERCENT", "REASON"]]
            for entry in entries {
                rows.append([
                    "\(entry[member: "seq"]?.int ?? 0)", formatTime(entry[member: "at_ms"]?.int), entry[member: "actor"]?.stringValue ?? "",
                    entry[member: "kind"]?.stringValue ?? "", entry[member: "outcome"]?.stringValue ?? "",
                    entry[member: "version"]?.stringValue ?? "-", entry[member: "percent"]?.int.map { "\($0)%" } ?? "-",
                    entry[member: "reason"]?.stringValue ?? "",
                ])
            }
            print(table(rows))
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The deployment served now and the rollout's steps so far.")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let client = try CoordinatorClient(config: try options.load())
            let status = try await client.call(.get, "/admin/rollout")
            let deployment = status[member: "deployment"]
            print("environment: \(client.environment)")
            print("stable:      \(deployment?[member: "stable"]?.stringValue ?? "?")")
            print("canary:      \(deployment?[member: "canary"]?.stringValue ?? "none") at \(deployment?[member: "percent"]?.int ?? 0)%")
            print("epoch:       \(deployment?[member: "epoch"]?.int ?? 0)")
            print("rollout:     \(status[member: "state"]?.stringValue ?? "?")")
            for step in status[member: "steps"]?.arrayValue ?? [] {
                print("  \(step[member: "summary"]?.stringValue ?? "") -> \(step[member: "outcome"]?.stringValue ?? "")")
            }
        }
    }
}
