/// What a sender does after a forwarded check came back `notMine`.
public enum RerouteDecision: Sendable, Equatable {
    /// Forward the check to this node next.
    case retry(to: String)
    /// The sender's own current view says it owns the key: decide here.
    case decideLocally
    /// Give up; the reason names both nodes and their epochs.
    case fail(reason: String)
}

/// The sender's side of one forwarded check: the nodes tried so far and where to go after a
/// refusal.
///
/// Views disagree only while a membership change spreads, so the policy follows the
/// refuser's owner hint while that can make progress, at most `maxHops` forwards in all, and
/// otherwise fails at once rather than guessing: a wrong node never decides, because every
/// receiver decides only under its own view (``PlacementView/accept(namespace:key:senderEpoch:)``).
///
/// After a refusal from the node it is waiting on, the attempt
/// 1. decides locally if the sender's *current* view says the sender owns the key (its view
///    may have changed since it forwarded);
/// 2. fails if `maxHops` forwards were made;
/// 3. retries to the hint if the hint is another node and was not tried yet, or was tried
///    but the sender's view now has the refuser's epoch (the views agree, so the hint is the
///    owner in both);
/// 4. fails otherwise, naming both nodes' epochs.
public struct ForwardAttempt: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// Forwarded to `target`, waiting for its verdict.
        case awaiting(target: String)
        /// Ended with `.decideLocally` or `.fail`; no more replies are expected.
        case finished(RerouteDecision)
    }

    public let namespace: String
    public let key: String
    /// The most forwards one check may take, the first included.
    public let maxHops: Int
    /// The nodes the check was forwarded to, in order.
    public private(set) var targets: [String]
    public private(set) var state: State

    /// Forwards made so far.
    public var hops: Int { targets.count }

    /// An attempt that has just forwarded the check to `target`, normally the owner from
    /// ``PlacementView/route(namespace:key:)``.
    public init(namespace: String, key: String, to target: String, maxHops: Int = 3) {
        precondition(maxHops >= 1, "ForwardAttempt(\(namespace)/\(key)): maxHops must be at least 1; got \(maxHops)")
        precondition(!target.isEmpty, "ForwardAttempt(\(namespace)/\(key)): the first target must not be empty")
        self.namespace = namespace
        self.key = key
        self.maxHops = maxHops
        self.targets = [target]
        self.state = .awaiting(target: target)
    }

    /// The target refused the check: `hint` is who owns the key under its view (nil if it has
    /// none) at `responderEpoch`; `view` is the sender's view now.
    public mutating func onNotMine(
        from responder: String,
        owner hint: String?,
        epoch responderEpoch: UInt64,
        view: PlacementView
    ) -> RerouteDecision {
        guard case .awaiting(let target) = state else {
            preconditionFailure("\(self): notMine from \(responder) after the attempt finished")
        }
        precondition(responder == target, "\(self): notMine from \(responder), but the check awaits \(target)")
        precondition(!targets.contains(view.selfID), "\(self): the sender \(view.selfID) forwarded to itself")

        let decision: RerouteDecision
        if view.route(namespace: namespace, key: key) == .local {
            decision = .decideLocally
        } else if hops >= maxHops {
            decision = .fail(reason: notAgreed(view, responder, responderEpoch, "after \(hops) hops"))
        } else if let hint, hint != view.selfID, !targets.contains(hint) || view.epoch == responderEpoch {
            decision = .retry(to: hint)
        } else {
            decision = .fail(reason: notAgreed(view, responder, responderEpoch, "owner hint \(hint ?? "none")"))
        }

        if case .retry(let next) = decision {
            targets.append(next)
            state = .awaiting(target: next)
        } else {
            state = .finished(decision)
        }
        return decision
    }

    private func notAgreed(_ view: PlacementView, _ responder: String, _ responderEpoch: UInt64, _ detail: String)
        -> String
    {
        "placement not agreed for \(namespace)/\(key): \(view.selfID) at epoch \(PlacementView.format(epoch: view.epoch)), "
            + "\(responder) at epoch \(PlacementView.format(epoch: responderEpoch)) (\(detail); tried \(targets.joined(separator: ",")))"
    }
}

extension ForwardAttempt: CustomStringConvertible {
    public var description: String {
        "ForwardAttempt(\(namespace)/\(key) targets=[\(targets.joined(separator: ","))] maxHops=\(maxHops) \(state))"
    }
}
