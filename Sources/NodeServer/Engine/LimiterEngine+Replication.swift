import EventStore
import LimiterCore
import Placement
import Synchronization

/// Where the engine sends the copy of each admitted hit (DESIGN §6,
/// `replicas = 2`): the cluster's replicator. A node without one keeps a
/// single copy.
protocol ReplicaSink: Sendable {
    /// The nodes that may hold the copy of `key` decided here, in placement
    /// order after this node, leaving out `skipping` (owners this node stands
    /// in for). Empty when no other node is on the ring.
    func candidates(namespace: String, key: String, skipping: [String]) -> [String]

    /// Sends a copy to the first candidate that answers; a candidate that is
    /// unreachable gives way to the next. Completes once.
    func send(_ copy: ReplicaCopy, to candidates: [String], completion: @escaping @Sendable (CopyOutcome) -> Void)
}

/// One copy for one replica: admitted events and the counters' states after
/// the decision.
struct ReplicaCopy: Sendable {
    var events: [ReplicationBatch.Event]
    var states: [UInt8]
    /// Owners the decider stood in for: the receiver fences them too, so an
    /// owner that wakes with stale counts cannot get its copy accepted
    /// there either (its own view may name another replica than the stand-in).
    var fences: [String] = []
}

/// How a copy ended.
enum CopyOutcome: Sendable, Equatable {
    /// A replica committed it.
    case committed
    /// A replica refused it: another node decided these keys meanwhile.
    case refused(by: String, reason: String)
    /// No candidate could be reached.
    case noReplica(reason: String)
}

/// Waits for the local commit and every copy, then completes once with the
/// first failure or with success.
final class ReplicationJoin: Sendable {
    enum Outcome: Sendable {
        case committed
        case storeFailed(StoreFault)
        case refused(by: String, reason: String)
        case noReplica(String)
    }

    private struct State {
        var remaining: Int
        var failure: Outcome?
    }

    private let state: Mutex<State>
    private let completion: @Sendable (Outcome) -> Void

    init(parts: Int, completion: @escaping @Sendable (Outcome) -> Void) {
        state = Mutex(State(remaining: parts))
        self.completion = completion
    }

    func deliver(_ outcome: Outcome) {
        let finished: Outcome? = state.withLock { state in
            if case .committed = outcome {} else if state.failure == nil { state.failure = outcome }
            state.remaining -= 1
            return state.remaining == 0 ? (state.failure ?? .committed) : nil
        }
        if let finished { completion(finished) }
    }
}

extension LimiterEngine {
    /// A copy ready to go, built under the engine's lock so copies leave in
    /// decision order.
    struct PendingCopy: Sendable {
        let copy: ReplicaCopy
        let candidates: [String]
        let sink: any ReplicaSink

        func send(_ join: ReplicationJoin) {
            // With replicas = 2 a hit needs a second copy: a node that sees no
            // other alive node (alone, or on the small side of a partition)
            // cannot make one, so it does not acknowledge the hit.
            if candidates.isEmpty { return join.deliver(.noReplica("no other alive node on the ring to hold a copy")) }
            sink.send(copy, to: candidates) { outcome in
                switch outcome {
                case .committed: join.deliver(.committed)
                case .refused(let by, let reason): join.deliver(.refused(by: by, reason: reason))
                case .noReplica(let reason): join.deliver(.noReplica(reason))
                }
            }
        }
    }

    /// The copies of admitted `checks` (with their `events`), one per set of
    /// candidate replicas; keys with no other node on the ring get one with no
    /// candidates, which fails.
    func replicate(_ checks: [ResolvedCheck], events: [NewEvent], table: LimiterTable, sink: any ReplicaSink) -> [PendingCopy] {
        var groups: [[String]: [Int]] = [:]
        for (index, check) in checks.enumerated() {
            let candidates = sink.candidates(namespace: check.rule.namespaceID, key: check.request.key, skipping: check.standingInFor)
            groups[candidates, default: []].append(index)
        }
        return groups.map { candidates, indices in
            let counters = indices.map { CounterKey(rule: checks[$0].rule.name, key: checks[$0].request.key) }
            let copied = indices.map { index in
                let event = events[index]
                return ReplicationBatch.Event(namespace: event.namespace, rule: event.rule, key: event.key,
                                              atMs: event.atMs, hits: event.hits)
            }
            let fences = Set(indices.flatMap { checks[$0].standingInFor }).sorted()
            return PendingCopy(copy: ReplicaCopy(events: copied, states: table.subset(counters).encodeSnapshot(), fences: fences),
                               candidates: candidates, sink: sink)
        }
    }

    /// Why a replica refuses a copy, or nil to accept it.
    enum ReplicaVerdict: Sendable, Equatable {
        case accept
        case refuse(String)
        /// This node's store cannot record: not a fence, the copy just fails.
        case cannotRecord(String)
    }

    /// A copy from `sender`: its states replace this node's and its events
    /// are appended to this log; `completion` runs after the commit. Refused
    /// when this node stood in for `sender`, or took a copy of a decision made
    /// in `sender`'s stead (`fences`), since `sender` last imported; or when
    /// `ownsHere` says this node owns one of the keys under its own view (the
    /// sender decided them on a stale view).
    ///
    /// A copy's states replace this node's. States sent with no events (a
    /// leaving owner's hand-off, a resync) travel apart from the copies and
    /// may be older than one already taken, so per counter the state with
    /// the least remaining now wins, as in ``importStates(_:rules:)``: they
    /// never lower a count of a rule this node runs.
    func applyCopy(from sender: String, events: [ReplicationBatch.Event], states: LimiterTable, fences: [String] = [],
                   ownsHere: (_ namespace: String, _ key: String) -> Bool,
                   rules: [String: Rule],
                   completion: @escaping @Sendable (Result<Void, APIProblem>) -> Void) {
        let verdict: ReplicaVerdict = state.withLock { state in
            let committer: GroupCommitter
            switch state.store {
            case .open(_, let serving): committer = serving
            case .failed(_, _, let fault), .closed(let fault): return .cannotRecord("\(nodeID) cannot record: \(fault.reason)")
            }
            if state.fenced.contains(sender) {
                return .refuse("\(nodeID) holds counters decided in \(sender)'s stead; \(sender) must import first")
            }
            // The sender stood in for these owners: so does this copy.
            state.fence(fences.filter { $0 != nodeID })
            for event in events where ownsHere(event.namespace, event.key) {
                return .refuse("\(nodeID) owns \(event.key) under its view")
            }
            for counter in states.states.keys {
                if let namespace = rules[counter.rule]?.namespaceID, ownsHere(namespace, counter.key) {
                    return .refuse("\(nodeID) owns \(counter.key) under its view")
                }
            }
            guard !events.isEmpty else {
                state.table.overwrite(with: Self.moreUsed([states], than: state.table, rules: rules, now: clock.nowMs(),
                                                          takingUnknownRules: true))
                return .accept
            }
            state.table.overwrite(with: states)
            committer.submit(events.map(\.newEvent)) { [self] result in
                switch result {
                case .success: completion(.success(()))
                case .failure(let error):
                    markFailed(StoreFault(error, while: "committing a replica's copy"), committer: committer)
                    completion(.failure(.unavailable("\(nodeID) could not commit the copy: \(error.message)")))
                }
            }
            return .accept
        }
        switch verdict {
        case .refuse(let reason):
            completion(.failure(APIProblem(status: 409, code: "replica-refused", title: "Copy refused", detail: reason)))
        case .cannotRecord(let reason):
            completion(.failure(.unavailable(reason)))
        case .accept where events.isEmpty:
            completion(.success(()))
        case .accept:
            break
        }
    }

    /// One page of the counters `requester` holds a place for (owner or one
    /// of the `places` first nodes) under `ring`, in counter order after
    /// `after`, at most `limit`; and the last counter when more may follow.
    /// The first page lifts the fence on `requester` in the same step as it
    /// takes the table, so whatever this node decides for it afterwards
    /// fences it again. The table is copied under the lock and filtered
    /// outside it, so checks do not wait for the scan.
    func export(for requester: String, ring: HashRing, places: Int, namespaceOf: (String) -> String?,
                after: CounterKey? = nil, limit: Int = .max) -> (states: LimiterTable, next: CounterKey?) {
        let table = state.withLock { state in
            if after == nil { state.unfence(requester) }
            return state.table
        }
        var counters = table.states.keys.filter { counter in
            if let after, !(after < counter) { return false }
            guard let namespace = namespaceOf(counter.rule) else { return false }
            return ring.replicas(namespace: namespace, key: counter.key, count: places).contains(requester)
        }
        guard counters.count > limit else { return (table.subset(counters), nil) }
        counters.sort()
        let page = counters.prefix(limit)
        return (table.subset(page), page.last)
    }

    /// Takes imported counters: per counter, the state with the least
    /// remaining now (this node's own included) wins, so an import never
    /// lowers a count. A node's state can be stale (it missed copies while it
    /// was paused or cut off), never ahead of what was admitted, except for
    /// hits it counted but could not copy (which only deny more). Returns the
    /// counters taken from the imports.
    @discardableResult
    func importStates(_ imports: [LimiterTable], rules: [String: Rule]) -> LimiterTable {
        let now = clock.nowMs()
        return state.withLock { state in
            let taken = Self.moreUsed(imports, than: state.table, rules: rules, now: now, takingUnknownRules: false)
            state.table.overwrite(with: taken)
            return taken
        }
    }

    /// The states of `tables` that `table` should take: per counter, the one
    /// with the least remaining at `now` when that is less than `table`'s own
    /// (a counter `table` lacks has all remaining). A state of a rule not in
    /// `rules` has nothing to compare by: it is taken as it comes when
    /// `takingUnknownRules`, else left out.
    private static func moreUsed(_ tables: [LimiterTable], than table: LimiterTable, rules: [String: Rule], now: Int64,
                                 takingUnknownRules: Bool) -> LimiterTable {
        var taken = LimiterTable()
        var best: [CounterKey: Int] = [:]
        for candidate in tables {
            for (counter, counterState) in candidate.states {
                guard let rule = rules[counter.rule] else {
                    if takingUnknownRules { taken.overwrite(with: candidate.subset([counter])) }
                    continue
                }
                let remaining = remaining(counterState, rule: rule, key: counter.key, now: now)
                let current = best[counter]
                    ?? table.state(rule: counter.rule, key: counter.key).map { Self.remaining($0, rule: rule, key: counter.key, now: now) }
                    ?? Int.max
                guard remaining < current else { continue }
                best[counter] = remaining
                taken.overwrite(with: candidate.subset([counter]))
            }
        }
        return taken
    }

    /// What a read (0 hits) of `state` under `rule` reports as remaining at `now`.
    private static func remaining(_ state: CounterState, rule: Rule, key: String, now: Int64) -> Int {
        var table = LimiterTable(counter: CounterKey(rule: rule.name, key: key), state: state)
        return table.check(rule: rule, key: key, hits: 0, now: now).remaining
    }

    /// The counters this node owns under `ring` whose copy belongs on
    /// `target` (the next node after this one), queued to it in order with
    /// the copies of decisions: a resync after membership changed.
    func resync(to target: String, ring: HashRing, namespaceOf: (String) -> String?,
                completion: @escaping @Sendable (CopyOutcome) -> Void) {
        guard let sink = replicas.withLock({ $0 }) else { return completion(.committed) }
        let queued: Bool = state.withLock { state in
            let owned = state.table.filter { counter in
                guard let namespace = namespaceOf(counter.rule) else { return false }
                let places = ring.replicas(namespace: namespace, key: counter.key, count: 2)
                return places.first == nodeID && places.dropFirst().first == target
            }
            guard owned.count > 0 else { return false }
            sink.send(ReplicaCopy(events: [], states: owned.encodeSnapshot()), to: [target], completion: completion)
            return true
        }
        if !queued { completion(.committed) }
    }

    /// Refuses copies from `nodes` until they import: they left this node's
    /// ring, so others decide their keys now and their counts go stale.
    func fence(_ nodes: some Sequence<String>) {
        state.withLock { $0.fence(nodes) }
    }

    /// Owners this node stands in for until they import (diagnostics, tests).
    var fencedOwners: Set<String> { state.withLock { $0.fenced } }
}
