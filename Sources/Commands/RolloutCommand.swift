import ArgumentParser

struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Act on the canary in service: promote it to stable, or abort it.",
        subcommands: [Promote.self, Abort.self])

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make the canary stable for every key now.")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let client = try CoordinatorClient(config: try options.load())
            for line in try await client.call(.post, "/admin/rollout/promote").lines { print(line) }
        }
    }

    struct Abort: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take the canary out of service; stable serves every key.")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let client = try CoordinatorClient(config: try options.load())
            for line in try await client.call(.post, "/admin/rollout/abort").lines { print(line) }
        }
    }
}
