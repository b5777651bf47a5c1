/// Operator commands (DESIGN.md §7): `deploy --percent P`, `rollout
/// promote|abort`, `rollback [VERSION]`. Each may race with a tick or
/// another operator, so a command the state does not allow throws (the
/// coordinator answers 409 with the message) instead of stopping the process.
extension Rollout {
    /// What the shell does after ``onSetPercent(version:percent:now:)``.
    public enum SetPercentResult: Sendable, Hashable {
        /// The version is already stable: nothing changes.
        case alreadyStable(Deployment)
        /// The canary already has this share: nothing changes.
        case unchanged(Deployment)
        /// Push `split`: `version` now decides `percent` % of the keys.
        case split(Deployment)
        /// 100 %: push `final`, where `version` is stable with no canary.
        case completed(final: Deployment)
    }

    /// `deploy --percent P`: puts `version` directly at `percent` % of the
    /// keys, with no analysis. 100 makes it stable at once (the state tools
    /// rely on after any deploy reaches 100 %: `canary: null, percent: 0`);
    /// to take a canary out use ``onAbort(now:)`` or ``onRollback(to:reason:now:)``.
    ///
    /// Allowed at rest and over another direct split (the new version
    /// replaces the old canary), not during a gradual rollout.
    ///
    /// - Throws: ``RolloutError/Code/invalidPercent`` outside 1...100,
    ///   ``RolloutError/Code/illegalTransition`` while stepping.
    public mutating func onSetPercent(version: String, percent: Int, now: Int64) throws(RolloutError) -> SetPercentResult {
        guard !version.isEmpty else {
            throw RolloutError(code: .invalidVersion, message: "--percent: the version to deploy is empty")
        }
        guard (1...100).contains(percent) else {
            throw RolloutError(
                code: .invalidPercent,
                message: "--percent must be in 1...100, got \(percent) (use rollout abort to take a canary out)"
            )
        }
        if case .stepping = self.state {
            throw .illegal("--percent \(percent) of \(version)", in: self.state, deployment: self.deployment)
        }
        if version == self.deployment.stable { return .alreadyStable(self.deployment) }
        if version == self.deployment.canary, percent == self.deployment.percent { return .unchanged(self.deployment) }

        if percent == 100 {
            let final = self.deployment.next(stable: version, canary: nil, percent: 0)
            self.apply(final, .completed(version: version, at: now), after: "set percent 100")
            return .completed(final: final)
        }
        let split = self.deployment.next(stable: self.deployment.stable, canary: version, percent: percent)
        self.apply(split, .split(version: version, since: now), after: "set percent")
        return .split(split)
    }

    /// What the shell does after ``onPromote(now:)``: push `final`.
    public struct PromoteResult: Sendable, Hashable {
        /// The canary is stable, `canary: nil, percent: 0`.
        public let final: Deployment
        /// The canary's share when it was promoted.
        public let fromPercent: Int
    }

    /// `rollout promote`: the canary jumps to 100 % and the rollout
    /// completes, skipping the remaining steps and their analysis.
    ///
    /// - Throws: ``RolloutError/Code/illegalTransition`` when no canary is in service.
    public mutating func onPromote(now: Int64) throws(RolloutError) -> PromoteResult {
        guard !self.state.isAtRest, let canary = self.deployment.canary else {
            throw .illegal("promote", in: self.state, deployment: self.deployment)
        }
        let fromPercent = self.deployment.percent
        let final = self.deployment.next(stable: canary, canary: nil, percent: 0)
        self.apply(final, .completed(version: canary, at: now), after: "promote")
        return PromoteResult(final: final, fromPercent: fromPercent)
    }

    /// What the shell does after ``onAbort(now:)``: push `split`.
    public struct AbortResult: Sendable, Hashable {
        /// The old stable alone, `canary: nil, percent: 0`.
        public let split: Deployment
        /// The canary taken out and its share at the time.
        public let version: String
        public let percent: Int
    }

    /// `rollout abort`: back to the stable version, canary out, no alert
    /// (an operator decision, not a failure).
    ///
    /// - Throws: ``RolloutError/Code/illegalTransition`` when no canary is in service.
    public mutating func onAbort(now: Int64) throws(RolloutError) -> AbortResult {
        guard !self.state.isAtRest, let canary = self.deployment.canary else {
            throw .illegal("abort", in: self.state, deployment: self.deployment)
        }
        let percent = self.deployment.percent
        let split = self.deployment.next(stable: self.deployment.stable, canary: nil, percent: 0)
        self.apply(split, .aborted(version: canary, percent: percent, at: now), after: "abort")
        return AbortResult(split: split, version: canary, percent: percent)
    }

    /// What the shell does after ``onRollback(to:reason:now:)``.
    public enum RollbackResult: Sendable, Hashable {
        /// Already serving only that version: nothing changes.
        case unchanged(Deployment)
        /// Push `split` (the restored version alone) and journal `record`.
        case rolledBack(split: Deployment, record: RollbackRecord)
    }

    /// `ratelimit rollback [VERSION] --message M`: the stable version (or
    /// `version`) serves every key, whatever was in progress. Always
    /// allowed: it is the operator's way out of any state.
    public mutating func onRollback(to version: String? = nil, reason: String, now: Int64) throws(RolloutError) -> RollbackResult {
        if let version, version.isEmpty {
            throw RolloutError(code: .invalidVersion, message: "rollback: the version to restore is empty")
        }
        let target = version ?? self.deployment.stable
        let removed: (version: String, percent: Int)
        if let canary = self.deployment.canary, target == canary {
            // Rolling back to the canary itself: the old stable leaves service.
            removed = (self.deployment.stable, 100 - self.deployment.percent)
        } else if let canary = self.deployment.canary {
            removed = (canary, self.deployment.percent)
        } else if target != self.deployment.stable {
            removed = (self.deployment.stable, 100)
        } else {
            return .unchanged(self.deployment)
        }
        let split = self.deployment.next(stable: target, canary: nil, percent: 0)
        let record = RollbackRecord(
            version: removed.version, percent: removed.percent, restored: target,
            reason: reason, automatic: false, verdict: nil, at: now
        )
        self.apply(split, .rolledBack(record), after: "rollback")
        return .rolledBack(split: split, record: record)
    }
}
