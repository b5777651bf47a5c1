import ArgumentParser
import EventStore
import Logging
import NodeServer

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run one node of the environment's cluster (see cluster/<env>.toml).")

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Node id from cluster/<env>.toml.")
    var id: String

    @Option(name: .long, help: "Event log durability: full (fsync every group commit) or normal (survives process crashes, not power loss). Default: normal when the topology has replicas = 2 (the replica's copy covers a power loss), full otherwise.")
    var durability: String?

    @Option(name: .long, help: ArgumentHelp(
        "Snapshot the counters after this many logged events.",
        discussion: "Bounds how many events a restart after a crash replays."))
    var snapshotEveryEvents: Int64 = SnapshotPolicy.Settings().everyEvents

    @Option(name: .long, help: "Snapshot at least this often: 30s, 5m or 1h, at most 24h.")
    var snapshotInterval: String = "30s"

    @Option(name: .long, help: ArgumentHelp(
        "Snapshots kept: the newest, and older ones to fall back on if it cannot be read.",
        discussion: """
            Logged events are deleted once the oldest kept snapshot covers them and they are older than the \
            longest window of any installed rule (two windows for sliding_window; for token_bucket and gcra, \
            the time an empty bucket takes to refill, when longer).
            """))
    var keptSnapshots: Int = SnapshotPolicy.Settings().keptSnapshots

    /// The snapshot flags as settings, or a one-line reason naming the flag.
    func snapshotSettings() throws -> SnapshotPolicy.Settings {
        var settings = SnapshotPolicy.Settings()
        guard SnapshotPolicy.Settings.everyEventsRange.contains(snapshotEveryEvents) else {
            throw CLIError("--snapshot-every-events: expected 1 to \(SnapshotPolicy.Settings.everyEventsRange.upperBound), got \(snapshotEveryEvents)")
        }
        settings.everyEvents = snapshotEveryEvents
        let range = SnapshotPolicy.Settings.intervalMsRange
        guard let interval = DeployCommand.milliseconds(snapshotInterval),
              range.contains(interval) else {
            throw CLIError("--snapshot-interval: expected a number with s, m or h from 1s to 24h (30s, 5m, 1h), got \"\(snapshotInterval)\"")
        }
        settings.intervalMs = interval
        guard SnapshotPolicy.Settings.keptSnapshotsRange.contains(keptSnapshots) else {
            throw CLIError("--kept-snapshots: expected 1 to \(SnapshotPolicy.Settings.keptSnapshotsRange.upperBound), got \(keptSnapshots)")
        }
        settings.keptSnapshots = keptSnapshots
        return settings
    }

    func run() async throws {
        let config = try options.load()
        let replicated = (config.topology?.replicas ?? 1) >= 2
        guard let durability = durability.map(Durability.init(rawValue:)) ?? (replicated ? .normal : .full) else {
            throw CLIError("--durability: expected full or normal, got \"\(self.durability ?? "")\"")
        }
        let snapshots = try snapshotSettings()
        var nodeOptions = NodeRuntime.Options(nodeID: id)
        nodeOptions.durability = durability
        nodeOptions.maintenance.snapshots = snapshots
        var logger = Logger(label: "ratelimit.node")
        logger[metadataKey: "node"] = "\(id)"
        let runtime: NodeRuntime
        do {
            runtime = try await NodeRuntime.start(config: config, options: nodeOptions, logger: logger)
        } catch let error as NodeError {
            throw CLIError(error.message)
        } catch let error as StoreError {
            throw CLIError(error.message)
        }
        print("node \(id) serving http://\(runtime.spec.host):\(runtime.httpPort) (env \(config.environment), version \(runtime.versions.deployment.stable))")
        flushOutput()
        try await runtime.run()
    }
}
