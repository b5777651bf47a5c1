import LimiterCore
import TestSupport
import Testing

@Suite("LimiterTable snapshots")
struct SnapshotTests {
    /// A table with counters of every algorithm, built from random checks.
    static func sampleTable(seed: UInt64 = 7, keys: Int = 40, checks: Int = 3_000) -> (LimiterTable, [String: Rule]) {
        var rng = SplitMix64(seed: seed)
        let rules = Dictionary(uniqueKeysWithValues: Algorithm.allCases.enumerated().map { index, algorithm in
            let rule = Rule(name: algorithm.rawValue, limit: 3 + index * 7, periodSeconds: 1 + index, algorithm: algorithm, burst: 5 + index)
            return (rule.name, rule)
        })
        let ruleList = rules.values.sorted { $0.name < $1.name }
        var table = LimiterTable()
        var now: Int64 = 1_700_000_000_000
        for _ in 0..<checks {
            now += Int64.random(in: 0...40, using: &rng)
            let rule = ruleList[Int.random(in: 0..<ruleList.count, using: &rng)]
            _ = table.check(rule: rule, key: "key-\(Int.random(in: 0..<keys, using: &rng))-é", hits: Int.random(in: 0...3, using: &rng), now: now)
        }
        return (table, rules)
    }

    @Test("round-trips every algorithm's state exactly")
    func roundTrip() throws {
        let (table, rules) = Self.sampleTable()
        #expect(Set(table.states.values.map(\.algorithm)) == Set(Algorithm.allCases))
        let restored = try LimiterTable(snapshot: table.encodeSnapshot())
        #expect(restored == table)

        // And the restored table goes on deciding exactly as the original.
        var original = table
        var copy = restored
        for (counter, _) in table.states {
            let rule = try #require(rules[counter.rule])
            for step in Int64(0)..<5 {
                let now = 1_700_000_200_000 + step * 100
                #expect(original.check(rule: rule, key: counter.key, hits: 1, now: now)
                        == copy.check(rule: rule, key: counter.key, hits: 1, now: now))
            }
        }
        #expect(original == copy)
    }

    @Test("round-trips an empty table and a sliding log that has trimmed its front")
    func edgeTables() throws {
        #expect(try LimiterTable(snapshot: LimiterTable().encodeSnapshot()) == LimiterTable())

        let rule = Rule(name: "log", limit: 100, periodSeconds: 1, algorithm: .slidingLog)
        var table = LimiterTable()
        for t in stride(from: Int64(0), to: 3_000, by: 7) {
            _ = table.check(rule: rule, key: "k", hits: 1, now: t)
        }
        #expect(try LimiterTable(snapshot: table.encodeSnapshot()) == table)
    }

    @Test("stays compact: a few bytes per counter")
    func compact() {
        var table = LimiterTable()
        let rule = Rule(name: "API", limit: 100, periodSeconds: 60, algorithm: .slidingWindow)
        for index in 0..<1_000 {
            _ = table.check(rule: rule, key: "user:\(index)", hits: 1, now: 1_700_000_000_000)
        }
        let size = table.encodeSnapshot().count
        #expect(size < 1_000 * 24, "\(size) bytes for 1000 counters")
    }

    @Test("rejects every truncation with a clear error")
    func truncated() {
        let bytes = Self.sampleTable(keys: 10, checks: 200).0.encodeSnapshot()
        for length in 0..<bytes.count {
            #expect(throws: SnapshotError.self, "prefix of \(length) bytes") {
                try LimiterTable(snapshot: Array(bytes.prefix(length)))
            }
        }
        #expect(throws: SnapshotError(code: .truncated, message: "snapshot is 3 bytes, shorter than its 9-byte frame")) {
            try LimiterTable(snapshot: Array(bytes.prefix(3)))
        }
    }

    @Test("rejects every single corrupted byte through the checksum, magic or version")
    func corrupted() {
        let bytes = Self.sampleTable(keys: 10, checks: 200).0.encodeSnapshot()
        var codes: Set<SnapshotError.Code> = []
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x5A
            do {
                _ = try LimiterTable(snapshot: damaged)
                Issue.record("byte \(index) corrupted but accepted")
            } catch {
                codes.insert(error.code)
            }
        }
        #expect(codes == [.badMagic, .unsupportedVersion, .checksumMismatch])
    }

    @Test("a well-framed but hostile body throws or yields a table that checks without trapping")
    func hostileBodies() {
        let bytes = Self.sampleTable(keys: 6, checks: 150).0.encodeSnapshot()
        var rng = SplitMix64(seed: 2024)
        var accepted = 0
        for _ in 0..<3_000 {
            var body = Array(bytes[5..<(bytes.count - 4)])
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !body.isEmpty {
                let index = Int.random(in: body.indices, using: &rng)
                switch UInt8.random(in: 0..<3, using: &rng) {
                case 0: body[index] = UInt8.random(in: 0...255, using: &rng)
                case 1: body.insert(0xFF, at: index)
                default: body.remove(at: index)
                }
            }
            let framed = Self.frame(body)
            guard let table = try? LimiterTable(snapshot: framed) else { continue }
            accepted += 1
            var use = table
            for (counter, state) in table.states {
                // Any rule over the decoded state must decide without trapping.
                for algorithm in Algorithm.allCases {
                    let rule = Rule(name: counter.rule, limit: Int(Int32.max), periodSeconds: 3_153_600_000, algorithm: algorithm, burst: 1)
                    _ = use.check(rule: rule, key: counter.key, hits: 1, now: Int64.max)
                    _ = use.check(rule: rule, key: counter.key, hits: 5, now: Int64.min)
                    var copy: CounterState? = state
                    rule.record(&copy, hits: Int.max, at: 0)
                }
            }
        }
        #expect(accepted > 0, "some mutations must decode, or the test checks nothing")
    }

    @Test("an entry when the snapshot names no rule is refused, not read as rule 0 of none")
    func entryWithoutRules() {
        // rule count 0; entry count 1; rule index 0; an empty key; then state bytes.
        let framed = Self.frame([0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00])
        #expect(throws: SnapshotError.self) { try LimiterTable(snapshot: framed) }
    }

    @Test("rejects unknown versions and foreign files by name")
    func header() throws {
        var bytes = LimiterTable().encodeSnapshot()
        bytes[4] = 9
        let error = try #require(throws: SnapshotError.self) { try LimiterTable(snapshot: bytes) }
        #expect(error.code == .unsupportedVersion)
        #expect(error.message.contains("version 9"))
        let foreign = try #require(throws: SnapshotError.self) {
            try LimiterTable(snapshot: Array("SQLite format 3\0".utf8))
        }
        #expect(foreign.code == .badMagic)
    }

    /// Wraps a body in a valid header and CRC-32 trailer, as a hostile writer could.
    static func frame(_ body: [UInt8]) -> [UInt8] {
        var bytes = Array("RLTS".utf8) + [1] + body
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        crc ^= 0xFFFF_FFFF
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: crc >> UInt32(8 * $0)) }
        return bytes
    }
}
