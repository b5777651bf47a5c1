/// A small seeded generator (Steele, Lea, Flood: "Fast Splittable
/// Pseudorandom Number Generators", 2014), so the instance's random choices
/// (probe order, intermediaries, gossip targets) are a pure function of its
/// seed and inputs. The shell seeds it from the system generator; tests use
/// fixed seeds and replay exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    public init(seed: UInt64) {
        self.state = seed
    }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
