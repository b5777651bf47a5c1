import EventStore
import LimiterCore
import Logging
import NIOPosix
import ServiceLifecycle

/// Keeps the store small and replay short: prunes idle counters, checkpoints
/// the WAL, and follows a ``SnapshotPolicy``: snapshots every N events or T
/// seconds, then deletes the events no restart can need. On graceful
/// shutdown it flushes the log and writes a last snapshot, so the next start
/// replays nothing.
///
/// Every store call runs on NIO's blocking-IO pool; the commit thread only
/// finishes each checkpoint (``LimiterEngine/checkpointWAL()``). Deletions go
/// in transactions of ``SnapshotPolicy/Settings/compactionChunk`` rows, so a
/// commit waits behind at most one of them.
public struct MaintenanceService: Service {
    public struct Settings: Sendable {
        public var pruneInterval: Duration = .seconds(10)
        /// WAL checkpoints run here, off the commit thread, which only copies
        /// what they missed (`LimiterEngine.checkpointWAL()`); the snapshot
        /// policy is asked at the same tick.
        public var checkpointInterval: Duration = .seconds(1)
        /// When to snapshot, how many snapshots to keep, the delete chunk.
        public var snapshots = SnapshotPolicy.Settings()
        public init() {}
    }

    let engine: LimiterEngine
    /// Where the event log's row count and snapshot age are exported.
    var metrics: EngineMetrics?
    /// The rules counters are pruned by: those of the deployment's versions.
    let prunable: @Sendable () -> [String: Rule]
    /// The longest replay horizon of the installed rules: compaction keeps
    /// the events logged inside it (``SnapshotPolicy``).
    let replayHorizonMs: @Sendable () -> Int64
    let settings: Settings
    let logger: Logger

    public init(engine: LimiterEngine, prunable: @escaping @Sendable () -> [String: Rule],
                replayHorizonMs: @escaping @Sendable () -> Int64, settings: Settings = Settings(), logger: Logger) {
        self.engine = engine
        self.prunable = prunable
        self.replayHorizonMs = replayHorizonMs
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            // Without it the interval counts from now: the first snapshot is only later.
            var latest: SnapshotPolicy.Mark?
            if let log = engine.log {
                latest = (try? await NIOThreadPool.singleton.runIfActive { try log.snapshotMarks().first }) ?? nil
            }
            var policy = SnapshotPolicy(settings: settings.snapshots, latest: latest, now: engine.clock.nowMs())
            var sincePrune = Duration.zero
            await exportLogFigures(policy)
            while true {
                try await Task.sleep(for: settings.checkpointInterval)
                await checkpoint()
                sincePrune += settings.checkpointInterval
                if sincePrune >= settings.pruneInterval {
                    sincePrune = .zero
                    engine.prune(rules: prunable())
                }
                await tick(&policy)
                await exportLogFigures(policy)
            }
        }
        await drain()
    }

    /// Asks the policy; when a snapshot is due, writes it and compacts.
    /// Skipped while the store is failed or closed: the store supervisor owns it then.
    private func tick(_ policy: inout SnapshotPolicy) async {
        guard let log = engine.log else { return }
        let now = engine.clock.nowMs()
        let lastSeq: Int64
        do {
            lastSeq = try await NIOThreadPool.singleton.runIfActive { try log.lastSeq() }
        } catch {
            logger.warning("reading the event log's position failed", metadata: ["error": "\(error)"])
            return
        }
        guard case .snapshot(let events, let elapsedMs) = policy.onTick(lastSeq: lastSeq, now: now) else { return }

        let engine = engine
        let kept = settings.snapshots.keptSnapshots
        let bound: SnapshotPolicy.CompactionBound?
        do {
            // Waits for the commit thread and writes the file: a blocking-IO pool thread.
            let written = try await NIOThreadPool.singleton.runIfActive { () throws -> (SnapshotPolicy.Mark, [Int64])? in
                guard let mark = try engine.snapshot(keeping: kept) else { return nil }
                return (mark, try log.snapshotMarks().map(\.seq))
            }
            guard let (mark, keptSeqs) = written else { return }  // the store failed; checks already answer 503
            bound = policy.onSnapshotWritten(seq: mark.seq, at: mark.atMs, keptSnapshotSeqs: keptSeqs,
                                             replayHorizonMs: replayHorizonMs())
            logger.debug("snapshot written", metadata: [
                "seq": "\(mark.seq)", "events_since_last": "\(events)", "ms_since_last": "\(elapsedMs)",
            ])
        } catch {
            policy.onSnapshotFailed(now: engine.clock.nowMs())
            logger.error("snapshot failed", metadata: ["error": "\(error)"])
            return
        }
        if let bound { await compact(bound) }
    }

    /// Deletes what `bound` allows, one chunk per blocking-pool job, so a
    /// commit waits behind one chunk at most and shutdown behind one job.
    private func compact(_ bound: SnapshotPolicy.CompactionBound) async {
        guard let log = engine.log else { return }
        let chunk = settings.snapshots.compactionChunk
        do {
            let horizon = try await NIOThreadPool.singleton.runIfActive { try log.compactionHorizon(bound) }
            var deleted = 0
            while !Task.isCancelled {
                let removed = try await NIOThreadPool.singleton.runIfActive { try log.deleteEvents(through: horizon, limit: chunk) }
                deleted += removed
                if removed < chunk { break }
            }
            if deleted > 0 {
                logger.debug("events compacted", metadata: ["deleted": "\(deleted)", "through_seq": "\(horizon)"])
            }
        } catch {
            logger.error("compaction failed", metadata: ["error": "\(error)"])
        }
    }

    private func checkpoint() async {
        let engine = engine
        do {
            // Blocking SQLite calls of a few ms: on NIO's blocking-IO pool, not the cooperative pool.
            let outcome = try await NIOThreadPool.singleton.runIfActive { try engine.checkpointWAL() }
            if let outcome { metrics?.setWALFrames(outcome.walFrames) }
        } catch {
            logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)"])
        }
    }

    /// Rows from the stored seq range (two primary-key lookups, not a
    /// scan); the age from the policy's last snapshot.
    private func exportLogFigures(_ policy: SnapshotPolicy) async {
        guard let log = engine.log else { return }
        let now = engine.clock.nowMs()
        do {
            let rows = try await NIOThreadPool.singleton.runIfActive { try log.storedEventCount() }
            metrics?.setEventLog(rows: rows, snapshotAgeSeconds: policy.last.map { Double(now - $0.atMs) / 1000 })
        } catch {
            logger.warning("reading event log figures failed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs when the service group shuts down: this service is first in the
    /// group, so it stops last, after the HTTP listener.
    private func drain() async {
        let engine = engine
        let kept = settings.snapshots.keptSnapshots
        do {
            try await NIOThreadPool.singleton.runIfActive {
                try engine.snapshot(keeping: kept)
                try engine.close()
            }
            logger.info("event log flushed and snapshotted")
        } catch {
            logger.error("flushing the event log failed", metadata: ["error": "\(error)"])
        }
    }
}
