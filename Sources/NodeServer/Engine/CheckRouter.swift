import LimiterCore
import Synchronization

/// Where a key lives now: the owner of `(namespace, key)` on the current ring.
public protocol OwnerLookup: Sendable {
    /// The owning node id, or nil when this node should decide (no ring yet).
    func owner(namespace: String, key: String) -> String?
}

/// Sends checks to the node that owns their keys and returns its decisions.
public protocol CheckForwarding: Sendable {
    func forward(_ requests: [CheckRequest], to owner: String,
                 completion: @escaping @Sendable (Result<[CheckResult], APIProblem>) -> Void)
}

/// Splits checks between the local engine and their owners (DESIGN §6:
/// any node answers any key; only the owner decides and appends the event).
public final class CheckRouter: Sendable {
    public let engine: LimiterEngine
    let placement: (any OwnerLookup)?
    let forwarder: (any CheckForwarding)?

    public init(engine: LimiterEngine, placement: (any OwnerLookup)? = nil, forwarder: (any CheckForwarding)? = nil) {
        self.engine = engine
        self.placement = placement
        self.forwarder = forwarder
    }

    /// The owner of a request's key, or nil when it is this node's.
    @inline(__always)
    func remoteOwner(of request: CheckRequest) -> String? {
        guard let placement, forwarder != nil, let rule = engine.ruleSet.rules[request.rule],
              let owner = placement.owner(namespace: rule.namespaceID, key: request.key),
              owner != engine.nodeID
        else { return nil }
        return owner
    }

    /// One check, here or at its owner; `rule` is the request's rule.
    public func check(
        _ request: CheckRequest, rule: Rule,
        completion: @escaping @Sendable (Result<CheckResult, APIProblem>) -> Void
    ) -> LimiterEngine.SingleOutcome {
        if let placement, let forwarder, let owner = placement.owner(namespace: rule.namespaceID, key: request.key),
           owner != engine.nodeID {
            forwarder.forward([request], to: owner) { result in
                completion(result.flatMap { results in
                    results.first.map { .success($0) } ?? .failure(.unavailable("an owner answered 0 results for 1 checks"))
                })
            }
            return .committing
        }
        return engine.check(request, rule: rule, onCommit: completion)
    }

    /// Decides checks here or at their owners; `.done` when every answer was
    /// ready at once, otherwise `completion` runs with all results in order.
    public func check(
        _ requests: [CheckRequest],
        completion: @escaping @Sendable (Result<[CheckResult], APIProblem>) -> Void
    ) -> LimiterEngine.Outcome {
        if requests.count == 1 {
            if let owner = remoteOwner(of: requests[0]), let forwarder {
                forwarder.forward(requests, to: owner, completion: completion)
                return .committing
            }
            return engine.check(requests, onCommit: completion)
        }
        var groups: [String: [Int]] = [:]
        var localIndices: [Int] = []
        for (index, request) in requests.enumerated() {
            if let owner = remoteOwner(of: request) { groups[owner, default: []].append(index) } else { localIndices.append(index) }
        }
        if groups.isEmpty { return engine.check(requests, onCommit: completion) }
        let local = localIndices
        let gather = Gather(count: requests.count, parts: groups.count + (local.isEmpty ? 0 : 1), completion: completion)
        if !local.isEmpty {
            let outcome = engine.check(local.map { requests[$0] }) { gather.deliver($0, at: local) }
            if case .done(let result) = outcome { gather.deliver(result, at: local) }
        }
        for (owner, indices) in groups {
            forwarder!.forward(indices.map { requests[$0] }, to: owner) { gather.deliver($0, at: indices) }
        }
        return .committing
    }
}

/// Collects partial results into request order; completes once, on the
/// last part or the first failure.
final class Gather: Sendable {
    private struct State {
        var results: [CheckResult?]
        var remaining: Int
        var finished = false
    }

    private let state: Mutex<State>
    private let completion: @Sendable (Result<[CheckResult], APIProblem>) -> Void

    init(count: Int, parts: Int, completion: @escaping @Sendable (Result<[CheckResult], APIProblem>) -> Void) {
        state = Mutex(State(results: Array(repeating: nil, count: count), remaining: parts))
        self.completion = completion
    }

    func deliver(_ result: Result<[CheckResult], APIProblem>, at indices: [Int]) {
        let outcome: Result<[CheckResult], APIProblem>? = state.withLock { state in
            guard !state.finished else { return nil }
            switch result {
            case .failure(let problem):
                state.finished = true
                return .failure(problem)
            case .success(let partial):
                guard partial.count == indices.count else {
                    state.finished = true
                    return .failure(.unavailable("an owner answered \(partial.count) results for \(indices.count) checks"))
                }
                for (index, value) in zip(indices, partial) { state.results[index] = value }
                state.remaining -= 1
                guard state.remaining == 0 else { return nil }
                state.finished = true
                return .success(state.results.map { $0! })
            }
        }
        if let outcome { completion(outcome) }
    }
}
