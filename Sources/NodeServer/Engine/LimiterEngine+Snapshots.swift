import Dispatch
import EventStore
import LimiterCore
import Synchronization

extension LimiterEngine {
    /// How the engine's table was rebuilt when it opened, for the start-up log.
    public struct Restoration: Sendable, Equatable {
        /// The snapshot loaded; nil when the log had none that could be read.
        public var snapshot: SnapshotPolicy.Mark?
        /// Events replayed after it.
        public var replayedEvents: Int
        /// Newer snapshots skipped: not decodable, or events after them deleted.
        public var unreadableSnapshots: [RestoredTable.UnreadableSnapshot]

        init(_ restored: RestoredTable) {
            snapshot = restored.snapshot
            replayedEvents = restored.replayedEvents
            unreadableSnapshots = restored.unreadableSnapshots
        }
    }

    /// Writes a snapshot at an exact log position and returns it: the table
    /// is copied and a flush marker queued under the same lock, so the
    /// marker's commit reports the seq of the last event the copy contains.
    /// Keeps the newest `kept` snapshots. Returns nil without writing while
    /// the store is failed or closed (the table may count hits the log lacks).
    ///
    /// It blocks until that commit and the file write: call it from a
    /// blocking-IO thread.
    @discardableResult
    public func snapshot(keeping kept: Int = EventLog.keptSnapshots) throws -> SnapshotPolicy.Mark? {
        let position = Mutex<Result<Int64, StoreError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let copy: (LimiterTable, EventLog, GroupCommitter)? = state.withLock { state in
            guard case .open(let log, let committer) = state.store else { return nil }
            committer.submit([]) { result in
                position.withLock { $0 = result }
                done.signal()
            }
            return (state.table, log, committer)
        }
        guard let (table, log, committer) = copy else { return nil }
        done.wait()
        guard let committed = position.withLock({ $0 }) else { return nil }
        let seq = try committed.get()
        // A commit that failed before the marker leaves hits in the copy
        // that the log lacks; its completion marked the store failed first
        // (completions run in commit order), so this sees it.
        guard isServing(through: committer) else { return nil }
        let now = clock.nowMs()
        try log.writeSnapshot(seq: seq, state: table.encodeSnapshot(), at: now, keeping: kept)
        return SnapshotPolicy.Mark(seq: seq, atMs: now)
    }
}

extension LimiterEngine {
    /// Checkpoints the WAL from its own connection, off the commit path
    /// (``EventLog/checkpoint()``), then has the commit thread copy, between
    /// two transactions, the frames committed meanwhile
    /// (``GroupCommitter/restartWAL(completion:)``), so the next transaction
    /// writes the WAL from its start instead of growing it. Returns the
    /// frames the WAL held when the checkpoint ran (written since its last
    /// restart) and whether it is now wholly copied; nil while the store is
    /// failed or closed.
    ///
    /// It blocks until the commit thread has done it: call it from a
    /// blocking-IO thread.
    @discardableResult
    public func checkpointWAL() throws -> (walFrames: Int, restarted: Bool)? {
        let store: (EventLog, GroupCommitter)? = state.withLock { state in
            guard case .open(let log, let committer) = state.store else { return nil }
            return (log, committer)
        }
        guard let (log, committer) = store else { return nil }
        let walFrames = try log.checkpoint().walFrames
        return (walFrames, try committer.restartWAL())
    }
}
