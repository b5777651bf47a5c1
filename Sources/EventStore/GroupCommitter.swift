import Dispatch
import Foundation
import Synchronization

/// Batches appends from many callers into one transaction per round, and
/// releases each caller only after the transaction holding its events has
/// committed: the output gate of Cloudflare Durable Objects (a response waits
/// for its storage writes) built on classic database group commit.
///
/// A dedicated thread runs the loop: take everything submitted so far, append
/// it in one ``EventLog/append(_:)`` transaction, then run every completion
/// with its own last `seq` (or the same error for all). While one transaction
/// commits, new submissions queue up and form the next batch, so the number
/// of fsyncs adapts to load instead of growing with it.
///
/// Completions run on that thread, one after another: they must be quick
/// (resume a continuation, write a response) and must not call the blocking
/// ``flush()`` or ``close()``, which would wait on themselves.
///
/// A caller that holds a whole batch of events may commit it on its own
/// thread instead, when the commit thread is idle and nothing waits
/// (``reserveOrSubmit(_:completion:)``): that saves the two hand-offs between
/// threads, to the commit thread and back, on the way to its answer.
///
/// Call ``close()`` on shutdown: it drains what was submitted, then stops
/// the thread. Dropping the last reference also closes, without waiting.
public final class GroupCommitter: Sendable {
    /// The log this committer appends to.
    public var log: EventLog { core.log }

    private let core: Core

    /// Starts the commit thread for `log` and names it `threadName` (Linux
    /// keeps 15 bytes; a name `perf` and `top -H` usually show, though in
    /// about one test run in ten it was found replaced by a Dispatch queue's).
    /// `onCommit`, when given, runs on that thread after each transaction
    /// that appended events commits, with their number, before the completions.
    public init(log: EventLog, threadName: String = "group-commit",
                onCommit: (@Sendable (_ events: Int) -> Void)? = nil) {
        let core = Core(log: log, onCommit: onCommit)
        self.core = core
        // Named from inside: Foundation names the OS thread only from itself.
        let thread = Thread {
            Thread.current.name = threadName
            core.run()
        }
        thread.start()
    }

    deinit {
        core.close(then: nil)
    }

    /// Queues `events` for the next transaction. `completion` runs on the
    /// commit thread after that transaction commits, with the `seq` of the
    /// last of these events, or fails with the transaction's error. An empty
    /// list is a marker: it completes once everything submitted before it has
    /// committed, with the last committed `seq`.
    ///
    /// After ``close()`` has begun, `completion` runs at once with
    /// `store.closed` and nothing is appended.
    public func submit(
        _ events: [NewEvent],
        completion: @escaping @Sendable (Result<Int64, StoreError>) -> Void
    ) {
        core.submit(Submission(events: events, completion: completion))
    }

    /// When the commit thread is idle and nothing is queued, reserves the log
    /// for `events` and returns the commit for the caller to run on its own
    /// thread: the transaction and then `completion` run there, when it is
    /// called. Submissions made in the meantime queue behind it, in order, and
    /// the commit thread takes them once it has run. Otherwise this submits
    /// as ``submit(_:completion:)`` does and returns nil.
    ///
    /// Call the returned commit exactly once, soon, and outside any lock a
    /// completion might take: until it has run, nothing else is committed.
    public func reserveOrSubmit(
        _ events: [NewEvent],
        completion: @escaping @Sendable (Result<Int64, StoreError>) -> Void
    ) -> (@Sendable () -> Void)? {
        core.reserveOrSubmit(Submission(events: events, completion: completion))
    }

    /// Appends `events` in the next group transaction and returns the `seq`
    /// of the last one once it is committed. Cancelling the task does not
    /// withdraw the events: they may already be in the transaction.
    public func submit(_ events: [NewEvent]) async throws(StoreError) -> Int64 {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Int64, StoreError>, Never>) in
            submit(events) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Waits until everything submitted before this call is committed and
    /// returns the last committed `seq`.
    @discardableResult
    public func flush() async throws(StoreError) -> Int64 {
        try await submit([])
    }

    /// Blocking ``flush()`` for synchronous callers; never call it from a
    /// completion.
    @discardableResult
    public func flush() throws(StoreError) -> Int64 {
        try Self.waitFor { submit([], completion: $0) }
    }

    /// Runs ``EventLog/restartWAL()`` on the commit thread before its next
    /// transaction (ahead of submissions already queued, so steady load
    /// cannot hold it off), then `completion` with its result, on that thread.
    /// Call it right after an ``EventLog/checkpoint()``: what it copies then
    /// is only what was committed while the checkpoint ran, so the commits
    /// it holds back wait about one extra fsync. After ``close()`` has begun
    /// it does nothing and completes with `false`.
    public func restartWAL(completion: @escaping @Sendable (Result<Bool, StoreError>) -> Void) {
        core.requestRestart(completion)
    }

    /// Blocking ``restartWAL(completion:)`` for synchronous callers; never
    /// call it from a completion.
    @discardableResult
    public func restartWAL() throws(StoreError) -> Bool {
        try Self.waitFor { restartWAL(completion: $0) }
    }

    /// Starts an operation that completes on the commit thread and blocks
    /// the calling thread until it has.
    private static func waitFor<Value: Sendable>(
        _ start: (@escaping @Sendable (Result<Value, StoreError>) -> Void) -> Void
    ) throws(StoreError) -> Value {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Value, StoreError>?>(nil)
        start { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    /// Stops accepting submissions, commits everything already submitted,
    /// and returns when the commit thread has exited. Closing twice is fine.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            core.close { continuation.resume() }
        }
    }

    /// Blocking ``close()`` for synchronous callers; never call it from a
    /// completion.
    public func close() {
        let done = DispatchSemaphore(value: 0)
        core.close { done.signal() }
        done.wait()
    }

    /// Counters since start: batches, events, submissions, largest batch.
    public var stats: GroupCommitStats {
        core.state.withLock { $0.stats }
    }

    /// Where the queue stands, for tests: the commit thread asleep, the log
    /// reserved by a caller, and submissions waiting.
    var queue: (asleep: Bool, reserved: Bool, waiting: Int) {
        core.state.withLock { ($0.sleeping, $0.reserved, $0.pending.count) }
    }
}

extension GroupCommitter {
    struct Submission: Sendable {
        var events: [NewEvent]
        var completion: @Sendable (Result<Int64, StoreError>) -> Void
    }

    /// The state shared by submitters and the commit thread. The thread owns
    /// the `Core`, so the public object can be released while it drains.
    final class Core: Sendable {
        struct State {
            var pending: [Submission] = []
            var pendingEvents = 0
            /// The thread is (about to be) blocked on `wakeup`; the next
            /// submitter signals it. Exactly one signal per sleep, so none is lost.
            var sleeping = false
            var closing = false
            /// A caller's thread is committing (``reserveOrSubmit``): the
            /// commit thread leaves the log to it and sleeps until it is done.
            var reserved = false
            var stopped = false
            var closeWaiters: [@Sendable () -> Void] = []
            /// Callers of `restartWAL`, served before the next commit.
            var restartWaiters: [@Sendable (Result<Bool, StoreError>) -> Void] = []
            var stats = GroupCommitStats()
        }

        enum Step: Sendable {
            case restartWAL([@Sendable (Result<Bool, StoreError>) -> Void])
            case commit([Submission], eventCount: Int)
            case sleep
            case stop([@Sendable () -> Void])
        }

        let log: EventLog
        let onCommit: (@Sendable (Int) -> Void)?
        let state = Mutex(State())
        let wakeup = DispatchSemaphore(value: 0)

        init(log: EventLog, onCommit: (@Sendable (Int) -> Void)?) {
            self.log = log
            self.onCommit = onCommit
        }

        func submit(_ submission: Submission) {
            let accepted: Bool?  // nil: closed; true: wake the thread
            accepted = state.withLock { state in
                guard !state.closing else { return nil }
                state.pending.append(submission)
                state.pendingEvents += submission.events.count
                state.stats.submissions += 1
                let wake = state.sleeping
                state.sleeping = false
                return wake
            }
            switch accepted {
            case nil:
                submission.completion(.failure(StoreError(
                    code: .closed,
                    message: "the group committer of \(log.path) is closed; \(submission.events.count) events were not appended",
                    path: log.path)))
            case true?:
                wakeup.signal()
            case false?:
                break
            }
        }

        func reserveOrSubmit(_ submission: Submission) -> (@Sendable () -> Void)? {
            let reserved: Bool = state.withLock { state in
                // Idle: asleep with nothing queued. A commit thread that is
                // committing, or was woken for work, is never asleep.
                guard !state.closing, state.sleeping, !state.reserved, state.pending.isEmpty,
                      state.restartWaiters.isEmpty else { return false }
                state.reserved = true
                state.stats.submissions += 1
                return true
            }
            guard reserved else {
                submit(submission)
                return nil
            }
            return { [self] in
                commit([submission], eventCount: submission.events.count)
                let wake: Bool = state.withLock { state in
                    state.reserved = false
                    // Whatever came meanwhile woke the thread, which went back to sleep.
                    guard state.sleeping,
                          !state.pending.isEmpty || !state.restartWaiters.isEmpty || state.closing else { return false }
                    state.sleeping = false
                    return true
                }
                if wake { wakeup.signal() }
            }
        }

        func requestRestart(_ completion: @escaping @Sendable (Result<Bool, StoreError>) -> Void) {
            let wake: Bool? = state.withLock { state in
                guard !state.closing else { return nil }
                state.restartWaiters.append(completion)
                let wake = state.sleeping
                state.sleeping = false
                return wake
            }
            switch wake {
            case nil: completion(.success(false))
            case true?: wakeup.signal()
            case false?: break
            }
        }

        func close(then waiter: (@Sendable () -> Void)?) {
            let (wake, stopped) = state.withLock { state in
                state.closing = true
                if state.stopped { return (false, true) }
                if let waiter { state.closeWaiters.append(waiter) }
                let wake = state.sleeping
                state.sleeping = false
                return (wake, false)
            }
            if wake { wakeup.signal() }
            if stopped { waiter?() }
        }

        /// The commit thread's loop.
        func run() {
            while true {
                let step: Step = state.withLock { state in
                    if state.reserved {
                        // A caller is committing; it wakes this thread when done.
                        state.sleeping = true
                        return .sleep
                    }
                    if !state.restartWaiters.isEmpty {
                        let waiters = state.restartWaiters
                        state.restartWaiters = []
                        return .restartWAL(waiters)
                    }
                    if !state.pending.isEmpty {
                        let batch = state.pending
                        let count = state.pendingEvents
                        state.pending = []
                        state.pendingEvents = 0
                        return .commit(batch, eventCount: count)
                    }
                    if state.closing {
                        state.stopped = true
                        let waiters = state.closeWaiters
                        state.closeWaiters = []
                        return .stop(waiters)
                    }
                    state.sleeping = true
                    return .sleep
                }
                switch step {
                case .restartWAL(let waiters):
                    let result: Result<Bool, StoreError>
                    do throws(StoreError) { result = .success(try log.restartWAL()) } catch { result = .failure(error) }
                    for waiter in waiters { waiter(result) }
                case .commit(let batch, let eventCount):
                    commit(batch, eventCount: eventCount)
                case .sleep:
                    wakeup.wait()
                case .stop(let waiters):
                    for waiter in waiters { waiter() }
                    return
                }
            }
        }

        /// Runs on the commit thread, or on a caller's thread that reserved the log.
        private func commit(_ batch: [Submission], eventCount: Int) {
            var events: [NewEvent] = []
            events.reserveCapacity(eventCount)
            for submission in batch {
                events.append(contentsOf: submission.events)
            }

            let result: Result<Int64, StoreError>
            do throws(StoreError) {
                result = .success(events.isEmpty ? try log.lastSeq() : try log.append(events))
            } catch {
                result = .failure(error)
            }

            if !events.isEmpty {
                state.withLock { state in
                    switch result {
                    case .success:
                        state.stats.batchesCommitted += 1
                        state.stats.eventsCommitted += events.count
                        state.stats.largestBatch = max(state.stats.largestBatch, events.count)
                    case .failure:
                        state.stats.batchesFailed += 1
                    }
                }
            }

            if case .success = result, !events.isEmpty { onCommit?(events.count) }
            switch result {
            case .success(let lastSeq):
                var seq = lastSeq - Int64(events.count)
                for submission in batch {
                    seq += Int64(submission.events.count)
                    submission.completion(.success(seq))
                }
            case .failure(let error):
                for submission in batch {
                    submission.completion(.failure(error))
                }
            }
        }
    }
}
