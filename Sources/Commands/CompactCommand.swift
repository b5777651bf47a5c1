import ArgumentParser
import EventStore
import Foundation

struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Delete logged events that all their node's kept snapshots cover: one node's (--data-dir) or every local node's.",
        discussion: """
            The node restarts from its latest snapshot plus the events after it, falling back to an older kept
            snapshot if the latest cannot be read, so events up to the oldest kept snapshot's position are only
            history. Safe while the node runs; `ratelimit events` then shows only the events after that snapshot.

            A running node compacts by itself after each snapshot, and more cautiously: it also keeps the events
            inside the longest window of any installed rule, to rebuild from events if no snapshot can be read.
            """)

    @Option(name: .long, help: "One node's data_dir (holds events.sqlite). Without it: every node of cluster/<env>.toml whose log is on this machine.")
    var dataDir: String?

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        if let dataDir {
            let path = dataDir + "/events.sqlite"
            guard FileManager.default.fileExists(atPath: path) else {
                throw CLIError("--data-dir: no event log at \(path)")
            }
            print(try Self.compact(path))
            return
        }
        let config = try options.load()
        guard let topology = config.topology, !topology.nodes.isEmpty else {
            throw CLIError("\(config.baseDirectory)/\(config.topologyFile) is missing or lists no nodes: give --data-dir D")
        }
        let here = topology.nodes.filter { FileManager.default.fileExists(atPath: $0.dataDir + "/events.sqlite") }
        guard !here.isEmpty else {
            let looked = topology.nodes.map(\.dataDir).joined(separator: ", ")
            throw CLIError("no node of \(config.topologyFile) has an event log on this machine (looked in \(looked)): give --data-dir D")
        }
        for node in here { print("\(node.id): \(try Self.compact(node.dataDir + "/events.sqlite"))") }
    }

    /// Compacts the log at `path` up to its oldest kept snapshot; says what it did.
    static func compact(_ path: String) throws -> String {
        do {
            let log = try EventLog(path: path, durability: .full)
            defer { try? log.close() }
            guard let oldest = try log.snapshotMarks().last else {
                return "nothing to compact: \(path) has no snapshot yet (a node writes one every 100,000 events or 30 s by default, and when it stops)"
            }
            let removed = try log.compact(before: oldest.seq)
            return "removed \(removed) events up to seq \(oldest.seq) (the oldest kept snapshot); \(try log.storedEventCount()) remain in \(path)"
        } catch {
            throw CLIError(error.message)
        }
    }
}
