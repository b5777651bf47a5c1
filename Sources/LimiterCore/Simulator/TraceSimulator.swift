import JSONCore

/// Runs a trace of checks through the limiter with no network and no clock: the engine behind
/// `ratelimit simulate --trace FILE` (DESIGN.md §5). Each input line's `t` is the check's
/// `now`, so a trace is replayed identically on every machine.
///
/// Feed it line by line (``run(line:number:)``) to stream a large file, or hand it a whole
/// string (``run(rules:input:)``). Lines need not be in time order; each counter reads an
/// earlier `t` than its latest as that latest time (see ``Rule/decide(_:hits:now:)``).
/// Memory grows with the number of distinct (rule, key) pairs.
public struct TraceSimulator: Sendable {
    public let rules: [String: Rule]
    public private(set) var table = LimiterTable()
    private var linesRead = 0

    public init(rules: [String: Rule]) {
        self.rules = rules
    }

    /// Runs line `number` (1-based, for error messages) and returns its output line
    /// `{"t":..,"key":..,"rule":..,"allowed":..,"remaining":..}` without a newline, or nil for
    /// a blank line.
    public mutating func run(line: String, number: Int) throws(TraceError) -> String? {
        linesRead = number
        guard let event = try TraceEvent.parse(line: line, number: number) else { return nil }
        guard let rule = rules[event.rule] else {
            throw TraceError(
                code: .unknownRule, line: number, field: "rule",
                detail: "names unknown rule \"\(event.rule)\" (known: \(rules.keys.sorted().joined(separator: ", ")))"
            )
        }
        let decision = table.check(rule: rule, key: event.key, hits: event.hits, now: event.t)
        return Self.output(event, decision)
    }

    /// Runs the next line, numbering lines from 1 in call order.
    public mutating func run(line: String) throws(TraceError) -> String? {
        try run(line: line, number: linesRead + 1)
    }

    /// Runs a whole trace and returns the output, one line (newline-terminated) per non-blank
    /// input line. Stops at the first bad line.
    public static func run(rules: [String: Rule], input: String) throws(TraceError) -> String {
        var simulator = TraceSimulator(rules: rules)
        var output = ""
        var number = 0
        for line in input.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            if let result = try simulator.run(line: String(line), number: number) {
                output += result
                output += "\n"
            }
        }
        return output
    }

    static func output(_ event: TraceEvent, _ decision: Decision) -> String {
        var writer = JSONWriter(capacity: 64 + event.key.utf8.count)
        writer.beginObject()
        writer.field("t", event.t)
        writer.field("key", event.key)
        writer.field("rule", event.rule)
        writer.field("allowed", decision.allowed)
        writer.field("remaining", decision.remaining)
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
