/// What happened cluster-wide over the alert window: the increase of each
/// counter summed over series (nodes, and versions on each), and the error
/// rate per second.
public struct WindowFigures: Sendable, Hashable, Codable {
    /// Requests answered in the window.
    public var requests: Int64
    public var blocked: Int64
    public var errors: Int64
    /// Sum over series of each series' errors / its observed span, as
    /// `sum(rate(rate_limit_errors_total[window]))` would.
    public var errorsPerSecond: Double
    /// Series that contributed (at least two scrapes in the window).
    public var series: Int

    public init(requests: Int64 = 0, blocked: Int64 = 0, errors: Int64 = 0, errorsPerSecond: Double = 0, series: Int = 0) {
        self.requests = requests
        self.blocked = blocked
        self.errors = errors
        self.errorsPerSecond = errorsPerSecond
        self.series = series
    }

    public static let none = WindowFigures()

    /// True when anything was answered or failed in the window; a window
    /// without traffic fires nothing (§8).
    public var hasTraffic: Bool { self.requests > 0 || self.errors > 0 }

    /// blocked / requests, or nil without requests.
    public var blockRatio: Double? {
        self.requests > 0 ? Double(self.blocked) / Double(self.requests) : nil
    }
}
