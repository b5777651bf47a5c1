import Glibc

/// Checks `condition` every `interval` until it holds, and fails once `limit`
/// has passed without it holding: the way to wait for something another
/// thread, process or protocol does. Never sleep a fixed time instead: that is
/// either too short on a loaded machine or slower than needed everywhere else.
///
/// The condition is checked at least once, and once more at the deadline.
///
/// - Returns: how long it took until the condition held.
/// - Throws: ``PollTimeout`` naming `what` when the deadline passes, or
///   whatever `condition` throws (to stop early, e.g. when a process died).
@discardableResult
public func poll(
    _ what: @autoclosure () -> String,
    within limit: Duration,
    every interval: Duration = .milliseconds(20),
    until condition: () async throws -> Bool
) async throws -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + limit
    while true {
        if try await condition() { return clock.now - start }
        let now = clock.now
        guard now < deadline else { throw PollTimeout(what: what(), limit: limit) }
        try await clock.sleep(for: min(interval, deadline - now))
    }
}

/// What ``poll(_:within:every:until:)`` throws when its condition did not
/// hold in time; catch it to add context, such as a process's output.
public struct PollTimeout: Error, CustomStringConvertible {
    public var what: String
    public var limit: Duration

    public var description: String { "not within \(limit): \(what)" }
}

/// ``poll(_:within:every:until:)`` without suspending: the calling thread
/// sleeps between checks. For a short wait in a stretch of a test that must
/// not give up its thread, such as one that has to act while a state lasts:
/// a suspended test resumes only when the test pool has a thread free, which
/// on a loaded 2-core machine can be seconds later.
@discardableResult
public func pollBlocking(
    _ what: @autoclosure () -> String,
    within limit: Duration,
    every interval: Duration = .milliseconds(1),
    until condition: () throws -> Bool
) throws -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + limit
    while true {
        if try condition() { return clock.now - start }
        let now = clock.now
        guard now < deadline else { throw PollTimeout(what: what(), limit: limit) }
        let pause = min(interval, deadline - now)
        let (seconds, attoseconds) = pause.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        nanosleep(&request, nil)
    }
}
