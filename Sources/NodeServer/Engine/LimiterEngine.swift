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
public final class LimiterEngine: Sendable {
    struct State {
        var table: LimiterTable
        /// Set when a commit failed: the table then counts hits the log lacks.
        var storeFailure: String?
    }

    public let nodeID: String
    let clock: any WallClock
    let log: EventLog
    let committer: GroupCommitter
    /// How the table was rebuilt when the engine opened.
    public let restoration: Restoration
    /// Internal, not private: snapshots (`LimiterEngine+Snapshots.swift`) copy the table under it.
    let state: Mutex<State>

    /// Opens the engine over an event log, rebuilding the table from the
    /// latest snapshot plus the log tail (``EventLog/restoreTable(rules:)``);
    /// `rules` are those replayed events are applied with (the rules of the
    /// version serving their keys now).
    public init(nodeID: String, rules: [String: Rule], log: EventLog, clock: any WallClock) throws {
        self.nodeID = nodeID
        self.clock = clock
        self.log = log
        let restored = try log.restoreTable(rules: rules)
        restoration = Restoration(restored)
        state = Mutex(State(table: restored.table))
        committer = GroupCommitter(log: log)
    }

    public var keyCount: Int { state.withLock { $0.table.count } }

    /// Why the engine cannot take hits, or nil when healthy.
    public var failure: String? { state.withLock { $0.storeFailure } }

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

        public init(request: CheckRequest, rule: Rule, version: String) {
            self.request = request
            self.rule = rule
            self.version = version
        }
    }

    /// Decides checks in order. Denials and reads return `.done`; when any
    /// hit was admitted the result is `.committing` and `onCommit` runs once
    /// the transaction commits.
    public func check(
        _ checks: [ResolvedCheck],
        onCommit: @escaping @Sendable (Result<[CheckResult], APIProblem>) -> Void
    ) -> Outcome {
        let now = clock.nowMs()
        var results: [CheckResult] = []
        results.reserveCapacity(checks.count)
        var events: [NewEvent] = []
        let failure: String? = state.withLock { state in
            if let failure = state.storeFailure { return failure }
            for check in checks {
                let rule = check.rule
                let decision = state.table.check(rule: rule, key: check.request.key, hits: check.request.hits, now: now)
                if decision.allowed && check.request.hits > 0 {
                    events.append(NewEvent(namespace: rule.namespaceID, key: check.request.key, rule: rule.name,
                                           atMs: now, hits: check.request.hits))
                }
                results.append(CheckResult(decision: decision, rule: rule.name, version: check.version, node: nodeID))
            }
            if !events.isEmpty {
                let decided = results
                committer.submit(events) { [self] result in
                    switch result {
                    case .success:
                        onCommit(.success(decided))
                    case .failure(let error):
                        markFailed("event log commit failed: \(error.message)")
                        onCommit(.failure(.unavailable("event log commit failed; hit not recorded")))
                    }
                }
            }
            return nil
        }
        if let failure { return .done(.failure(.unavailable(failure))) }
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
        let now = clock.nowMs()
        return state.withLock { state in
            if let failure = state.storeFailure { return .done(.failure(.unavailable(failure))) }
            let decision = state.table.check(rule: rule, key: request.key, hits: request.hits, now: now)
            let result = CheckResult(decision: decision, rule: rule.name, version: version, node: nodeID)
            guard decision.allowed && request.hits > 0 else { return .done(.success(result)) }
            let event = NewEvent(namespace: rule.namespaceID, key: request.key, rule: rule.name, atMs: now, hits: request.hits)
            committer.submit([event]) { [self] committed in
                switch committed {
                case .success:
                    onCommit(.success(result))
                case .failure(let error):
                    markFailed("event log commit failed: \(error.message)")
                    onCommit(.failure(.unavailable("event log commit failed; hit not recorded")))
                }
            }
            return .committing
        }
    }

    private func markFailed(_ reason: String) {
        state.withLock { if $0.storeFailure == nil { $0.storeFailure = reason } }
    }

    /// Drops counters that are fully available again under `rules`, bounding memory.
    public func prune(rules: [String: Rule]) {
        let now = clock.nowMs()
        state.withLock { _ = $0.table.prune(now: now, rules: rules) }
    }

    /// Waits for every submitted event to commit, then stops the committer.
    public func close() throws {
        try committer.flush()
        committer.close()
    }
}
