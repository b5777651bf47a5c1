/// When a node snapshots its limiter table, and which logged events it may
/// delete afterwards. A pure value: the log's last `seq`, the snapshots kept
/// and the time are passed in; the shell (`MaintenanceService`) writes the
/// snapshot and runs the deletes.
///
/// ## Snapshots
///
/// A snapshot is due when ``Settings/everyEvents`` events were appended since
/// the last one, or ``Settings/intervalMs`` passed. The count bounds a crash
/// restart's replay under load (a node replays 100,000 events in about
/// 0.06 s, BENCHMARKS.md) while keeping snapshots, each a copy and encoding
/// of the whole table, to one every second or two at a single node's peak
/// rate; the interval bounds the replay at low load and keeps `snapshot_age`
/// meaningful, so it fires even when nothing was appended.
///
/// ## Which events may go
///
/// A restart loads a snapshot, which holds every counter's full state as of
/// its `seq`, and replays only the events after that `seq`. So an event is
/// needed by a restart exactly when it comes after the snapshot the restart
/// starts from:
///
/// 1. From the newest snapshot: the events after it.
/// 2. From an older kept snapshot, when the newest cannot be decoded
///    (`EventLog.restoreTable` falls back): the events after that one. Hence
///    only events up to the *oldest* kept snapshot are candidates, never up
///    to the newest.
/// 3. From no snapshot at all, when none can be decoded (a torn file, a
///    snapshot format this build cannot read): then the events themselves
///    are the only record, and a counter's state at `now` depends on the
///    hits of its rule's ``Rule/replayHorizonMs`` (twice the period for
///    `sliding_window`, whose estimate weighs the previous window). Hence
///    events inside the longest horizon of any installed rule are kept even
///    though a snapshot covers them: deleting one would lose its count on
///    such a restart. (For `token_bucket` and `gcra` no horizon is exact;
///    see ``Rule/replayHorizonMs``.)
///
/// An event is deleted only when it is both covered (`seq` at or before the
/// oldest kept snapshot) and older than the longest horizon. Under steady
/// load the log then holds at most the events of one horizon or those since
/// the oldest kept snapshot, whichever reaches further back: a bound that
/// does not grow with history.
public struct SnapshotPolicy: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        /// Snapshot after this many appended events (at least 1).
        public var everyEvents: Int64 = 100_000
        /// Snapshot when this many ms passed since the last one (at least 1).
        public var intervalMs: Int64 = 30_000
        /// Snapshots kept in the store, newest first: the newest and
        /// `keptSnapshots - 1` to fall back on (at least 1).
        public var keptSnapshots: Int = 2
        /// Rows deleted per transaction, so an append never waits behind a
        /// long delete (at least 1).
        public var compactionChunk: Int = 10_000

        public init() {}

        public static let everyEventsRange: ClosedRange<Int64> = 1...Int64(Int32.max)
        public static let intervalMsRange: ClosedRange<Int64> = 1...86_400_000
        public static let keptSnapshotsRange: ClosedRange<Int> = 1...100
        public static let compactionChunkRange: ClosedRange<Int> = 1...1_000_000

        /// The first setting outside its range, named as in this struct, or
        /// nil when all are valid.
        public var problem: String? {
            if !Self.everyEventsRange.contains(everyEvents) {
                return "everyEvents must be in \(Self.everyEventsRange), got \(everyEvents)"
            }
            if !Self.intervalMsRange.contains(intervalMs) {
                return "intervalMs must be in \(Self.intervalMsRange), got \(intervalMs)"
            }
            if !Self.keptSnapshotsRange.contains(keptSnapshots) {
                return "keptSnapshots must be in \(Self.keptSnapshotsRange), got \(keptSnapshots)"
            }
            if !Self.compactionChunkRange.contains(compactionChunk) {
                return "compactionChunk must be in \(Self.compactionChunkRange), got \(compactionChunk)"
            }
            return nil
        }
    }

    /// A snapshot's position in the log and when it was taken.
    public struct Mark: Sendable, Equatable {
        public var seq: Int64
        public var atMs: Int64
        public init(seq: Int64, atMs: Int64) {
            self.seq = seq
            self.atMs = atMs
        }
    }

    /// What a tick asks the shell to do.
    public enum TickDirective: Sendable, Equatable {
        case wait
        /// Write a snapshot: `events` were appended and `elapsedMs` passed
        /// since the last one (or since the policy started, before any).
        case snapshot(events: Int64, elapsedMs: Int64)
    }

    /// The events a compaction may delete: those with `seq <= throughSeq`
    /// logged before `olderThanMs`. `EventLog.compactionHorizon` turns it
    /// into a prefix of the log.
    public struct CompactionBound: Sendable, Equatable {
        public var throughSeq: Int64
        public var olderThanMs: Int64
        public init(throughSeq: Int64, olderThanMs: Int64) {
            self.throughSeq = throughSeq
            self.olderThanMs = olderThanMs
        }
    }

    public let settings: Settings
    /// The newest snapshot written, nil before the first.
    public private(set) var last: Mark?
    /// Where the interval counts from before the first snapshot.
    private let startedAtMs: Int64
    /// After a failed snapshot, no new attempt before this time.
    public private(set) var retryAtMs: Int64?

    /// - Parameters:
    ///   - latest: the newest snapshot already in the store, if any.
    ///   - now: ms since the epoch; before any snapshot, the interval counts
    ///     from here.
    public init(settings: Settings = Settings(), latest: Mark?, now: Int64) {
        self.settings = settings
        self.last = latest
        self.startedAtMs = now
    }

    /// Called every maintenance tick with the log's last committed `seq`.
    public func onTick(lastSeq: Int64, now: Int64) -> TickDirective {
        if let retryAtMs, now < retryAtMs { return .wait }
        let events = lastSeq - (last?.seq ?? 0)
        let elapsed = now - (last?.atMs ?? startedAtMs)
        if events >= settings.everyEvents || elapsed >= settings.intervalMs {
            return .snapshot(events: events, elapsedMs: elapsed)
        }
        return .wait
    }

    /// Records a snapshot written at `seq` at time `at`, and returns which
    /// events may now be deleted (see the type's discussion).
    ///
    /// - Parameters:
    ///   - keptSnapshotSeqs: the `seq` of every snapshot in the store after
    ///     this one was written.
    ///   - replayHorizonMs: the longest ``Rule/replayHorizonMs`` of every
    ///     rule installed on the node.
    /// - Returns: nil when no snapshot is kept (nothing is covered).
    public mutating func onSnapshotWritten(
        seq: Int64, at: Int64, keptSnapshotSeqs: [Int64], replayHorizonMs: Int64
    ) -> CompactionBound? {
        last = Mark(seq: seq, atMs: at)
        retryAtMs = nil
        return Self.compactionBound(keptSnapshotSeqs: keptSnapshotSeqs, replayHorizonMs: replayHorizonMs, now: at)
    }

    /// Records a failed snapshot attempt: the next one waits a whole
    /// interval, so a failing disk is not retried every tick.
    public mutating func onSnapshotFailed(now: Int64) {
        retryAtMs = now + settings.intervalMs
    }

    /// The events that may be deleted at `now`: covered by the oldest kept
    /// snapshot, and older than `replayHorizonMs`. Nil without a snapshot.
    public static func compactionBound(keptSnapshotSeqs: [Int64], replayHorizonMs: Int64, now: Int64) -> CompactionBound? {
        guard let oldest = keptSnapshotSeqs.min() else { return nil }
        let (cutoff, overflow) = now.subtractingReportingOverflow(max(0, replayHorizonMs))
        return CompactionBound(throughSeq: oldest, olderThanMs: overflow ? .min : cutoff)
    }
}
