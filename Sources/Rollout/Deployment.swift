/// What every node serves: a stable version and, optionally, a canary that
/// takes `percent` % of the keys (DESIGN.md §7).
///
/// Nodes receive deployments over the peer link and through gossip; the
/// higher `epoch` wins, so the coordinator raises it on every change of the
/// split and a late or restarted node converges on the newest one.
///
/// Invariants (checked on creation and when decoding): `percent` is in
/// `0...100`, a deployment without a canary has `percent == 0`, and the
/// canary differs from the stable version.
public struct Deployment: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Raised on every change of the split; the higher epoch wins on nodes.
    public let epoch: UInt64
    /// The version every key not sent to the canary is decided by.
    public let stable: String
    /// The version under test, or nil when the stable version serves every key.
    public let canary: String?
    /// The share of keys, in percent, that the canary decides.
    public let percent: Int

    /// Creates a deployment; a deployment that breaks the invariants above is
    /// a programming error and stops the process with the offending values.
    public init(epoch: UInt64, stable: String, canary: String? = nil, percent: Int = 0) {
        if let problem = Self.problem(stable: stable, canary: canary, percent: percent) {
            preconditionFailure("Deployment(epoch \(epoch), stable \(stable), canary \(canary ?? "nil"), percent \(percent)): \(problem)")
        }
        self.epoch = epoch
        self.stable = stable
        self.canary = canary
        self.percent = percent
    }

    /// A deployment from untrusted input (a peer's message, an admin
    /// request) that throws instead of stopping the process.
    ///
    /// - Throws: ``RolloutError/Code/invalidDeployment`` naming the broken invariant.
    public static func checked(epoch: UInt64, stable: String, canary: String?, percent: Int) throws(RolloutError) -> Deployment {
        if let problem = Self.problem(stable: stable, canary: canary, percent: percent) {
            throw RolloutError(code: .invalidDeployment, message: "deployment epoch \(epoch): \(problem)")
        }
        return Deployment(epoch: epoch, stable: stable, canary: canary, percent: percent)
    }

    /// The number of hash buckets a key hash is reduced to: percent * 100 of
    /// them go to the canary, so the split has a resolution of 0.01 %.
    public static let hashBuckets: UInt64 = 10_000

    /// True when a key with this hash is decided by the canary.
    ///
    /// DESIGN.md §7: `hash(ns, key) mod 10000 < percent * 100`. The bucket
    /// does not depend on the percentage, so a key that went to the canary
    /// at 10 % stays with it at 25, 50 and 75 %: keys move one way only and
    /// counters are shared, never split. `keyHash` must be the same on every
    /// node (a stable hash of namespace and key, never `Hasher`).
    public func isCanary(keyHash: UInt64) -> Bool {
        guard self.canary != nil else { return false }
        return keyHash % Self.hashBuckets < UInt64(self.percent) * 100
    }

    /// The version that decides a key with this hash.
    public func version(forKeyHash keyHash: UInt64) -> String {
        if self.isCanary(keyHash: keyHash), let canary = self.canary { return canary }
        return self.stable
    }

    /// This deployment with the next epoch and another split.
    func next(stable: String, canary: String?, percent: Int) -> Deployment {
        Deployment(epoch: self.epoch + 1, stable: stable, canary: canary, percent: percent)
    }

    public var description: String {
        if let canary = self.canary {
            return "epoch \(self.epoch): \(self.stable) + canary \(canary) at \(self.percent)%"
        }
        return "epoch \(self.epoch): \(self.stable)"
    }

    static func problem(stable: String, canary: String?, percent: Int) -> String? {
        if stable.isEmpty { return "the stable version must not be empty" }
        if !(0...100).contains(percent) { return "percent must be in 0...100" }
        if canary == nil, percent != 0 { return "a deployment without a canary must have percent 0" }
        if let canary {
            if canary.isEmpty { return "the canary version must not be empty" }
            if canary == stable { return "the canary must differ from the stable version" }
        }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case epoch, stable, canary, percent
    }

    /// Decodes and validates: a deployment arrives from the journal, peers and
    /// gossip, so a bad one is an error to report, not a crash.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let epoch = try container.decode(UInt64.self, forKey: .epoch)
        let stable = try container.decode(String.self, forKey: .stable)
        let canary = try container.decodeIfPresent(String.self, forKey: .canary)
        let percent = try container.decode(Int.self, forKey: .percent)
        if let problem = Self.problem(stable: stable, canary: canary, percent: percent) {
            throw DecodingError.dataCorruptedError(
                forKey: .percent,
                in: container,
                debugDescription: "deployment epoch \(epoch): \(problem)"
            )
        }
        self.init(epoch: epoch, stable: stable, canary: canary, percent: percent)
    }

    /// Encodes `canary` as an explicit null, as DESIGN.md §7 shows it
    /// (`canary: null, percent: 0`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.epoch, forKey: .epoch)
        try container.encode(self.stable, forKey: .stable)
        try container.encode(self.canary, forKey: .canary)
        try container.encode(self.percent, forKey: .percent)
    }
}
