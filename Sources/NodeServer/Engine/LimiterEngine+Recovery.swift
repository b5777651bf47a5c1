import EventStore
import LimiterCore

/// The engine's side of a storage fault: failing, retiring the log, and
/// serving again from a reopened one. The ``StoreSupervisor`` drives it.
///
/// Why the counts stay safe across a fault. An admitted hit enters the
/// table before its commit; if the commit fails, the table counts a hit the
/// log lacks (an over-count: it can only deny more, never admit more). While
/// failed or closed, checks are answered by the policy and leave the table
/// alone. Installing a log rebuilds the table from that log's latest
/// snapshot plus its tail, after the old committer has finished everything
/// queued, so memory then holds exactly what is durable: the uncommitted hits
/// are gone and every acknowledged one is there (it was acknowledged only
/// once committed). An under-count would need an acknowledged hit missing
/// from the reopened log, which is why a removed WAL is folded into the
/// database through the old descriptors before the old log is closed.
extension LimiterEngine {
    /// The store's state as the supervisor sees it.
    public enum StoreStatus: Sendable {
        case serving(EventLog)
        case failed(StoreFault)
        case closed(StoreFault)
    }

    public var storeStatus: StoreStatus {
        state.withLock { state in
            switch state.store {
            case .open(let log, _): .serving(log)
            case .failed(_, _, let fault): .failed(fault)
            case .closed(let fault): .closed(fault)
            }
        }
    }

    /// Stops recording: from now on checks are answered by the policy.
    /// Returns false when the store was not serving (already failed or closed).
    @discardableResult
    public func markFailed(_ fault: StoreFault) -> Bool {
        state.withLock { state in
            guard case .open(let log, let committer) = state.store else { return false }
            state.store = .failed(log, committer, fault)
            return true
        }
    }

    /// A commit through `committer` failed: fail the store only if that
    /// committer still serves it (a retired one's late failures change nothing).
    func markFailed(_ fault: StoreFault, committer: GroupCommitter) {
        state.withLock { state in
            guard case .open(let log, let serving) = state.store, serving === committer else { return }
            state.store = .failed(log, committer, fault)
        }
    }

    /// Whether `committer` is the one the serving store commits through.
    func isServing(through committer: GroupCommitter) -> Bool {
        state.withLock { state in
            guard case .open(_, let serving) = state.store else { return false }
            return serving === committer
        }
    }

    /// Takes the log out of a failed engine, which is `closed` from here on,
    /// after its committer has run every submission queued before the fault
    /// (each is committed or answered by the policy). The caller closes the
    /// log. Nil when the store is not failed.
    public func retireFailedStore() -> (log: EventLog, fault: StoreFault)? {
        let retired: (EventLog, GroupCommitter, StoreFault)? = state.withLock { state in
            guard case .failed(let log, let committer, let fault) = state.store else { return nil }
            state.store = .closed(fault)
            return (log, committer, fault)
        }
        guard let (log, committer, fault) = retired else { return nil }
        // Blocks until the commit thread has drained and exited.
        committer.close()
        return (log, fault)
    }

    /// Replaces the reason a closed store reports (the latest reopen attempt's).
    public func updateFault(_ fault: StoreFault) {
        state.withLock { state in
            if case .closed = state.store { state.store = .closed(fault) }
        }
    }

    /// Serves again from `log`: rebuilds the table from its latest snapshot
    /// plus its tail, so memory matches what is durable, and starts a new
    /// committer. Only a closed engine takes a log.
    ///
    /// - Throws: ``NodeError`` `store_not_closed` naming the state when the
    ///   engine is serving or failed; what the rebuild throws (a corrupt
    ///   snapshot or page), leaving the engine closed.
    public func install(_ log: EventLog, rules: [String: Rule]) throws {
        try requireClosed(toInstall: log)
        let table = try log.restoreTable(rules: rules).table
        let committer = GroupCommitter(log: log, onCommit: onCommit)
        let installed: Bool = state.withLock { state in
            guard case .closed = state.store else { return false }
            state.table = table
            state.store = .open(log, committer)
            return true
        }
        if !installed {
            committer.close()
            try requireClosed(toInstall: log)
        }
    }

    private func requireClosed(toInstall log: EventLog) throws(NodeError) {
        let current = storeStatus
        switch current {
        case .closed:
            return
        case .serving(let serving):
            throw NodeError(code: "store_not_closed", message:
                "cannot install the event log \(log.path): the engine still serves from \(serving.path)")
        case .failed(let fault):
            throw NodeError(code: "store_not_closed", message:
                "cannot install the event log \(log.path): the failed log is not retired yet (\(fault.reason))")
        }
    }
}
