import Foundation
import Rollout
import Testing

@Suite("RolloutPlan: the seed's steps, hold times and the dry-run description")
struct RolloutPlanTests {
    @Test(
        "steps are 10/25/50/75/100 held duration/5; the worst case extends each once",
        arguments: [
            (Int64(300_000), Int64(60_000)),
            (30_000, 6_000),
            (3_600_000, 720_000),
            (7, 1),  // the remainder of the division is dropped
        ]
    )
    func schedule(_ duration: Int64, _ hold: Int64) throws {
        let plan = try RolloutPlan(duration: duration)
        #expect(plan.percents == [10, 25, 50, 75, 100])
        #expect(plan.stepHold == hold)
        #expect(plan.nominalDuration == 5 * hold)
        #expect(plan.worstCaseDuration == 10 * hold)
        #expect(plan.plannedSteps.map(\.earliestStart) == (0..<5).map { Int64($0) * hold })
        #expect(plan.plannedSteps.map(\.latestStart) == (0..<5).map { Int64($0) * 2 * hold })
    }

    @Test("the default is five minutes with the §7 thresholds")
    func defaults() throws {
        let plan = try RolloutPlan()
        #expect(plan.duration == 300_000)
        #expect(plan.thresholds == RolloutThresholds(maxErrorRate: 0.05, maxP95Milliseconds: 200, maxBlockRateIncrease: 0.2, minSamples: 100))
    }

    @Test("--dry-run lines")
    func describe() throws {
        let plan = try RolloutPlan(duration: 300_000)
        #expect(
            plan.describe(version: "v-0123456789abcdef") == [
                "gradual rollout of v-0123456789abcdef: 5 steps of 1m, 5m in all, worst case 10m if every step is extended once",
                "step 1: 10% of keys for 1m (up to 2m if under 100 canary decisions)",
                "step 2: 25% of keys for 1m (up to 2m if under 100 canary decisions)",
                "step 3: 50% of keys for 1m (up to 2m if under 100 canary decisions)",
                "step 4: 75% of keys for 1m (up to 2m if under 100 canary decisions)",
                "step 5: 100% of keys for 1m (up to 2m if under 100 canary decisions)",
                "a step fails on: canary error rate > 0.05, canary p95 > 200 ms, canary block rate > stable + 0.2, "
                    + "fewer than 100 canary decisions after one extension",
            ]
        )
        let odd = try RolloutPlan(duration: 3_661_500, percents: [50, 100])
        #expect(odd.describe(version: "v")[0].hasPrefix("gradual rollout of v: 2 steps of 30m30s750ms, 1h1m1s500ms in all, worst case 2h2m3s"))
    }

    @Test(
        "plans that cannot run are refused, naming the problem",
        arguments: [
            (Int64(300_000), [Int](), "steps must not be empty"),
            (300_000, [10, 10, 100], "steps must rise strictly, step 2 is 10% after 10%"),
            (300_000, [10, 50], "the last step must be 100%, got 50%"),
            (300_000, [0, 100], "step 1 is 0%, must be in 1...100"),
            (300_000, [50, 101], "step 2 is 101%"),
            (4, [10, 25, 50, 75, 100], "duration 4 ms is too short"),
            (-1, [100], "duration -1 ms is too short"),
            (604_800_001, [10, 25, 50, 75, 100], "duration 604800001 ms is longer than the 604800000 ms (7 days)"),
            (Int64.max, [10, 25, 50, 75, 100], "is longer than"),
        ]
    )
    func invalidPlans(_ duration: Int64, _ percents: [Int], _ message: String) {
        #expect {
            try RolloutPlan(duration: duration, percents: percents)
        } throws: { error in
            let error = error as? RolloutError
            return error?.code == .invalidPlan && error?.message.contains(message) == true
        }
    }

    @Test(
        "thresholds out of range are refused, naming the field",
        arguments: [
            (RolloutThresholds(maxErrorRate: 1.5), "maxErrorRate"),
            (RolloutThresholds(maxErrorRate: .nan), "maxErrorRate"),
            (RolloutThresholds(maxP95Milliseconds: 0), "maxP95Milliseconds"),
            (RolloutThresholds(maxBlockRateIncrease: -0.1), "maxBlockRateIncrease"),
            (RolloutThresholds(minSamples: 0), "minSamples"),
        ]
    )
    func invalidThresholds(_ thresholds: RolloutThresholds, _ field: String) {
        #expect {
            try RolloutPlan(duration: 60_000, thresholds: thresholds)
        } throws: { error in
            (error as? RolloutError)?.message.contains("rollout threshold \(field)") == true
        }
    }

    @Test("a plan round-trips through JSON, and a corrupted one is refused")
    func codable() throws {
        let plan = try RolloutPlan(duration: 90_000, thresholds: RolloutThresholds(minSamples: 250))
        let data = try JSONEncoder().encode(plan)
        #expect(try JSONDecoder().decode(RolloutPlan.self, from: data) == plan)
        let corrupted = #"{"percents":[10,5,100],"duration":90000,"thresholds":{"maxErrorRate":0.05,"maxP95Milliseconds":200,"maxBlockRateIncrease":0.2,"minSamples":100}}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RolloutPlan.self, from: Data(corrupted.utf8)) }
    }
}
