import ChaosCore
import LimiterCore
import TestSupport
import Testing

/// The judge must find every real over-admission and never invent one from
/// the uncertainty of when, inside [sent, received], a hit was decided.
@Suite("AdmissionJudge: admitted <= limit per key and window")
struct AdmissionJudgeTests {
    static let hour: Int64 = 3_600_000
    /// An instant well inside an hour window (the judge's aligned windows are since the epoch).
    static let t0: Int64 = 1_800_000_000_000 - 1_800_000_000_000 % hour + 600_000

    static func hit(_ sent: Int64, _ received: Int64? = nil) -> AdmittedHit {
        AdmittedHit(sentMs: sent, receivedMs: received ?? sent + 5)
    }

    @Test("a planted ninth admission of a sliding_log limit of 8 is one over-admission")
    func plantedSlidingLogExcess() {
        let rule = Rule(name: "LOG", limit: 8, periodSeconds: 3600, algorithm: .slidingLog)
        let eight = (0..<8).map { Self.hit(Self.t0 + Int64($0) * 1000) }
        #expect(AdmissionJudge.judge(eight, under: rule).excess == 0)
        let nine = eight + [Self.hit(Self.t0 + 20_000)]
        let verdict = AdmissionJudge.judge(nine, under: rule)
        #expect(verdict.excess == 1)
        #expect(verdict.worst?.count == 9)
        #expect(verdict.worst?.bound == 8)
    }

    @Test("sliding_log: eight admissions more than a period after eight others are within the limit")
    func slidingLogAcrossPeriods() {
        let rule = Rule(name: "LOG", limit: 8, periodSeconds: 60, algorithm: .slidingLog)
        let first = (0..<8).map { Self.hit(Self.t0 + Int64($0) * 100) }
        let later = (0..<8).map { Self.hit(Self.t0 + 61_000 + Int64($0) * 100) }
        #expect(AdmissionJudge.judge(first + later, under: rule).excess == 0)
        // The same sixteen inside one minute: eight too many.
        let crowded = (0..<16).map { Self.hit(Self.t0 + Int64($0) * 100) }
        #expect(AdmissionJudge.judge(crowded, under: rule).excess == 8)
    }

    @Test("a hit whose [sent, received] straddles a fixed window's edge is counted in neither window")
    func straddlingHitIsNotOver() throws {
        let rule = Rule(name: "SHORT", limit: 3, periodSeconds: 5, algorithm: .fixedWindow)
        let edge = Self.t0 - Self.t0 % 5_000 + 5_000
        let before = (1...3).map { Self.hit(edge - 4_000 + Int64($0) * 100) }
        let after = (1...3).map { Self.hit(edge + Int64($0) * 100) }
        // Sent before the edge, answered after it: decided in one window or the other, unknown which.
        let straddling = Self.hit(edge - 2, edge + 3)
        let verdict = AdmissionJudge.judge(before + [straddling] + after, under: rule)
        #expect(verdict.excess == 0)
        #expect(verdict.uncounted == 1)
        // The same hit answered before the edge is certainly a fourth in the first window.
        let inside = AdmissionJudge.judge(before + [Self.hit(edge - 10, edge - 1)] + after, under: rule)
        #expect(inside.excess == 1)
        #expect(inside.uncounted == 0)
        let worst = try #require(inside.worst)
        #expect(worst.fromMs == before[0].sentMs && worst.toMs == edge - 1 && worst.count == 4 && worst.bound == 3)
    }

    @Test("fixed_window: excess is summed over the disjoint windows")
    func fixedWindowsSum() {
        let rule = Rule(name: "SHORT", limit: 3, periodSeconds: 5, algorithm: .fixedWindow)
        let start = Self.t0 - Self.t0 % 5_000
        let hits = (0..<5).map { Self.hit(start + Int64($0) * 10) } + (0..<6).map { Self.hit(start + 5_000 + Int64($0) * 10) }
        #expect(AdmissionJudge.judge(hits, under: rule).excess == 2 + 3)
    }

    @Test("sliding_window is held to its limit per aligned window")
    func slidingWindowPerAlignedWindow() {
        let rule = Rule(name: "SLIDING", limit: 6, periodSeconds: 3600, algorithm: .slidingWindow)
        let seven = (0..<7).map { Self.hit(Self.t0 + Int64($0) * 1000) }
        #expect(AdmissionJudge.judge(seven, under: rule).excess == 1)
        #expect(AdmissionJudge.judge(Array(seven.prefix(6)), under: rule).excess == 0)
    }

    @Test("token_bucket and gcra: burst + limit * elapsed / period, over the widest [sent, received] span",
          arguments: [Algorithm.tokenBucket, .gcra])
    func rateBound(algorithm: Algorithm) {
        let rule = Rule(name: "RATE", limit: 1, periodSeconds: 600, algorithm: algorithm, burst: 6)
        let burst = (0..<6).map { Self.hit(Self.t0 + Int64($0) * 100) }
        #expect(AdmissionJudge.judge(burst, under: rule).excess == 0)
        // A seventh within the same minute: no token had been refilled.
        #expect(AdmissionJudge.judge(burst + [Self.hit(Self.t0 + 60_000)], under: rule).excess == 1)
        // A seventh received 600 s after the first was sent may have had one refilled token.
        #expect(AdmissionJudge.judge(burst + [Self.hit(Self.t0 + 599_990, Self.t0 + 600_000)], under: rule).excess == 0)
    }

    @Test("capacity over a run: the most each rule admits for one key")
    func capacity() {
        let start = Self.t0
        let end = Self.t0 + 30_000
        func capacity(_ rule: Rule) -> Int { AdmissionJudge.capacity(of: rule, fromMs: start, toMs: end) }
        #expect(capacity(Rule(name: "L", limit: 8, periodSeconds: 3600, algorithm: .slidingLog)) == 8)
        #expect(capacity(Rule(name: "F", limit: 6, periodSeconds: 3600, algorithm: .fixedWindow)) == 6)
        #expect(capacity(Rule(name: "B", limit: 1, periodSeconds: 600, algorithm: .tokenBucket, burst: 6)) == 6)
        // t0 is on a 5 s edge, so [t0, t0 + 30 s] touches 7 windows (the last at its first millisecond).
        #expect(capacity(Rule(name: "S", limit: 3, periodSeconds: 5, algorithm: .fixedWindow)) == 3 * 7)
        #expect(capacity(Rule(name: "G", limit: 60, periodSeconds: 60, algorithm: .gcra, burst: 5)) == 5 + 30)
    }

    /// Drives the real limiter (LimiterCore's `decide`) with random request
    /// times and wraps every admitted decision instant in a random [sent,
    /// received] interval around it: a correct limiter is never judged over,
    /// whatever the slop.
    @Test("over random traces of the real limiter, wrapped in random intervals, no key is judged over",
          arguments: Algorithm.allCases)
    func noFalseOverAdmission(algorithm: Algorithm) {
        let rule = Rule(name: "R", limit: 5, periodSeconds: 10, algorithm: algorithm, burst: 4)
        for seed in UInt64(1)...60 {
            var random = SplitMix64(seed: seed)
            let trace = Self.trace(rule, random: &random)
            let hits = trace.admitted.map {
                AdmittedHit(sentMs: $0 - Int64(random.below(300)), receivedMs: $0 + Int64(random.below(300)))
            }
            #expect(AdmissionJudge.judge(hits, under: rule).excess == 0, "seed \(seed): a correct limiter judged over")
        }
    }

    /// Where the real limiter denied (its window was full), one more
    /// admission at that instant is an over-admission the judge must find.
    @Test("one admission planted where the real limiter denied is found", arguments: [Algorithm.fixedWindow, .slidingLog])
    func plantedWhereDenied(algorithm: Algorithm) throws {
        let rule = Rule(name: "R", limit: 5, periodSeconds: 10, algorithm: algorithm)
        for seed in UInt64(1)...60 {
            var random = SplitMix64(seed: seed)
            let trace = Self.trace(rule, random: &random)
            let denied = try #require(trace.denied.first, "seed \(seed) has no denial")
            let hits = (trace.admitted + [denied]).map { AdmittedHit(sentMs: $0, receivedMs: $0) }
            #expect(AdmissionJudge.judge(hits, under: rule).excess >= 1, "seed \(seed): planted at \(denied) not found")
        }
    }

    /// 400 requests of one hit at random gaps: the instants admitted and denied.
    static func trace(_ rule: Rule, random: inout SplitMix64) -> (admitted: [Int64], denied: [Int64]) {
        var state: CounterState?
        var now = t0 + Int64(random.below(10_000))
        var admitted: [Int64] = []
        var denied: [Int64] = []
        for _ in 0..<400 {
            now += Int64(random.below(400))
            if rule.decide(&state, hits: 1, now: now).allowed { admitted.append(now) } else { denied.append(now) }
        }
        return (admitted, denied)
    }
}
