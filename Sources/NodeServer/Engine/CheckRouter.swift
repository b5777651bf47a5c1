import LimiterCore
import Placement
import Synchronization

/// Where keys live: this node's agreed-placement view (DESIGN §6).
protocol OwnerLookup: Sendable {
    /// This node's current view.
    var placementView: PlacementView { get }
    /// False while this node imports counters: it decides no key then.
    var isDeciding: Bool { get }
    /// Whether a replica holds a copy of every admitted hit (`replicas >= 2`),
    /// so a check may fail over to it.
    var failoverEnabled: Bool { get }
}

/// Sends checks to the node that owns their keys and returns its answers,
/// one item per check, in order.
protocol CheckForwarding: Sendable {
    func forward(_ checks: [LimiterEngine.ResolvedCheck], to owner: String,
                 completion: @escaping @Sendable (Result<ForwardedAnswers, APIProblem>) -> Void)
    /// One check: the common case, which a forwarder may take without an array.
    func forward(_ check: LimiterEngine.ResolvedCheck, to owner: String,
                 completion: @escaping @Sendable (Result<ForwardedAnswers, APIProblem>) -> Void)
}

extension CheckForwarding {
    func forward(_ check: LimiterEngine.ResolvedCheck, to owner: String,
                 completion: @escaping @Sendable (Result<ForwardedAnswers, APIProblem>) -> Void) {
        forward([check], to: owner, completion: completion)
    }
}

/// Splits checks between the local engine and their owners (DESIGN §6:
/// any node answers any key; only the owner decides and appends the event).
///
/// An owner that does not own a key under its own view answers "not mine"
/// with the owner it believes in; the router then re-routes that check by
/// the pure ``ForwardAttempt`` policy (at most `maxHops` forwards), so two
/// nodes never both decide a key under one placement epoch and a
/// disagreement ends instead of looping: in a 503 with `replicas = 1`, in a
/// failover with `replicas = 2`.
///
/// With `replicas = 2`, a check whose owner cannot answer (unreachable,
/// importing, fenced, leaving) fails over to the next node of the key's
/// placement (``failover(_:unreachable:completion:)``); with `replicas = 1`,
/// or when no node holding the key can be reached, `on_unavailable` answers.
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
            if let placement, placement.failoverEnabled {
                guard placement.isDeciding else {
                    failover(check, unreachable: [placement.placementView.selfID], completion: completion)
                    return .committing
                }
                return engine.check(check.request, rule: check.rule, version: check.version) { [self] result in
                    if case .failure(let problem) = result, Self.failoverCodes.contains(problem.code) {
                        return failover(check, unreachable: [placement.placementView.selfID], completion: completion)
                    }
                    completion(result)
                }
            }
            return engine.check(check.request, rule: check.rule, version: check.version, onCommit: completion)
        case .unavailable(let reason):
            return .done(.failure(.unavailable(reason)))
        case .forward(let owner, _):
            forward(check, to: owner, attempt: nil, completion: completion)
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
        if let placement, placement.failoverEnabled {
            // With replicas, every check may fail over on its own: decide them one by one.
            let gather = Gather(count: checks.count, parts: checks.count, completion: completion)
            for (index, check) in checks.enumerated() {
                let deliver: @Sendable (Result<CheckResult, APIProblem>) -> Void = { gather.deliver($0.map { [$0] }, at: [index]) }
                if case .done(let result) = self.check(check, completion: deliver) { deliver(result) }
            }
            return .committing
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
            let results: ForwardedAnswers
            switch answer {
            case .failure(let problem) where Self.failoverCodes.contains(problem.code):
                // The owner holds the only copy and cannot answer: on_unavailable decides (DESIGN §6).
                return completion(.success(checks.map(engine.unavailableAnswer)))
            case .failure(let problem): return completion(.failure(problem))
            case .success(let value): results = value
            }
            let gather = Gather(count: checks.count, parts: checks.count, completion: completion)
            for (index, item) in results.items.enumerated() {
                settle(item, epoch: results.epoch, of: checks[index], from: owner, attempt: nil) { result in
                    gather.deliver(result.map { [$0] }, at: [index])
                }
            }
        }
    }

    /// Forwards `check` to `target`. `attempt` is the re-routing so far:
    /// nil on the first forward, and made only if an owner disowns the key.
    private func forward(_ check: LimiterEngine.ResolvedCheck, to target: String, attempt: ForwardAttempt?,
                         completion: @escaping @Sendable (Result<CheckResult, APIProblem>) -> Void) {
        forwarder!.forward(check, to: target) { [self] answer in
            switch answer {
            case .failure(let problem) where Self.failoverCodes.contains(problem.code):
                if placement?.failoverEnabled == true {
                    failover(check, unreachable: [target], completion: completion)
                } else {
                    // The owner holds the only copy and cannot answer: on_unavailable decides (DESIGN §6).
                    completion(.success(engine.unavailableAnswer(check)))
                }
            case .failure(let problem): completion(.failure(problem))
            case .success(let results):
                settle(results.items.first!, epoch: results.epoch, of: check, from: target, attempt: attempt, completion: completion)
            }
        }
    }

    /// Turns the answer of `responder` (the node the check was forwarded to)
    /// into a result, re-routing a disowned check; `attempt` as for ``forward(_:to:attempt:completion:)``.
    private func settle(_ item: ForwardedResults.Item, epoch: UInt64, of check: LimiterEngine.ResolvedCheck, from responder: String,
                        attempt: ForwardAttempt?, completion: @escaping @Sendable (Result<CheckResult, APIProblem>) -> Void) {
        switch item {
        case .decided(let result):
            completion(.success(result))
        case .refused(_, let code, _) where Self.failoverCodes.contains(code):
            if placement?.failoverEnabled == true {
                failover(check, unreachable: [responder], completion: completion)
            } else {
                completion(.success(engine.unavailableAnswer(check)))
            }
        case .refused(let status, let code, let detail):
            completion(.failure(APIProblem(status: status, code: code, title: "Owner could not decide", detail: "\(responder): \(detail)")))
        case .notMine(let hint):
            var attempt = attempt ?? ForwardAttempt(namespace: check.rule.namespaceID, key: check.request.key, to: responder)
            switch attempt.onNotMine(from: responder, owner: hint, epoch: epoch, view: placement!.placementView) {
            case .decideLocally:
                // Our view changed since we sent it: we own the key now.
                if case .done(let result) = engine.check(check.request, rule: check.rule, version: check.version,
                                                         onCommit: completion) {
                    completion(result)
                }
            case .retry(let next):
                forward(check, to: next, attempt: attempt, completion: completion)
            case .fail(let reason):
                if placement?.failoverEnabled == true {
                    // Views disagree: the next node of the key's placement decides in
                    // the refuser's stead (and fences it), as for an unreachable owner.
                    failover(check, unreachable: [responder], completion: completion)
                } else {
                    completion(.failure(.unavailable(reason + "; retry shortly")))
                }
            }
        }
    }
}

extension CheckRouter {
    /// Answers that mean the node asked cannot decide now but the next one in
    /// the key's placement can: it is unreachable, importing, or fenced.
    static let failoverCodes: Set<String> = ["owner-unreachable", "owner-importing", "owner-fenced", "shutting-down"]

    /// The most nodes one check may skip before no copy is deemed reachable.
    static let maxFailovers = 3

    /// Decides `check` at the first node of its placement that is not
    /// `unreachable`: here when that is this node, standing in for the nodes
    /// ahead of it, else forwarded with the list so the receiver does the same.
    func failover(_ check: LimiterEngine.ResolvedCheck, unreachable: [String],
                  completion: @escaping @Sendable (Result<CheckResult, APIProblem>) -> Void) {
        guard let placement else { return completion(.failure(.unavailable("no placement"))) }
        let view = placement.placementView
        guard unreachable.count <= Self.maxFailovers,
              let target = view.failoverTarget(namespace: check.rule.namespaceID, key: check.request.key, unreachable: unreachable)
        else {
            // No node holding the key's counters can be reached: on_unavailable decides (DESIGN §6).
            return completion(.success(engine.unavailableAnswer(check)))
        }
        if target.node == view.selfID {
            guard placement.isDeciding else {
                return failover(check, unreachable: unreachable + [view.selfID], completion: completion)
            }
            var standIn = check
            standIn.standingInFor = target.standingInFor
            let outcome = engine.check([standIn]) { [self] result in
                if case .failure(let problem) = result, Self.failoverCodes.contains(problem.code) {
                    return failover(check, unreachable: unreachable + [view.selfID], completion: completion)
                }
                completion(result.map { $0[0] })
            }
            if case .done(let result) = outcome { completion(result.map { $0[0] }) }
            return
        }
        var forwarded = check
        // A forwarded check's `standingInFor` carries the nodes found unreachable.
        forwarded.standingInFor = unreachable
        forwarder!.forward(forwarded, to: target.node) { [self] answer in
            switch answer {
            case .failure(let problem) where Self.failoverCodes.contains(problem.code):
                failover(check, unreachable: unreachable + [target.node], completion: completion)
            case .failure(let problem):
                completion(.failure(problem))
            case .success(let results):
                switch results.items.first! {
                case .decided(let result):
                    completion(.success(result))
                case .refused(_, let code, _) where Self.failoverCodes.contains(code):
                    failover(check, unreachable: unreachable + [target.node], completion: completion)
                case .refused(let status, let code, let detail):
                    completion(.failure(APIProblem(status: status, code: code, title: "Owner could not decide",
                                                   detail: "\(target.node): \(detail)")))
                case .notMine(let owner):
                    completion(.failure(.unavailable(
                        "\(target.node) (epoch \(PlacementView.format(epoch: results.epoch))) says \(owner ?? "nobody") decides \(check.request.key) after \(unreachable.joined(separator: ", ")); views disagree, retry shortly")))
                }
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
