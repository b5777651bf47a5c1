import ArgumentParser
import EventStore
import Foundation

struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Delete a node's logged events that all its kept snapshots cover.",
        discussion: """
            The node restarts from its latest snapshot plus the events after it, falling back to an older kept
            snapshot if the latest cannot be read, so events up to the oldest kept snapshot's position are only
            history. Safe while the node runs; `ratelimit events` then shows only the events after that snapshot.

            A running node compacts by itself after each snapshot, and more cautiously: it also keeps the events
            inside the longest window of any installed rule, to rebuild from events if no snapshot can be read.
            """)

    @Option(name: .long, help: "The node's data_dir (holds events.sqlite).")
    var dataDir: String

    func run() async throws {
        let path = dataDir + "/events.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("--data-dir: no event log at \(path)")
        }
        do {
            let log = try EventLog(path: path, durability: .full)
            guard let oldest = try log.snapshotMarks().last else {
                print("nothing to compact: \(path) has no snapshot yet (a node writes one every 100,000 events or 30 s by default, and when it stops)")
                return
            }
            let removed = try log.compact(before: oldest.seq)
            print("removed \(removed) events up to seq \(oldest.seq) (the oldest kept snapshot); \(try log.storedEventCount()) remain in \(path)")
        } catch {
            throw CLIError(error.message)
        }
    }
}
