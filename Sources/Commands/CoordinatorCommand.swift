import ArgumentParser
import CoordinatorStore
import Logging
import NodeServer

struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the environment's deployment coordinator (the [coordinator] of cluster/<env>.toml).",
        discussion: "Keeps versions and every deployment in a SQLite journal, pushes splits to the nodes, runs gradual rollouts with analysis and automatic rollback, and resumes from the journal after a restart.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        var logger = Logger(label: "ratelimit.coordinator")
        logger[metadataKey: "node"] = "coordinator"
        let runtime: CoordinatorRuntime
        do {
            runtime = try await CoordinatorRuntime.start(config: config, logger: logger)
        } catch let error as NodeError {
            throw CLIError(error.message)
        }
        print("coordinator serving http://\(config.topology?.coordinator?.host ?? "127.0.0.1"):\(runtime.httpPort) (env \(config.environment), journal \(runtime.journalPath))")
        flushOutput()
        try await runtime.run()
    }
}
