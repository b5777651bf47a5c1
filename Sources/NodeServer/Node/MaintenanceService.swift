import LimiterCore
import Logging
import NIOPosix
import ServiceLifecycle

/// Keeps the store small and replay short: prunes idle counters and writes
/// periodic snapshots; on graceful shutdown flushes the log and writes a
/// last snapshot so the next start replays nothing.
public struct MaintenanceService: Service {
    public struct Settings: Sendable {
        public var pruneInterval: Duration = .seconds(10)
        public var snapshotInterval: Duration = .seconds(30)
        /// WAL checkpoints run here, off the commit thread (see `EventLog.checkpoint()`).
        public var checkpointInterval: Duration = .seconds(1)
        public init() {}
    }

    let engine: LimiterEngine
    /// Where the event log's row count and snapshot age are exported.
    var metrics: EngineMetrics?
    /// The rules counters are pruned by: those of the deployment's versions.
    let prunable: @Sendable () -> [String: Rule]
    let settings: Settings
    let logger: Logger

    public init(engine: LimiterEngine, prunable: @escaping @Sendable () -> [String: Rule], settings: Settings = Settings(),
                logger: Logger) {
        self.engine = engine
        self.prunable = prunable
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var sincePrune = Duration.zero
            var sinceSnapshot = Duration.zero
            await exportLogFigures()
            while true {
                try await Task.sleep(for: settings.checkpointInterval)
                await checkpoint()
                sincePrune += settings.checkpointInterval
                sinceSnapshot += settings.checkpointInterval
                if sincePrune >= settings.pruneInterval {
                    sincePrune = .zero
                    engine.prune(rules: prunable())
                    await exportLogFigures()
                }
                if sinceSnapshot >= settings.snapshotInterval {
                    sinceSnapshot = .zero
                    await snapshot()
                }
            }
        }
        await drain()
    }

    /// Skipped while the store is failed or closed: the store supervisor owns it then.
    private func checkpoint() async {
        guard let log = engine.log else { return }
        do {
            // A blocking SQLite call of a few ms: on NIO's blocking-IO pool, not the cooperative pool.
            _ = try await NIOThreadPool.singleton.runIfActive { try log.checkpoint() }
        } catch {
            logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)"])
        }
    }

    /// Counting the rows scans the log: a blocking-IO pool thread, every prune interval.
    private func exportLogFigures() async {
        guard let log = engine.log else { return }
        let now = engine.clock.nowMs()
        do {
            let (rows, snapshot) = try await NIOThreadPool.singleton.runIfActive { (try log.eventCount(), try log.latestSnapshot()) }
            metrics?.setEventLog(rows: rows, snapshotAgeSeconds: snapshot.map { Double(now - $0.takenAtMs) / 1000 })
        } catch {
            logger.warning("reading event log figures failed", metadata: ["error": "\(error)"])
        }
    }

    private func snapshot() async {
        let engine = engine
        do {
            // Waits for the commit thread and writes the file: a blocking-IO pool thread.
            try await NIOThreadPool.singleton.runIfActive { try engine.snapshot() }
        } catch {
            logger.error("snapshot failed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs when the service group shuts down: this service is first in the
    /// group, so it stops last, after the HTTP listener.
    private func drain() async {
        let engine = engine
        do {
            try await NIOThreadPool.singleton.runIfActive {
                try engine.snapshot()
                try engine.close()
            }
            logger.info("event log flushed and snapshotted")
        } catch {
            logger.error("flushing the event log failed", metadata: ["error": "\(error)"])
        }
    }
}
