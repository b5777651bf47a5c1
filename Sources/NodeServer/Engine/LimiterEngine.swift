import CoreMetrics
import EventStore
import LimiterCore
import Dispatch
import Synchronization

/// The node's counters: a `LimiterTable` behind one lock, fed to the event
/// log through a group committer.
///
/// An allowed hit is recorded in the table and submitted to the committer
/// under the same lock, so the log's order is the table's order and a
/// snapshot of the table corresponds to an exact log position. Its answer is
/// released only after the transaction holding its event commits: the output
/// gate of a Durable Object. Denials change nothing and answer at once.
///
/// When the store cannot record (a failed commit, a removed WAL, a log that
/// would not open), every check is answered by the ``UnavailablePolicy``
/// (`on_unavailable`) and nothing is recorded, until the ``StoreSupervisor``
/// installs a reopened log (see `LimiterEngine+Recovery.swift`).
public final class LimiterEngine: Sendable {
    /// Where admitted hits go: one state, so no check sees a store half replaced.
    enum Store {
        /// Serving: admitted hits are committed to the log through the committer.
        case open(EventLog, GroupCommitter)
        /// A commit failed or the WAL vanished. The log stays open until the
        /// supervisor retires it, so commits already queued finish first.
        case failed(EventLog, GroupCommitter, StoreFault)
        /// No log is open: it never opened, or it was retired after a fault.
        case closed(StoreFault)
    }

    struct State {
        var table: LimiterTable
        var store: Store
        /// Owners this node decided keys for in their stead (failover): their
        /// replication is refused until they import this node's counters.
        private(set) var fenced: Set<String> = []

        /// Adds owners to ``fenced``, up to ``maxFenced`` of them: the names come
        /// from peers, and a cluster has far fewer nodes (SWIM's member lists
        /// hold at most 4,096).
        mutating func fence(_ owners: some Sequence<String>) {
            for owner in owners where fenced.count < LimiterEngine.maxFenced { fenced.insert(owner) }
        }

        /// An owner that imported is no longer fenced.
        mutating func unfence(_ owner: String) { fenced.remove(owner) }
    }

    /// The most owners one node keeps fenced.
    static let maxFenced = 4_096

    public let nodeID: String
    let clock: any WallClock
    /// How checks are answered while the store cannot record.
    public let policy: UnavailablePolicy
    /// `rate_limit_unavailable_decisions_total` for this node's mode.
    private let unavailableDecisions: CoreMetrics.Counter?
    /// Counts group commits and their events (`EngineMetrics.groupCommitRecorder()`),
    /// for every committer this engine starts.
    let onCommit: (@Sendable (Int) -> Void)?
    /// How the table was rebuilt when the engine opened; nil when it started
    /// without a log.
    public let restoration: Restoration?
    /// Internal, not private: snapshots (`LimiterEngine+Snapshots.swift`) copy the table under it.
    let state: Mutex<State>
    /// Where copies of admitted hits go; nil when hits are single-copy.
    let replicas = Mutex<(any ReplicaSink)?>(nil)
    /// Called (off the lock) when a replica refused this node's copy because
    /// another node decided its keys meanwhile: the node must import.
    let onFenced = Mutex<(@Sendable (String) -> Void)?>(nil)

    /// Opens the engine over an event log, rebuilding the table from the
    /// latest snapshot plus the log tail (``EventLog/restoreTable(rules:)``);
    /// `rules` are those replayed events are applied with (the rules of the
    /// version serving their keys now).
    public init(nodeID: String, rules: [String: Rule], log: EventLog, clock: any WallClock,
                policy: UnavailablePolicy = UnavailablePolicy(), metrics: EngineMetrics? = nil) throws {
        self.nodeID = nodeID
        self.clock = clock
        self.policy = policy
        unavailableDecisions = metrics?.unavailableDecisions(mode: policy.mode)
        onCommit = metrics?.groupCommitRecorder()
        let restored = try log.restoreTable(rules: rules)
        restoration = Restoration(restored)
        state = Mutex(State(table: restored.table, store: .open(log, GroupCommitter(log: log, onCommit: onCommit))))
    }

    /// An engine without a log, answering by `policy` until a log is
    /// installed: the node starts even when its store cannot be opened.
    public init(nodeID: String, clock: any WallClock, fault: StoreFault,
                policy: UnavailablePolicy = UnavailablePolicy(), metrics: EngineMetrics? = nil) {
        self.nodeID = nodeID
        self.clock = clock
        self.policy = policy
        unavailableDecisions = metrics?.unavailableDecisions(mode: policy.mode)
        onCommit = metrics?.groupCommitRecorder()
        restoration = nil
        state = Mutex(State(table: LimiterTable(), store: .closed(fault)))
    }

    public var keyCount: Int { state.withLock { $0.table.count } }

    /// The log hits are committed to, or nil while the store is failed or closed.
    public var log: EventLog? {
        state.withLock { state in
            if case .open(let log, _) = state.store { return log }
            return nil
        }
    }

    /// Why the engine cannot take hits, or nil when it serves.
    public var fault: StoreFault? {
        state.withLock { state in
            switch state.store {
            case .open: nil
            case .failed(_, _, let fault), .closed(let fault): fault
            }
        }
    }

    /// ``fault``'s reason, as `/health` reports it.
    public var failure: String? { fault?.reason }

    /// What `check` did: answered at once, or admitted hits whose answer
    /// waits for their commit.
    public enum Outcome: Sendable {
        case done(Result<[CheckResult], APIProblem>)
        case committing
    }

    /// One check with the version and rule that decide it, resolved by the
    /// caller (the entry node chose the version, DESIGN §7).
    public struct ResolvedCheck: Sendable {
        public var request: CheckRequest
        public var rule: Rule
        public var version: String
        /// The unreachable nodes ahead of this one in the key's placement,
        /// when this node decides in their stead (failover); empty when it
        /// decides as the owner.
        public var standingInFor: [String]

        public init(request: CheckRequest, rule: Rule, version: String, standingInFor: [String] = []) {
            self.request = request
            self.rule = rule
            self.version = version
            self.standingInFor = standingInFor
        }
    }

    /// Decides checks in order. Denials and reads return `.done`; when any
    /// hit was admitted the result is `.committing` and `onCommit` runs once
    /// the transaction commits. If it fails, the admitted checks are
    /// answered by the ``policy`` instead, and the engine stops recording.
    ///
    /// With `commitHereIfIdle`, when the commit thread is idle the
    /// transaction runs on the calling thread before this returns (and
    /// `onCommit` with it, unless a copy to a replica is still on its way),
    /// saving two hand-offs between threads: for a caller holding a whole
    /// batch (an owner's forwarded batch), never for one request of many that
    /// a loop could still read and group. The calling thread waits for the
    /// fsync, so a stalled disk stalls it too.
    public func check(
        _ checks: [ResolvedCheck], commitHereIfIdle: Bool = false,
        onCommit: @escaping @Sendable (Result<[CheckResult], APIProblem>) -> Void
    ) -> Outcome {
        let now = clock.nowMs()
        let sink = replicas.withLock { $0 }
        var results: [CheckResult] = []
        results.reserveCapacity(checks.count)
        var events: [NewEvent] = []
        var admitted: [Int] = []
        // A commit reserved for this thread, run once the lock is released.
        var commitHere: (@Sendable () -> Void)?
        let serving: Bool = state.withLock { state in
            guard case .open(_, let committer) = state.store else { return false }
            // Read in place, field by field: a copy of a whole check would
            // retain every string it holds.
            for index in checks.indices {
                let hits = checks[index].request.hits
                let decision = state.table.check(rule: checks[index].rule, key: checks[index].request.key, hits: hits, now: now)
                if decision.allowed && hits > 0 {
                    events.append(NewEvent(namespace: checks[index].rule.namespaceID, key: checks[index].request.key,
                                           rule: checks[index].rule.name, atMs: now, hits: hits))
                    admitted.append(index)
                    if !checks[index].standingInFor.isEmpty { state.fence(checks[index].standingInFor) }
                }
                results.append(CheckResult(decision: decision, rule: checks[index].rule.name, version: checks[index].version,
                                           node: nodeID))
            }
            guard !events.isEmpty else { return true }
            let decided = results
            let admittedIndices = admitted
            // Admitted checks whose hits could not be recorded get the policy's answer.
            let unrecorded: @Sendable () -> [CheckResult] = { [self] in
                var answers = decided
                for index in admittedIndices { answers[index] = unavailableAnswer(checks[index]) }
                return answers
            }
            let copies = sink.map { replicate(admitted.map { checks[$0] }, events: events, table: state.table, sink: $0) } ?? []
            let join = ReplicationJoin(parts: 1 + copies.count) { [self] outcome in
                switch outcome {
                case .committed:
                    onCommit(.success(decided))
                case .storeFailed(let fault):
                    markFailed(fault, committer: committer)
                    onCommit(.success(unrecorded()))
                case .refused(let by, let reason):
                    onFenced.withLock { $0 }?(by)
                    onCommit(.failure(APIProblem(status: 503, code: "owner-fenced", title: "Owner is fenced",
                                                 detail: "\(by) refused \(nodeID)'s copy: \(reason)")))
                case .noReplica:
                    // With replicas = 2 a hit without its second copy is not recorded.
                    onCommit(.success(unrecorded()))
                }
            }
            let committed: @Sendable (Result<Int64, StoreError>) -> Void = { result in
                switch result {
                case .success: join.deliver(.committed)
                case .failure(let error): join.deliver(.storeFailed(StoreFault(error, while: "event log commit failed")))
                }
            }
            // Submitted (or reserved) under the lock: the log keeps the order of the decisions.
            if commitHereIfIdle {
                commitHere = committer.reserveOrSubmit(events, completion: committed)
            } else {
                committer.submit(events, completion: committed)
            }
            for copy in copies { copy.send(join) }
            return true
        }
        commitHere?()
        guard serving else { return .done(.success(checks.map(unavailableAnswer))) }
        return events.isEmpty ? .done(.success(results)) : .committing
    }

    /// What ``check(_:rule:version:onCommit:)`` did with one check.
    public enum SingleOutcome: Sendable {
        case done(Result<CheckResult, APIProblem>)
        case committing
    }

    /// One check, decided exactly as ``check(_:onCommit:)`` decides it but
    /// without its arrays: the route nearly every client calls.
    public func check(
        _ request: CheckRequest, rule: Rule, version: String,
        onCommit: @escaping @Sendable (Result<CheckResult, APIProblem>) -> Void
    ) -> SingleOutcome {
        if replicas.withLock({ $0 != nil }) {
            // Replicated hits take the batch path, which copies them.
            let outcome = check([ResolvedCheck(request: request, rule: rule, version: version)]) { result in
                onCommit(result.map { $0[0] })
            }
            switch outcome {
            case .committing: return .committing
            case .done(let result): return .done(result.map { $0[0] })
            }
        }
        let now = clock.nowMs()
        return state.withLock { state in
            guard case .open(_, let committer) = state.store else {
                return .done(.success(unavailableAnswer(rule: rule, hits: request.hits, version: version)))
            }
            let decision = state.table.check(rule: rule, key: request.key, hits: request.hits, now: now)
            let result = CheckResult(decision: decision, rule: rule.name, version: version, node: nodeID)
            guard decision.allowed && request.hits > 0 else { return .done(.success(result)) }
            let event = NewEvent(namespace: rule.namespaceID, key: request.key, rule: rule.name, atMs: now, hits: request.hits)
            committer.submit([event]) { [self] committed in
                switch committed {
                case .success:
                    onCommit(.success(result))
                case .failure(let error):
                    markFailed(StoreFault(error, while: "event log commit failed"), committer: committer)
                    onCommit(.success(unavailableAnswer(rule: rule, hits: request.hits, version: version)))
                }
            }
            return .committing
        }
    }

    /// The ``policy``'s answer, counted in `rate_limit_unavailable_decisions_total`.
    func unavailableAnswer(_ check: ResolvedCheck) -> CheckResult {
        unavailableAnswer(rule: check.rule, hits: check.request.hits, version: check.version)
    }

    private func unavailableAnswer(rule: Rule, hits: Int, version: String) -> CheckResult {
        unavailableDecisions?.increment()
        return CheckResult(decision: policy.decide(rule: rule, hits: hits), rule: rule.name, version: version, node: nodeID)
    }

    /// Drops counters that are fully available again under `rules`, bounding memory.
    public func prune(rules: [String: Rule]) {
        let now = clock.nowMs()
        state.withLock { _ = $0.table.prune(now: now, rules: rules) }
    }

    /// Waits for every submitted event to commit, then stops the committer.
    public func close() throws {
        let committer: GroupCommitter? = state.withLock { state in
            switch state.store {
            case .open(_, let committer), .failed(_, let committer, _): committer
            case .closed: nil
            }
        }
        guard let committer else { return }
        let flushed = Result { () throws(StoreError) in try committer.flush() }
        committer.close()
        _ = try flushed.get()
    }
}
