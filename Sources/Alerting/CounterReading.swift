/// One scrape of a node's cumulative counters, summed over its rules and
/// versions (DESIGN.md §8 evaluates the seed's alerts cluster-wide):
/// `rate_limit_requests_total`, `rate_limit_requests_blocked_total`,
/// `rate_limit_errors_total`. Counters only grow, except when the node
/// restarts and they start again from 0.
public struct CounterReading: Sendable, Hashable, Codable {
    public var total: Int64
    public var blocked: Int64
    public var errors: Int64

    public init(total: Int64, blocked: Int64 = 0, errors: Int64 = 0) {
        self.total = total
        self.blocked = blocked
        self.errors = errors
    }

    public static let zero = CounterReading(total: 0)

    /// The growth from `earlier` to this reading, Prometheus `increase()`
    /// style: a counter that went down was reset, and everything it shows
    /// now happened since the reset.
    func increase(since earlier: CounterReading) -> CounterReading {
        func delta(_ now: Int64, _ before: Int64) -> Int64 { now >= before ? now - before : now }
        return CounterReading(
            total: delta(self.total, earlier.total),
            blocked: delta(self.blocked, earlier.blocked),
            errors: delta(self.errors, earlier.errors)
        )
    }

    /// The counters that went down since `earlier`: a reset.
    func resetFields(since earlier: CounterReading) -> [String] {
        var fields: [String] = []
        if self.total < earlier.total { fields.append("total") }
        if self.blocked < earlier.blocked { fields.append("blocked") }
        if self.errors < earlier.errors { fields.append("errors") }
        return fields
    }
}
