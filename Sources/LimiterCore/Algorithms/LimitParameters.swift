/// A rule's numbers, clamped into the ranges the arithmetic is proven safe for, in the
/// units the algorithms use. Built once per check; no allocation.
///
/// Bounds that keep every intermediate product inside `Int128` (and every sum of times inside
/// `Int64`): `L`, `B` < 2^31, `W` < 2^42 ms, `|t|` <= 2^60 ms, counts <= 2^63.
struct LimitParameters: Sendable {
    /// `L`.
    let limit: Int64
    /// `W` in milliseconds.
    let period: Int64
    /// `B`.
    let burst: Int64

    /// Times are clamped to ±2^60 ms (36 million years) so window ends never overflow.
    static let timeBound: Int64 = 1 << 60
    /// Times stored in a state stay within ±2^61 ms: inputs are clamped to ±2^60, and public
    /// state initializers clamp to this bound, so a hand-built state cannot make sums overflow.
    static let stateTimeBound: Int64 = 1 << 61

    @inline(__always)
    static func clampStateTime(_ t: Int64) -> Int64 {
        t.clamped(to: -stateTimeBound...stateTimeBound)
    }

    init(_ rule: Rule) {
        limit = Int64(rule.limit.clamped(to: Rule.limitRange))
        period = rule.periodMs
        burst = Int64(rule.burst.clamped(to: Rule.limitRange))
    }

    @inline(__always)
    static func clampTime(_ t: Int64) -> Int64 {
        t.clamped(to: -timeBound...timeBound)
    }

    /// The start of the aligned window holding `t` (windows are multiples of `W` since the epoch).
    @inline(__always)
    func windowStart(of t: Int64) -> Int64 {
        floorDiv(t, period) * period
    }
}

// MARK: - Exact integer helpers

/// Floor division for a positive divisor (Swift's `/` truncates toward zero).
@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b < 0) ? q - 1 : q
}

/// Floor division for a positive divisor, with a 64-bit fast path: 128-bit division is a
/// library call, and most values on the hot path fit in 64 bits.
@inline(__always)
func floorDiv(_ a: Int128, _ b: Int128) -> Int128 {
    if let a64 = Int64(exactly: a), let b64 = Int64(exactly: b) {
        return Int128(floorDiv(a64, b64))
    }
    let q = a / b
    return (a % b < 0) ? q - 1 : q
}

/// Ceiling division for a positive divisor.
@inline(__always)
func ceilDiv(_ a: Int128, _ b: Int128) -> Int128 {
    -floorDiv(-a, b)
}

extension Int {
    /// Counters only grow through forced replays; saturating keeps a pathological log from trapping.
    @inline(__always)
    func saturatingAdd(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}

extension Int64 {
    /// Narrows a result that is in range for every valid rule; saturates otherwise.
    @inline(__always)
    init(saturating value: Int128) {
        self = Int64(clamping: value)
    }
}
