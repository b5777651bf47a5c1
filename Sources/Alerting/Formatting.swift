/// Number text for alert messages. The core has no Foundation
/// (DESIGN.md §2), so no `String(format:)`. (Rollout has the same helper;
/// the two pure cores share no module, and this is too small for one.)
enum Formatting {
    /// `value` rounded half away from zero to at most `maxFractionDigits`
    /// digits, without trailing zeros: 0.4312 -> "0.4312", 10.0 -> "10".
    static func decimal(_ value: Double, maxFractionDigits digits: Int = 4) -> String {
        guard value.isFinite, abs(value) < 1e15 else { return "\(value)" }
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((abs(value) * Double(scale)).rounded(.toNearestOrAwayFromZero))
        let whole = scaled / scale
        var fraction = String(scaled % scale)
        fraction = String(repeating: "0", count: digits - fraction.count) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        let sign = value < 0 && scaled != 0 ? "-" : ""
        return fraction.isEmpty ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
    }

    /// `value` rounded to `digits` decimals, for figures sent as JSON numbers.
    static func rounded(_ value: Double, digits: Int = 6) -> Double {
        guard value.isFinite else { return value }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (value * scale).rounded(.toNearestOrAwayFromZero) / scale
    }
}
