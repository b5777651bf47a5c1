/// The schedule of a gradual rollout (DESIGN.md §7, the seed's
/// `gradualRollout`): the canary takes 10, 25, 50, 75 and then 100 % of the
/// keys, each step held `duration / 5` ms, and is judged at the end of each
/// step against ``RolloutThresholds``.
///
/// A step with fewer than `minSamples` canary decisions at its end is held
/// once more for another `stepHold`, so the worst case is twice the nominal
/// duration; ``worstCaseDuration`` is what `deploy --dry-run` prints.
public struct RolloutPlan: Sendable, Hashable, Codable {
    /// The seed's steps: `[0.1, 0.25, 0.5, 0.75, 1.0]`.
    public static let seedPercents = [10, 25, 50, 75, 100]
    /// `deploy --gradual` without `--duration`: five minutes.
    public static let defaultDuration: Int64 = 300_000
    /// The longest rollout accepted: seven days.
    public static let maxDuration: Int64 = 7 * 24 * 3_600_000

    /// The canary's share at each step, rising strictly, ending at 100.
    public let percents: [Int]
    /// The nominal duration in ms (`--duration`).
    public let duration: Int64
    /// How long each step is held before it is judged, in ms: `duration / steps`
    /// (the remainder of the division is dropped, as the seed's
    /// `duration / steps.length` would truncate to whole ms).
    public let stepHold: Int64
    public let thresholds: RolloutThresholds

    /// The seed's plan over `duration` ms.
    ///
    /// - Throws: ``RolloutError/Code/invalidPlan`` naming the offending value.
    public init(duration: Int64 = RolloutPlan.defaultDuration, thresholds: RolloutThresholds = .init()) throws {
        try self.init(duration: duration, percents: Self.seedPercents, thresholds: thresholds)
    }

    /// A plan with other steps; tests and operators with unusual traffic use it.
    ///
    /// - Throws: ``RolloutError/Code/invalidPlan`` naming the offending value.
    public init(duration: Int64, percents: [Int], thresholds: RolloutThresholds = .init()) throws {
        if let problem = Self.problem(duration: duration, percents: percents) {
            throw RolloutError(code: .invalidPlan, message: problem)
        }
        try thresholds.validate()
        self.percents = percents
        self.duration = duration
        self.stepHold = duration / Int64(percents.count)
        self.thresholds = thresholds
    }

    /// The number of steps.
    public var stepCount: Int { self.percents.count }

    /// Every step held once: the duration rounded down to whole steps.
    public var nominalDuration: Int64 { self.stepHold * Int64(self.stepCount) }

    /// Every step extended once for want of samples: the longest a rollout
    /// that does not fail can take (plus the shell's tick latency).
    public var worstCaseDuration: Int64 { 2 * self.nominalDuration }

    static func problem(duration: Int64, percents: [Int]) -> String? {
        guard let last = percents.last else { return "rollout plan: steps must not be empty" }
        for (index, percent) in percents.enumerated() {
            guard (1...100).contains(percent) else {
                return "rollout plan: step \(index + 1) is \(percent)%, must be in 1...100"
            }
            if index > 0, percent <= percents[index - 1] {
                return "rollout plan: steps must rise strictly, step \(index + 1) is \(percent)% after \(percents[index - 1])%"
            }
        }
        guard last == 100 else { return "rollout plan: the last step must be 100%, got \(last)%" }
        guard duration >= Int64(percents.count) else {
            return "rollout plan: duration \(duration) ms is too short to hold \(percents.count) steps of at least 1 ms"
        }
        guard duration <= maxDuration else {
            return "rollout plan: duration \(duration) ms is longer than the \(maxDuration) ms (7 days) a rollout may take"
        }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case percents, duration, thresholds
    }

    /// Decodes and validates (plans are journalled); `stepHold` is derived.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let duration = try container.decode(Int64.self, forKey: .duration)
        let percents = try container.decode([Int].self, forKey: .percents)
        let thresholds = try container.decode(RolloutThresholds.self, forKey: .thresholds)
        do {
            try self.init(duration: duration, percents: percents, thresholds: thresholds)
        } catch let error as RolloutError {
            throw DecodingError.dataCorruptedError(forKey: .percents, in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.percents, forKey: .percents)
        try container.encode(self.duration, forKey: .duration)
        try container.encode(self.thresholds, forKey: .thresholds)
    }
}
