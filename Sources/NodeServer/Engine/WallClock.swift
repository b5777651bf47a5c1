#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Where the node reads the time. The limiter cores take `now` as a value;
/// this is the one place the shell asks the operating system.
public protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func nowMs() -> Int64
}

public struct SystemClock: WallClock {
    public init() {}
    public func nowMs() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// A clock tests move by hand.
public final class ManualClock: WallClock {
    private let now: Mutex<Int64>
    public init(_ start: Int64 = 1_700_000_000_000) { now = Mutex(start) }
    public func nowMs() -> Int64 { now.withLock { $0 } }
    public func advance(by ms: Int64) { now.withLock { $0 += ms } }
    public func set(_ ms: Int64) { now.withLock { $0 = ms } }
}

/// Monotonic nanoseconds for latency measurement.
@inline(__always)
func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
