import LimiterCore
import Placement
import Synchronization

/// Where keys live: this node's agreed-placement view (DESIGN §6).
protocol OwnerLookup: Sendable {
    /// This node's current view.
    var placementView: PlacementView { get }
}

/// Sends checks to the node that owns their keys and returns its answers,
/// one item per check, in order.
protocol CheckForwarding: Sendable {
    func forward(_ checks: [LimiterEngine.ResolvedCheck], to owner: String,
                 completion: @escaping @Sendable (Result<ForwardedResults, APIProblem>) -> Void)
}

/// Splits checks between the local engine and their owners (DESIGN §6:
/// any node answers any key; only the owner decides and appends the event).
///
/// An owner that does not own a key under its own view answers "not mine"
/// with the owner it believes in; the router then re-routes that check by
/// the pure ``ForwardAttempt`` policy (at most `maxHops` forwards), so two
/// nodes never both decide a key under one placement epoch and a
/// disagreement ends in a clear 503 instead of a loop.
public final class CheckRouter: Sendable {
    public let engine: LimiterEngine
    let placement: (any OwnerLookup)?
    let forwarder: (any CheckForwarding)?

    init(engine: LimiterEngine, placement: (any OwnerLookup)? = nil, forwarder: (any CheckForwarding)? = nil) {
        self.engine = engine
        self.placement = placement
        self.forwarder = forwarder
    }

    @inline(__always)
    private func route(_ check: LimiterEngine.ResolvedCheck) -> PlacementView.Route {
        guard let placement, forwarder != nil else { return .local }
        return placement.placementView.route(namespace: check.rule.namespaceID, key: check.request.key)
    }

    /// One check, here or at its owner.
    public func check(
        _ check: LimiterEngine.ResolvedCheck,
        completion: @escaping @Sendable (Result<CheckResult, APIProblem>) -> Void
    ) -> LimiterEngine.SingleOutcome {
        switch route(check) {
        case .local:
            return engine.check(check.request, rule: check.rule, version: check.version, onCommit: completion)
        case .unavailable(let reason):
            return .done(.failure(.unavailable(reason)))
        case .forward(let owner, _):
            var attempt = ForwardAttempt(namespace: check.rule.namespaceID, key: check.request.key, to: owner)
            forward(check, attempt: &attempt, completion: completion)
            return .committing
        }
    }

    /// Decides checks here or at their owners; `.done` when every answer was
    /// ready at once, otherwise `completion` runs with all results in order.
    public func check(
        _ checks: [LimiterEngine.ResolvedCheck],
        completion: @escaping @Sendable (Result<[CheckResult], APIProblem>) -> Void
    ) -> LimiterEngine.Outcome {
        var groups: [String: [Int]] = [:]
        var localIndices: [Int] = []
        for (index, check) in checks.enumerated() {
            switch route(check) {
            case .local: localIndices.append(index)
            case .forward(let owner, _): groups[owner, default: []].append(index)
            case .unavailable(let reason): return .done(.failure(.unavailable(reason)))
            }
        }
        if groups.isEmpty { return engine.check(checks, onCommit: completion) }
        let local = localIndices
        let gather = Gather(count: checks.count, parts: groups.count + (local.isEmpty ? 0 : 1), completion: completion)
        if !local.isEmpty {
            let outcome = engine.check(local.map { checks[$0] }) { gather.deliver($0, at: local) }
            if case .done(let result) = outcome { gather.deliver(result, at: local) }
        }
        for (owner, indices) in groups {
            forwardGroup(indices.map { checks[$0] }, to: owner) { gather.deliver($0, at: indices) }
        }
        return .committing
    }

    /// A group of checks to one owner; checks it disowns are re-routed one by one.
    private func forwardGroup(_ checks: [LimiterEngine.ResolvedCheck], to owner: String,
                              completion: @escaping @Sendable (Result<[CheckResult], APIProblem>) -> Void) {
        forwarder!.forward(checks, to: owner) { [self] answer in
            let results: ForwardedResults
            switch answer {
            case .failure(let problem): return completion(.failure(problem))
            case .success(let value): results = value
            }
            let gather = Gather(count: checks.count, parts: checks.count, completion: completion)
            for (index, item) in results.items.enumerated() {
                let check = checks[index]
                let attempt = ForwardAttempt(namespace: check.rule.namespaceID, key: check.request.key, to: owner)
                settle(item, epoch: results.epoch, of: check, attempt: attempt) { result in
                    gather.deliver(result.map { [$0] }, at: [index])
                }
            }
        }
    }

    private func forward(_ check: LimiterEngine.ResolvedCheck, attempt: inout ForwardAttempt,
                         completion: @escaping @Sendable (Result<CheckResult, APIProblem>) -> Void) {
        guard case .awaiting(let target) = attempt.state else { return }
        let sent = attempt
        forwarder!.forward([check], to: target) { [self] answer in
            switch answer {
            case .failure(let problem): completion(.failure(problem))
            case .success(let results): settle(results.items[0], epoch: results.epoch, of: check, attempt: sent, completion: completion)
            }
        }
    }

    /// Turns one owner's answer into a result, re-routing a disowned check.
    private func settle(_ item: ForwardedResults.Item, epoch: UInt64, of check: LimiterEngine.ResolvedCheck,
                        attempt: ForwardAttempt, completion: @escaping @Sendable (Result<CheckResult, APIProblem>) -> Void) {
        guard case .awaiting(let responder) = attempt.state else { return }
        switch item {
        case .decided(let result):
            completion(.success(result))
        case .refused(let status, let code, let detail):
            completion(.failure(APIProblem(status: status, code: code, title: "Owner could not decide", detail: "\(responder): \(detail)")))
        case .notMine(let hint):
            var attempt = attempt
            switch attempt.onNotMine(from: responder, owner: hint, epoch: epoch, view: placement!.placementView) {
            case .decideLocally:
                // Our view changed since we sent it: we own the key now.
                if case .done(let result) = engine.check(check.request, rule: check.rule, version: check.version,
                                                         onCommit: completion) {
                    completion(result)
                }
            case .retry:
                forward(check, attempt: &attempt, completion: completion)
            case .fail(let reason):
                completion(.failure(.unavailable(reason + "; retry shortly")))
            }
        }
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
