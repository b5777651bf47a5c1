import ArgumentParser
import EventStore
import Foundation

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print a node's logged events (reads its data dir directly; the node may be running).")

    @Option(name: .long, help: "The node's data_dir (holds events.sqlite).")
    var dataDir: String

    @Option(name: .long, help: "Only this key's events.")
    var key: String?

    @Option(name: .long, help: "Only this namespace (a rule's namespace_id).")
    var namespace: String?

    func run() async throws {
        let path = dataDir + "/events.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("--data-dir: no event log at \(path)")
        }
        let log: EventLog
        do { log = try EventLog(path: path, durability: .normal) } catch { throw CLIError(error.message) }
        print("seq\tat_ms\tnamespace\trule\tkey\thits")
        do {
            if let key {
                for event in try log.events(namespace: namespace, key: key) { print(line(event)) }
            } else {
                try log.replay(after: 0) { event in
                    if namespace == nil || event.namespace == namespace { print(line(event)) }
                }
            }
        } catch let error as StoreError {
            throw CLIError(error.message)
        }
    }

    private func line(_ event: HitEvent) -> String {
        "\(event.seq)\t\(event.atMs)\t\(event.namespace)\t\(event.rule)\t\(event.key)\t\(event.hits)"
    }
}
