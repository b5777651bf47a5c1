import ArgumentParser
import EventStore
import Foundation

struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Delete a node's logged events that its latest snapshot already covers.",
        discussion: """
            The node keeps replaying from its latest snapshot plus the events after it, so events up to the
            snapshot's position are only history. Safe while the node runs; `ratelimit events` then shows only
            the events after that snapshot.

            A running node compacts by itself after each snapshot, more cautiously: it keeps the events after
            its oldest kept snapshot (to fall back on if the newest cannot be read) and those inside the longest
            window of any installed rule (to rebuild from events if no snapshot can be read). This command
            drops everything the latest snapshot covers.
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
            guard let snapshot = try log.latestSnapshot() else {
                print("nothing to compact: \(path) has no snapshot yet (a node writes one every 100,000 events or 30 s by default, and when it stops)")
                return
            }
            let removed = try log.compact(before: snapshot.seq)
            print("removed \(removed) events up to seq \(snapshot.seq); \(try log.eventCount()) remain in \(path)")
        } catch {
            throw CLIError(error.message)
        }
    }
}
