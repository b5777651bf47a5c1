import LimiterCore

extension RuleVersions {
    /// The longest ``Rule/replayHorizonMs`` of every rule of every version
    /// installed on this node (not only the deployed ones: a rollback can
    /// bring any of them back). Compaction keeps the events inside it.
    public var longestReplayHorizonMs: Int64 {
        installedVersions.compactMap { installed($0) }.flatMap { $0.ruleSet.rules.values }.longestReplayHorizonMs
    }
}
