import Placement

/// Which rule-set versions a node serves (DESIGN §7): `stable` for most
/// keys, `canary` for the keys whose hash falls under `percent`. A higher
/// `epoch` replaces a lower one.
public struct Deployment: Sendable, Hashable {
    public var epoch: UInt64
    public var stable: String
    public var canary: String?
    /// 0...100.
    public var percent: Int

    public init(epoch: UInt64 = 0, stable: String, canary: String? = nil, percent: Int = 0) {
        precondition((0...100).contains(percent), "Deployment: percent must be 0...100, got \(percent)")
        precondition(canary != nil || percent == 0, "Deployment: percent \(percent) without a canary")
        self.epoch = epoch
        self.stable = stable
        self.canary = canary
        self.percent = percent
    }

    /// The version that decides keys with this hash: the canary iff
    /// `hash mod 10000 < percent * 100`. A key keeps its version while the
    /// percentage only grows, and the counter is the key's, not the version's.
    public func version(forKeyHash hash: UInt64) -> String {
        guard let canary, percent > 0 else { return stable }
        return hash % 10_000 < UInt64(percent) * 100 ? canary : stable
    }

    public func version(namespace: String, key: String) -> String {
        version(forKeyHash: StableHash.hash64(namespace: namespace, key: key))
    }
}
