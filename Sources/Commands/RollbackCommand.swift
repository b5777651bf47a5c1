import ArgumentParser
import Config
import Foundation
import JSONCore
import NodeServer

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Serve the stable version (or VERSION) on every key now, and report when every node answers with it.")

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The version to restore (default: the stable one, dropping any canary).")
    var version: String?

    @Option(name: .long, help: "Why (journalled).")
    var message: String?

    @Option(name: .long, help: "Seconds to wait for every node to answer with the version (1-3600).")
    var timeout: Int = 10

    func validate() throws {
        guard (1...3600).contains(timeout) else { throw ValidationError("--timeout: must be 1 to 3600 seconds, got \(timeout)") }
    }

    func run() async throws {
        let config = try options.load()
        let client = try CoordinatorClient(config: config)
        let started = ContinuousClock.now
        var body: [(String, JSONValue)] = []
        if let version { body.append(("version", .string(version))) }
        if let message { body.append(("message", .string(message))) }
        let answer = try await client.call(.post, "/admin/rollback", body: .object(body))
        guard let deployment = answer[member: "deployment"], let stable = deployment[member: "stable"]?.stringValue else {
            throw CLIError("the coordinator answered no deployment")
        }
        if answer[member: "changed"]?.boolValue != true {
            print("already serving \(stable) on every key: nothing to roll back")
            return
        }
        let epoch = deployment[member: "epoch"]?.int ?? 0
        let nodes = config.topology?.nodes ?? []
        var waiting = Set(nodes.map(\.id))
        let deadline = started + .seconds(timeout)
        while !waiting.isEmpty && ContinuousClock.now < deadline {
            for node in nodes where waiting.contains(node.id) {
                let health = try? await NodeClient.request(.GET, host: node.host, port: node.httpPort, path: "/health", timeout: .seconds(1))
                if let served = health?.json?[member: "deployment"], served[member: "stable"]?.stringValue == stable,
                   served[member: "canary"] == .null, (served[member: "epoch"]?.int ?? 0) >= epoch {
                    waiting.remove(node.id)
                }
            }
            if !waiting.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
        let elapsed = ContinuousClock.now - started
        let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        guard waiting.isEmpty else {
            throw CLIError("rolled back to \(stable) (epoch \(epoch)), but after \(ms) ms these nodes still answer otherwise: \(waiting.sorted().joined(separator: ", "))")
        }
        print("rolled back to \(stable) (epoch \(epoch)): every node answered with it after \(ms) ms")
    }
}
