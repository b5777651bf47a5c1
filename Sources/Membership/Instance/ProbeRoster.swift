/// SWIM 4.3 round-robin probe target selection: walk a shuffled list of the
/// other members, insert newcomers at a random position ahead of the
/// cursor, reshuffle after each full pass. Every member is probed once per
/// pass, which bounds detection time to `n` protocol periods in the worst case.
///
/// Departed members are skipped lazily when the cursor reaches them and
/// dropped at the next reshuffle.
struct ProbeRoster: Sendable, Hashable {
    private(set) var order: [String] = []
    private var cursor = 0

    mutating func insert(_ id: String, using random: inout SplitMix64) {
        guard !self.order.contains(id) else { return }
        let position = Int.random(in: self.cursor...self.order.count, using: &random)
        self.order.insert(id, at: position)
    }

    /// The next eligible member of the current pass, or nil when the pass is over.
    mutating func next(isEligible: (String) -> Bool) -> String? {
        while self.cursor < self.order.count {
            let id = self.order[self.cursor]
            self.cursor += 1
            if isEligible(id) {
                return id
            }
        }
        return nil
    }

    /// Starts a new pass over `candidates` (given in a deterministic order) in random order.
    mutating func reshuffle(_ candidates: [String], using random: inout SplitMix64) {
        self.order = candidates.shuffled(using: &random)
        self.cursor = 0
    }
}
