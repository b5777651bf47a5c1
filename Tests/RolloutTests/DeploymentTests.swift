import Foundation
import Rollout
import Testing

@Suite("Deployment: which version decides a key (DESIGN.md §7)")
struct DeploymentTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let hash: UInt64
        let percent: Int
        let expected: String
        var testDescription: String { "hash \(hash) at \(percent)% -> \(expected)" }
    }

    @Test(
        "a key goes to the canary iff hash mod 10000 < percent * 100",
        arguments: [
            Row(hash: 0, percent: 10, expected: "v2"),
            Row(hash: 999, percent: 10, expected: "v2"),
            Row(hash: 1_000, percent: 10, expected: "v1"),
            Row(hash: 9_999, percent: 99, expected: "v1"),
            Row(hash: 9_999, percent: 100, expected: "v2"),
            Row(hash: 10_000, percent: 10, expected: "v2"),  // bucket 0
            Row(hash: 12_499, percent: 25, expected: "v2"),  // bucket 2499
            Row(hash: 12_500, percent: 25, expected: "v1"),  // bucket 2500
            Row(hash: UInt64.max, percent: 100, expected: "v2"),
            Row(hash: UInt64.max, percent: 10, expected: "v1"),  // bucket 1615
            Row(hash: UInt64.max, percent: 25, expected: "v2"),
            Row(hash: 42, percent: 0, expected: "v1"),
        ]
    )
    func versionForKeyHash(_ row: Row) {
        let deployment = Deployment(epoch: 3, stable: "v1", canary: "v2", percent: row.percent)
        #expect(deployment.version(forKeyHash: row.hash) == row.expected)
        #expect(deployment.isCanary(keyHash: row.hash) == (row.expected == "v2"))
    }

    @Test("keys stick to the canary as the percentage grows, and each step holds exactly percent * 100 buckets")
    func stickyAsPercentGrows() {
        var previous = Set<UInt64>()
        for percent in RolloutPlan.seedPercents {
            let deployment = Deployment(epoch: 1, stable: "v1", canary: "v2", percent: percent)
            let canaryBuckets = Set((0..<Deployment.hashBuckets).filter { deployment.isCanary(keyHash: $0 &* 7_919 &+ 3) })
            #expect(canaryBuckets.count == percent * 100)
            #expect(previous.isSubset(of: canaryBuckets), "a key left the canary going to \(percent)%")
            previous = canaryBuckets
        }
    }

    @Test("without a canary every key is stable's")
    func noCanary() {
        let deployment = Deployment(epoch: 9, stable: "v1")
        #expect((0..<UInt64(20_000)).allSatisfy { deployment.version(forKeyHash: $0) == "v1" })
        #expect(deployment.description == "epoch 9: v1")
        #expect(Deployment(epoch: 2, stable: "v1", canary: "v2", percent: 25).description == "epoch 2: v1 + canary v2 at 25%")
    }

    @Test("encodes canary as an explicit null and round-trips")
    func codable() throws {
        let stable = Deployment(epoch: 7, stable: "v-0123456789abcdef")
        let data = try JSONEncoder().encode(stable)
        let json = try #require(String(data: data, encoding: .utf8))
        #expect(json.contains("\"canary\":null"))
        #expect(json.contains("\"percent\":0"))
        #expect(try JSONDecoder().decode(Deployment.self, from: data) == stable)

        let split = Deployment(epoch: 8, stable: "v1", canary: "v2", percent: 50)
        #expect(try JSONDecoder().decode(Deployment.self, from: JSONEncoder().encode(split)) == split)
    }

    @Test(
        "decoding a deployment that breaks an invariant throws and says which",
        arguments: [
            (#"{"epoch":1,"stable":"v1","canary":null,"percent":5}"#, "without a canary must have percent 0"),
            (#"{"epoch":1,"stable":"v1","canary":"v2","percent":101}"#, "percent must be in 0...100"),
            (#"{"epoch":1,"stable":"v1","canary":"v1","percent":10}"#, "must differ"),
            (#"{"epoch":1,"stable":"","canary":null,"percent":0}"#, "stable version must not be empty"),
        ]
    )
    func decodingValidates(_ json: String, _ problem: String) {
        #expect {
            try JSONDecoder().decode(Deployment.self, from: Data(json.utf8))
        } throws: { error in
            "\(error)".contains(problem)
        }
    }

    @Test("a deployment from untrusted input throws instead of stopping the process")
    func checked() throws {
        #expect(try Deployment.checked(epoch: 2, stable: "v1", canary: "v2", percent: 10) == Deployment(epoch: 2, stable: "v1", canary: "v2", percent: 10))
        #expect(throws: RolloutError(code: .invalidDeployment, message: "deployment epoch 2: the canary must differ from the stable version")) {
            try Deployment.checked(epoch: 2, stable: "v1", canary: "v1", percent: 10)
        }
    }

    @Test("creating an impossible deployment stops the process")
    func impossibleDeploymentTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = Deployment(epoch: 1, stable: "v1", canary: "v2", percent: 101)
        }
        await #expect(processExitsWith: .failure) {
            _ = Deployment(epoch: 1, stable: "v1", canary: nil, percent: 10)
        }
    }
}
