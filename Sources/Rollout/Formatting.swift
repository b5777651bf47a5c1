/// Number and duration text for verdict reasons and plan descriptions.
/// The core has no Foundation (DESIGN.md §2), so no `String(format:)`.
enum Formatting {
    /// `value` rounded half away from zero to at most `maxFractionDigits`
    /// digits, without trailing zeros: 0.0712345 -> "0.0712", 200.0 -> "200".
    static func decimal(_ value: Double, maxFractionDigits digits: Int = 4) -> String {
        guard value.isFinite else { return "\(value)" }
        guard abs(value) < 1e15 else { return "\(value)" }
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

    /// A duration in ms as `--duration` spells it: "5m", "1h30m", "45s",
    /// "1m500ms", "0s".
    static func duration(_ milliseconds: Int64) -> String {
        guard milliseconds > 0 else { return milliseconds == 0 ? "0s" : "-" + duration(-milliseconds) }
        let hours = milliseconds / 3_600_000
        let minutes = milliseconds / 60_000 % 60
        let seconds = milliseconds / 1_000 % 60
        let millis = milliseconds % 1_000
        var text = ""
        if hours > 0 { text += "\(hours)h" }
        if minutes > 0 { text += "\(minutes)m" }
        if seconds > 0 { text += "\(seconds)s" }
        if millis > 0 { text += "\(millis)ms" }
        return text
    }
}
