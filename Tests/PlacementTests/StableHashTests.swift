import Testing

@testable import Placement

/// The expected values come from an independent Python implementation of the same
/// definition (FNV-1a 64, MurmurHash3 fmix64, domain byte, u64 LE length prefix), so they
/// check the definition, and pin it: a change here moves keys across an upgrade.
@Suite("StableHash")
struct StableHashTests {
    @Test("FNV-1a matches the published test vector before the finalizer")
    func fnvVector() {
        // draft-eastlake-fnv test vectors for FNV-1a 64.
        var empty = FNV1a64()
        #expect(empty.state == 0xcbf2_9ce4_8422_2325)
        empty.combine(UInt8(ascii: "a"))
        #expect(empty.state == 0xaf63_dc4c_8601_ec8c)
        var foobar = FNV1a64()
        foobar.combine(utf8: "foobar")
        #expect(foobar.state == 0x8594_4171_f739_67e8)
    }

    @Test(
        "hash64 of a string is pinned to the reference values",
        arguments: [
            ("", 0xefd0_1f60_ba99_2926 as UInt64),
            ("a", 0x82a2_a958_a9be_ce5b),
            ("hello", 0xe9c5_62c0_fdb2_3244),
            ("user:42", 0x9988_17be_e671_8248),
        ]
    )
    func pinnedStrings(input: String, expected: UInt64) {
        #expect(StableHash.hash64(input) == expected)
        #expect(StableHash.hash64(Array(input.utf8)) == expected)
    }

    @Test(
        "hash64(namespace:key:) and bucket are pinned to the reference values",
        arguments: [
            ("1001", "user:42", 0x67ba_6e46_2e76_adde as UInt64, 5371),
            ("", "", 0xbfcb_1a2f_dd1f_ff6f, 2546),
            ("ab", "c", 0x6be8_264f_e5e8_fdeb, 2957),
            ("a", "bc", 0x44c5_1ad8_59d3_d47c, 8588),
        ]
    )
    func pinnedPairs(namespace: String, key: String, hash: UInt64, bucket: Int) {
        #expect(StableHash.hash64(namespace: namespace, key: key) == hash)
        #expect(StableHash.bucket(namespace: namespace, key: key) == bucket)
    }

    @Test("moving bytes between namespace and key changes the hash")
    func pairIsUnambiguous() {
        let splits = [("abc", ""), ("ab", "c"), ("a", "bc"), ("", "abc")]
        let hashes = Set(splits.map { StableHash.hash64(namespace: $0.0, key: $0.1) })
        #expect(hashes.count == splits.count)
        let buckets = splits.map { StableHash.bucket(namespace: $0.0, key: $0.1, buckets: 1 << 30) }
        #expect(Set(buckets).count == splits.count)
    }

    @Test("a non-ASCII string hashes by its UTF-8 bytes, however it was built")
    func nonASCII() {
        let key = "clé:ünïcødé:🚦"
        #expect(StableHash.hash64(key) == StableHash.hash64(Array(key.utf8)))
        // A string built piecewise (not a literal) hashes the same as the literal.
        var built = "clé:"
        built += "ünïcødé:"
        built.append("🚦")
        #expect(StableHash.hash64(namespace: "ns", key: built) == StableHash.hash64(namespace: "ns", key: key))
    }

    @Test("a long key hashes in place like its bytes")
    func longKey() {
        let key = String(repeating: "k", count: 1024)
        #expect(StableHash.hash64(key) == StableHash.hash64([UInt8](repeating: UInt8(ascii: "k"), count: 1024)))
    }

    @Test("bucket is spread evenly over 10,000 buckets")
    func bucketUniform() {
        let keys = 200_000
        var counts = [Int](repeating: 0, count: 10_000)
        for i in 0..<keys {
            let bucket = StableHash.bucket(namespace: "1001", key: "user:\(i)")
            #expect((0..<10_000).contains(bucket))
            counts[bucket] += 1
        }
        // Chi-square with 9,999 degrees of freedom: mean 9,999, sd about 141.
        let expected = Double(keys) / 10_000
        let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        #expect(chiSquare < 9_999 + 6 * 141, "chi-square \(chiSquare)")
        #expect(chiSquare > 9_999 - 6 * 141, "chi-square \(chiSquare) is suspiciously regular")

        // A 10 % canary (bucket < 1000) gets about 10 % of keys.
        let canary = counts[0..<1_000].reduce(0, +)
        #expect(abs(Double(canary) / Double(keys) - 0.10) < 0.005, "canary got \(canary) of \(keys)")
    }

    @Test("the canary slice is spread over every node, not tied to ring position")
    func bucketIndependentOfRing() {
        let ring = HashRing(nodes: ["n1", "n2", "n3", "n4", "n5"])
        var perNode: [String: Int] = [:]
        var canaryKeys = 0
        for i in 0..<100_000 where StableHash.bucket(namespace: "1001", key: "user:\(i)") < 1_000 {
            canaryKeys += 1
            perNode[ring.owner(namespace: "1001", key: "user:\(i)")!, default: 0] += 1
        }
        let shares = ring.shares()
        for node in ring.nodes {
            let fraction = Double(perNode[node, default: 0]) / Double(canaryKeys)
            #expect(abs(fraction - shares[node]!) < 0.03, "\(node): \(fraction) of canary keys, ring share \(shares[node]!)")
        }
    }
}
