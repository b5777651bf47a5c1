import LimiterCore

extension RuleVersions {
    /// The longest ``Rule/replayHorizonMs`` of every rule of every version
    /// installed on this node: the deployed ones and the recent others a
    /// rollback is likely to bring back (at most ``RuleVersions/maxInstalled``
    /// in all). Compaction keeps the events inside it.
    public var longestReplayHorizonMs: Int64 {
        installedVersions.compactMap { installed($0) }.flatMap { $0.ruleSet.rules.values }.longestReplayHorizonMs
    }
}
