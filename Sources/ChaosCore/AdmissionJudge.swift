import LimiterCore

/// Judges one key's acknowledged admissions against its rule (DESIGN §4),
/// knowing only that each hit was decided somewhere in `[sentMs,
/// receivedMs]`. Every judgement is conservative: a window is charged only
/// with hits that were certainly decided inside it, so an excess reported
/// here is a real over-admission, never an artefact of timing.
///
/// - `fixed_window`, `sliding_window`: at most `L` admitted per aligned
///   window `[kW, (k+1)W)` (the sliding estimate is never below the current
///   window's count, so this holds for it too, if more loosely). A hit whose
///   interval straddles a window edge is not counted in either window.
/// - `sliding_log`: at most `L` admitted in any span shorter than `W`: the
///   last of them saw all the others in its trailing window. Judged over
///   every set of hits whose intervals fit within `[a, a + W)`.
/// - `token_bucket`, `gcra`: at most `B + L * (b - a) / W` admitted with
///   decision times in `[a, b]` (a full bucket plus the refill; for GCRA,
///   `tau / T + (b - a) / T`), over every `[a, b]` from one hit's send to
///   another's receipt, in exact integers: `hits * W <= B * W + L * (b - a)`.
public enum AdmissionJudge {
    /// The verdict on one key.
    public struct Verdict: Sendable, Hashable {
        public var admitted: Int
        /// Admissions no window could be charged with (straddling an aligned
        /// window's edge); always 0 outside the aligned-window rules.
        public var uncounted: Int
        /// The most admitted beyond the bound in one judged window; for the
        /// aligned windows, summed over the (disjoint) windows.
        public var excess: Int
        /// The window with the largest excess, when there is one.
        public var worst: Window?
    }

    /// Where the bound was broken: `count` admissions, all decided within
    /// `[fromMs, toMs]` (for the aligned windows, inside one window), where at
    /// most `bound` could be.
    public struct Window: Sendable, Hashable {
        public var fromMs: Int64
        public var toMs: Int64
        public var count: Int
        public var bound: Int
    }

    public static func judge(_ hits: [AdmittedHit], under rule: Rule) -> Verdict {
        switch rule.algorithm {
        case .fixedWindow, .slidingWindow: alignedWindows(hits, limit: rule.limit, periodMs: rule.periodMs)
        case .slidingLog: trailingSpans(hits, limit: rule.limit, periodMs: rule.periodMs)
        case .tokenBucket, .gcra: rate(hits, limit: rule.limit, burst: rule.burst, periodMs: rule.periodMs)
        }
    }

    /// The most the rule can admit for one key between `fromMs` and `toMs`
    /// (the run's total capacity per key, for the report).
    public static func capacity(of rule: Rule, fromMs: Int64, toMs: Int64) -> Int {
        let w = rule.periodMs
        let span = max(0, toMs - fromMs)
        switch rule.algorithm {
        case .fixedWindow, .slidingWindow:
            return rule.limit * Int(floorDiv(toMs, w) - floorDiv(fromMs, w) + 1)
        case .slidingLog:
            // [from, to] is covered by this many half-open spans of length W.
            return rule.limit * Int(span / w + 1)
        case .tokenBucket, .gcra:
            return Int((Int64(rule.burst) * w + Int64(rule.limit) * span) / w)
        }
    }

    private static func alignedWindows(_ hits: [AdmittedHit], limit: Int, periodMs w: Int64) -> Verdict {
        var perWindow: [Int64: [AdmittedHit]] = [:]
        var uncounted = 0
        for hit in hits {
            let window = floorDiv(hit.sentMs, w)
            if window == floorDiv(hit.receivedMs, w) {
                perWindow[window, default: []].append(hit)
            } else {
                uncounted += 1
            }
        }
        var verdict = Verdict(admitted: hits.count, uncounted: uncounted, excess: 0, worst: nil)
        for (_, counted) in perWindow.sorted(by: { $0.key < $1.key }) {
            verdict.excess += max(0, counted.count - limit)
            if counted.count > limit, counted.count - limit > (verdict.worst.map { $0.count - $0.bound } ?? 0) {
                // The span the window's counted hits were decided in, not the whole (maybe hour-long) window.
                verdict.worst = Window(fromMs: counted.map(\.sentMs).min()!, toMs: counted.map(\.receivedMs).max()!,
                                       count: counted.count, bound: limit)
            }
        }
        return verdict
    }

    private static func trailingSpans(_ hits: [AdmittedHit], limit: Int, periodMs w: Int64) -> Verdict {
        let bySend = hits.sorted { ($0.sentMs, $0.receivedMs) < ($1.sentMs, $1.receivedMs) }
        var verdict = Verdict(admitted: hits.count, uncounted: 0, excess: 0, worst: nil)
        for (index, first) in bySend.enumerated() {
            let start = first.sentMs
            let inside = bySend[index...].filter { $0.receivedMs < start + w }
            let excess = inside.count - limit
            if excess > verdict.excess {
                verdict.excess = excess
                verdict.worst = Window(fromMs: start, toMs: inside.map(\.receivedMs).max() ?? start, count: inside.count,
                                       bound: limit)
            }
        }
        return verdict
    }

    private static func rate(_ hits: [AdmittedHit], limit: Int, burst: Int, periodMs w: Int64) -> Verdict {
        let bySend = hits.sorted { ($0.sentMs, $0.receivedMs) < ($1.sentMs, $1.receivedMs) }
        var verdict = Verdict(admitted: hits.count, uncounted: 0, excess: 0, worst: nil)
        for index in bySend.indices {
            let start = bySend[index].sentMs
            // Hits sent at or after `start`, by receipt: the first k of them
            // were all decided within [start, k-th receipt].
            let receipts = bySend[index...].map(\.receivedMs).sorted()
            for (offset, end) in receipts.enumerated() {
                let count = offset + 1
                let bound = Int((Int64(burst) * w + Int64(limit) * (end - start)) / w)
                if count - bound > verdict.excess {
                    verdict.excess = count - bound
                    verdict.worst = Window(fromMs: start, toMs: end, count: count, bound: bound)
                }
            }
        }
        return verdict
    }

    /// Division rounding toward negative infinity, as window numbers need.
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }
}
