/// When the shell retries a webhook POST that failed (DESIGN.md §8: "retried
/// with backoff, never blocking checks"): capped exponential backoff with a
/// bounded number of attempts, as a pure value the sender consults.
///
/// Attempt 1 is sent at once; after attempt `n` fails the sender waits
/// ``delay(afterAttempt:)`` ms, or gives up when it is nil. Deterministic on
/// purpose (no jitter): there is one sender per coordinator, so there is no
/// herd to spread, and tests can state the exact schedule.
public struct RetrySchedule: Sendable, Hashable, Codable {
    /// Wait after the first failed attempt, in ms.
    public var firstDelay: Int64
    /// Each further wait is this many times the previous one.
    public var multiplier: Int64
    /// No wait is longer than this, in ms.
    public var maxDelay: Int64
    /// Attempts in all, the first included.
    public var maxAttempts: Int

    /// The defaults: 1 s, 2 s, 4 s, ... up to 30 s, 8 attempts (91 s
    /// of retrying, well inside the 5 m alert window).
    public init(firstDelay: Int64 = 1_000, multiplier: Int64 = 2, maxDelay: Int64 = 30_000, maxAttempts: Int = 8) {
        self.firstDelay = firstDelay
        self.multiplier = multiplier
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
    }

    /// Throws ``AlertingError/Code/invalidRetrySchedule`` naming the field.
    public func validate() throws(AlertingError) {
        func invalid(_ message: String) -> AlertingError { AlertingError(code: .invalidRetrySchedule, message: message) }
        guard self.firstDelay >= 0 else { throw invalid("retry firstDelay must be >= 0 ms, got \(self.firstDelay)") }
        guard self.multiplier >= 1 else { throw invalid("retry multiplier must be >= 1, got \(self.multiplier)") }
        guard self.maxDelay >= self.firstDelay else {
            throw invalid("retry maxDelay must be >= firstDelay (\(self.firstDelay) ms), got \(self.maxDelay)")
        }
        guard self.maxAttempts >= 1 else { throw invalid("retry maxAttempts must be >= 1, got \(self.maxAttempts)") }
    }

    /// The wait in ms after attempt `attempt` (1-based) failed, or nil when
    /// that was the last attempt: `min(firstDelay * multiplier^(attempt-1), maxDelay)`.
    public func delay(afterAttempt attempt: Int) -> Int64? {
        precondition(attempt >= 1, "RetrySchedule.delay: attempts count from 1, got \(attempt)")
        guard attempt < self.maxAttempts else { return nil }
        var delay = min(self.firstDelay, self.maxDelay)
        for _ in 1..<attempt {
            // Multiply until the cap; the cap also keeps this from overflowing.
            let (product, overflow) = delay.multipliedReportingOverflow(by: self.multiplier)
            if overflow || product >= self.maxDelay { return self.maxDelay }
            delay = product
        }
        return delay
    }

    /// Every wait, in order: `maxAttempts - 1` of them.
    public var delays: [Int64] {
        (1..<max(1, self.maxAttempts)).compactMap { self.delay(afterAttempt: $0) }
    }

    /// The longest a notification can wait between its first and its last
    /// attempt (the POSTs' own time aside).
    public var totalDelay: Int64 { self.delays.reduce(0, +) }
}
