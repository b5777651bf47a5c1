import Dispatch
@testable import EventStore
import Synchronization

/// Holds SQLite's write lock on a log file from a second connection until
/// ``release()``, so a ``GroupCommitter`` on the same file is stuck at
/// `BEGIN IMMEDIATE` with whatever batch it took, and every later submission
/// queues behind it. Release well within the log's 5 s busy timeout.
final class WriteLockHolder: Sendable {
    private let unlock = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let failure = Mutex<StoreError?>(nil)

    /// Returns once the lock is held.
    init(path: String) throws {
        let blocker = try EventLog(path: path)
        let locked = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { [self] in
            do throws(StoreError) {
                try blocker.writeTransaction("holding the write lock for a test") { _ in
                    locked.signal()
                    unlock.wait()
                }
            } catch {
                failure.withLock { $0 = error }
                locked.signal()
            }
            try? blocker.close()
            done.signal()
        }
        locked.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Ends the transaction and returns once the lock is free.
    func release() {
        unlock.signal()
        done.wait()
    }
}
