import Dispatch
import Foundation
import Synchronization

/// Throughput measurements of the event log, for `ratelimit` benchmarking
/// commands and for checking the targets of DESIGN.md §6 on a real disk:
/// at least 500,000 appended events/s in batches of about 500, and a replay
/// of 1,000,000 events in under half a second.
///
/// Each function creates a fresh log at `path` and refuses to touch an
/// existing file, so it cannot clobber a node's data directory. Build in
/// release mode before trusting the numbers.
public enum EventStoreBenchmark {
    /// Appends `events` events in transactions of `batchSize` through
    /// ``EventLog/append(_:)`` with ``Durability/full`` and returns events
    /// per second. Events cycle over 10,000 keys; building them is not timed.
    public static func appendRate(
        path: String, events: Int, batchSize: Int = 500, durability: Durability = .full
    ) throws(StoreError) -> Double {
        let log = try freshLog(path: path, durability: durability)
        defer { try? log.close() }
        let batches = makeBatches(events: events, batchSize: batchSize)

        let clock = ContinuousClock()
        let start = clock.now
        for batch in batches {
            try log.append(batch)
        }
        return Double(events) / seconds(clock.now - start)
    }

    /// Like ``appendRate(path:events:batchSize:durability:)`` but through a
    /// ``GroupCommitter``: `submitters` threads each submit batches of
    /// `batchSize` and wait for their commit, like request handlers do.
    /// Returns events per second.
    public static func groupCommitRate(
        path: String, events: Int, submitters: Int = 8, batchSize: Int = 64
    ) throws(StoreError) -> Double {
        let log = try freshLog(path: path, durability: .full)
        defer { try? log.close() }
        let committer = GroupCommitter(log: log)
        let batches = makeBatches(events: events, batchSize: batchSize)
        let failure = Mutex<StoreError?>(nil)

        let clock = ContinuousClock()
        let start = clock.now
        DispatchQueue.concurrentPerform(iterations: max(1, submitters)) { worker in
            let done = DispatchSemaphore(value: 0)
            for index in stride(from: worker, to: batches.count, by: max(1, submitters)) {
                committer.submit(batches[index]) { result in
                    if case .failure(let error) = result { failure.withLock { $0 = error } }
                    done.signal()
                }
                done.wait()
            }
        }
        let elapsed = clock.now - start
        committer.close()
        if let error = failure.withLock({ $0 }) { throw error }
        return Double(events) / seconds(elapsed)
    }

    /// Writes `events` events to a fresh log at `path`, reopens it, and
    /// returns the time ``EventLog/replay(after:_:)`` (or, with `raw`,
    /// ``EventLog/replayRaw(after:keys:events:)``) takes to stream them all.
    ///
    /// - Throws: `store.sqlite` if the replay did not return exactly the
    ///   events written, in strictly increasing `seq` order.
    public static func replayTime(path: String, events: Int, raw: Bool = false) throws(StoreError) -> Duration {
        do {
            let writer = try freshLog(path: path, durability: .normal)
            for batch in makeBatches(events: events, batchSize: 10_000) {
                try writer.append(batch)
            }
            try writer.close()
        }

        let log = try EventLog(path: path)
        defer { try? log.close() }
        var count = 0
        var previous: Int64 = 0
        var ordered = true
        var hits = 0
        var keyBytes = 0  // reads each key so the string hand-out is measured
        let clock = ContinuousClock()
        let start = clock.now
        do {
            if raw {
                var keys = 0
                try log.replayRaw(after: 0, keys: { _, _ in keys += 1 }) { event in
                    count += 1
                    hits += event.hits
                    ordered = ordered && event.seq > previous
                    previous = event.seq
                }
            } else {
                try log.replay(after: 0) { event in
                    count += 1
                    hits += event.hits
                    keyBytes &+= event.key.utf8.count
                    ordered = ordered && event.seq > previous
                    previous = event.seq
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .sqlite, message: "replay of \(path) failed: \(error)", path: path)
        }
        let elapsed = clock.now - start
        guard count == events, ordered, hits == events, raw || keyBytes > 0 || events == 0 else {
            throw StoreError(
                code: .sqlite,
                message: "replay of \(path) returned \(count) events (ordered: \(ordered)), expected \(events)",
                path: path)
        }
        return elapsed
    }

    static func freshLog(path: String, durability: Durability) throws(StoreError) -> EventLog {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError(
                code: .cannotOpen,
                message: "benchmark refuses to reuse \(path): it exists; pass a path to a new file",
                path: path)
        }
        return try EventLog(path: path, durability: durability)
    }

    /// `events` one-hit events over 10,000 keys, chunked in `batchSize`.
    static func makeBatches(events: Int, batchSize: Int) -> [[NewEvent]] {
        let keys = (0..<10_000).map { EventKey(namespace: "1001", key: "user:\($0)", rule: "API") }
        let size = max(1, batchSize)
        var batches: [[NewEvent]] = []
        batches.reserveCapacity(events / size + 1)
        var index = 0
        while index < events {
            let end = min(events, index + size)
            batches.append((index..<end).map { i in
                NewEvent(eventKey: keys[i % keys.count], atMs: 1_700_000_000_000 + Int64(i), hits: 1)
            })
            index = end
        }
        return batches
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return max(Double(whole) + Double(fraction) / 1e18, 1e-9)
    }
}
