/// A 64-bit hash that is the same in every process, on every run and on every node.
///
/// Placement and canary selection are decided independently by each node and must agree,
/// so the hash cannot be Swift's `Hasher`: it is seeded randomly per process (SE-0206).
/// This is FNV-1a 64 (Fowler/Noll/Vo, draft-eastlake-fnv) over the bytes, followed by
/// MurmurHash3's `fmix64` finalizer (Austin Appleby). FNV-1a alone is what gubernator's
/// ring uses (`replicated_hash.go`, FNV-1 via `fnv1.HashBytes64`), but there the last
/// bytes of an input reach the high bits, which decide ring position, only through the
/// carries of one multiplication, so keys like `user:1`, `user:2` land close together;
/// the finalizer spreads every input bit over the whole word.
///
/// Changing anything here moves keys between nodes and between rule versions across an
/// upgrade, so the exact values are pinned by tests.
public enum StableHash {
    /// The hash of raw bytes, with no domain tag.
    public static func hash64(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var state = FNV1a64()
        for byte in bytes { state.combine(byte) }
        return state.finalize()
    }

    /// The hash of a string's UTF-8 bytes; equal to `hash64(Array(string.utf8))`.
    public static func hash64(_ string: String) -> UInt64 {
        var state = FNV1a64()
        state.combine(utf8: string)
        return state.finalize()
    }

    /// The position of a rate-limit key on the placement ring.
    ///
    /// The namespace is length-prefixed, so `("ab", "c")` and `("a", "bc")` hash apart, and
    /// nothing is allocated: the UTF-8 of both strings is fed in place.
    public static func hash64(namespace: String, key: String) -> UInt64 {
        pair(.ringKey, namespace, key)
    }

    /// The bucket in `0..<buckets` a key falls in, for sticky canary selection
    /// (DESIGN.md §7: a key runs the canary version iff `bucket < percent * 100`).
    ///
    /// Uses its own domain tag so a key's bucket is independent of its ring position:
    /// otherwise the canary slice would sit on a few nodes instead of across all of them.
    /// The modulo bias of 2^64 mod 10,000 is below 10^-15 and ignored.
    public static func bucket(namespace: String, key: String, buckets: Int = 10_000) -> Int {
        precondition(buckets > 0, "StableHash.bucket: buckets must be positive; got \(buckets)")
        return Int(pair(.bucket, namespace, key) % UInt64(buckets))
    }

    /// The position of virtual point `index` of `node`; only the node's own name decides
    /// it, so adding or removing another node never moves this node's points.
    static func ringPoint(node: String, index: UInt32) -> UInt64 {
        var state = FNV1a64()
        state.combine(Domain.ringPoint.rawValue)
        state.combine(length: node.utf8.count)
        state.combine(utf8: node)
        for shift in stride(from: 0, to: 32, by: 8) {
            state.combine(UInt8(truncatingIfNeeded: index >> UInt32(shift)))
        }
        return state.finalize()
    }

    /// A fingerprint of a set of node ids, in the order given (callers pass them sorted):
    /// `[domain][u64 LE count]` then `[u64 LE byte length][id]` per id, so no two distinct
    /// lists feed the same bytes. `PlacementView.epoch` is this over the ring's nodes.
    static func fingerprint(nodes: [String]) -> UInt64 {
        var state = FNV1a64()
        state.combine(Domain.epoch.rawValue)
        state.combine(length: nodes.count)
        for node in nodes {
            state.combine(length: node.utf8.count)
            state.combine(utf8: node)
        }
        return state.finalize()
    }

    /// Separates the uses of the hash so that equal inputs for different purposes do not
    /// produce correlated outputs. The raw values are part of the pinned hash.
    enum Domain: UInt8 {
        case ringKey = 1
        case ringPoint = 2
        case bucket = 3
        case epoch = 4
    }

    /// `[domain][u64 LE byte length of first][first][second]`: the length prefix makes the
    /// split between the two strings unambiguous whatever bytes they contain.
    private static func pair(_ domain: Domain, _ first: String, _ second: String) -> UInt64 {
        var state = FNV1a64()
        state.combine(domain.rawValue)
        state.combine(length: first.utf8.count)
        state.combine(utf8: first)
        state.combine(utf8: second)
        return state.finalize()
    }
}

/// FNV-1a, 64-bit: `h = (h XOR byte) * prime` from the offset basis.
struct FNV1a64 {
    private static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// The running FNV-1a value, before the finalizer.
    private(set) var state = FNV1a64.offsetBasis

    mutating func combine(_ byte: UInt8) {
        state = (state ^ UInt64(byte)) &* FNV1a64.prime
    }

    /// Feeds a byte count as 8 little-endian bytes, independent of platform word size.
    ///
    /// A plain loop rather than `stride`: this runs twice per key lookup, and unoptimized
    /// builds (the simulations run in debug) pay for the generic iterator.
    mutating func combine(length: Int) {
        var value = UInt64(length)
        var remaining = 8
        while remaining > 0 {
            combine(UInt8(truncatingIfNeeded: value))
            value >>= 8
            remaining -= 1
        }
    }

    /// Feeds the string's UTF-8 in place: native strings are contiguous (small ones are
    /// copied to the stack), so no heap allocation happens on the lookup path.
    mutating func combine(utf8 string: String) {
        var hash = state
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { buffer in
            for byte in buffer { hash = (hash ^ UInt64(byte)) &* FNV1a64.prime }
        }
        if done == nil {
            for byte in string.utf8 { hash = (hash ^ UInt64(byte)) &* FNV1a64.prime }
        }
        state = hash
    }

    /// FNV-1a's state run through MurmurHash3's `fmix64` avalanche step.
    func finalize() -> UInt64 {
        var k = state
        k ^= k >> 33
        k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}
