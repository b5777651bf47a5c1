import Dispatch
import Foundation
@testable import EventStore
import Synchronization
import TestSupport
import Testing

@Suite("GroupCommitter: one transaction per round, completions after commit")
struct GroupCommitterTests {
    @Test("a completion runs only when an independent connection can already read the event")
    func completionAfterCommit() async throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("events.sqlite")
        let log = try EventLog(path: path)
        let committer = GroupCommitter(log: log)

        let seenByOther: Result<[Int64], StoreError> = await withCheckedContinuation { continuation in
            committer.submit([hit("gate", at: 1), hit("gate", at: 2)]) { result in
                // Still inside the completion: a separate EventLog on the same
                // file must already see the committed events.
                continuation.resume(returning: Result { () throws(StoreError) in
                    let lastSeq = try result.get()
                    let other = try EventLog(path: path)
                    defer { try? other.close() }
                    return try other.events(key: "gate").map(\.seq) + [lastSeq]
                })
            }
        }
        #expect(try seenByOther.get() == [1, 2, 2])
        await committer.close()
    }

    @Test("the async submit returns the seq of the submission's last event")
    func asyncSubmit() async throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        let committer = GroupCommitter(log: log)

        #expect(try await committer.submit([hit("a", at: 1)]) == 1)
        #expect(try await committer.submit([hit("a", at: 2), hit("b", at: 3), hit("c", at: 4)]) == 4)
        #expect(try await committer.flush() == 4)
        #expect(committer.stats.eventsCommitted == 4)
        await committer.close()
    }

    @Test("an empty submission completes with the seq of the last event submitted before it")
    func flushMarkerPosition() async throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        let committer = GroupCommitter(log: log)

        let results = Mutex<[String: Int64]>([:])
        let done = DispatchGroup()
        for (name, events) in [("a", [hit("a", at: 1), hit("a", at: 2)]), ("marker", []), ("b", [hit("b", at: 3)])] {
            done.enter()
            committer.submit(events) { result in
                results.withLock { $0[name] = try? result.get() }
                done.leave()
            }
        }
        await withCheckedContinuation { continuation in
            done.notify(queue: .global()) { continuation.resume() }
        }
        #expect(results.withLock { $0 } == ["a": 2, "marker": 2, "b": 3])
        await committer.close()
    }

    @Test("submissions queued during a commit share the next transaction")
    func batchesQueuedSubmissions() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("events.sqlite")
        let log = try EventLog(path: path)
        let committer = GroupCommitter(log: log)

        // Given another connection holds the write lock, so the commit thread
        // is stuck at BEGIN IMMEDIATE with whatever it took first.
        let lock = try WriteLockHolder(path: path)

        // When 100 callers submit one event each and the lock is released,
        let seqs = Mutex<[Int64]>([])
        let done = DispatchGroup()
        for index in 0..<100 {
            done.enter()
            committer.submit([hit("k\(index)", at: Int64(index))]) { result in
                if case .success(let seq) = result { seqs.withLock { $0.append(seq) } }
                done.leave()
            }
        }
        lock.release()
        done.wait()

        // Then at most two transactions carried them: the one stuck at the
        // lock, and one with everything that queued behind it.
        let stats = committer.stats
        #expect(stats.submissions == 100)
        #expect(stats.eventsCommitted == 100)
        #expect(stats.batchesCommitted <= 2)
        #expect(stats.largestBatch >= 50)
        #expect(seqs.withLock { $0.sorted() } == Array(1...100))
        committer.close()
    }

    @Test("many concurrent submitters get distinct, consecutive seqs in fewer transactions than submissions")
    func concurrentSubmitters() async throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        let committer = GroupCommitter(log: log)

        // Given the commit thread is busy: the completion of a first submission
        // blocks it until the gate opens (no lock, so no timeout is running),
        let gate = DispatchSemaphore(value: 0)
        await withCheckedContinuation { (entered: CheckedContinuation<Void, Never>) in
            committer.submit([hit("gate", at: 0)]) { _ in
                entered.resume()
                gate.wait()
            }
        }

        // when 8 workers each submit 25 two-event submissions, each waiting for
        // its commit before the next,
        let workers = Task {
            try await withThrowingTaskGroup(of: (String, Int64).self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var last: (String, Int64) = ("", 0)
                        for round in 0..<25 {
                            let key = "w\(worker)-r\(round)"
                            last = (key, try await committer.submit([hit(key, at: 1), hit(key, at: 2)]))
                        }
                        return last
                    }
                }
                return try await group.reduce(into: [(String, Int64)]()) { $0.append($1) }
            }
        }
        // and the gate opens once all 8 first submissions are queued,
        do {
            try await poll("all 8 first submissions queued", within: .seconds(60), every: .milliseconds(5)) {
                committer.stats.submissions == 1 + 8
            }
        } catch {
            gate.signal()
            throw error
        }
        gate.signal()
        let results = try await workers.value

        #expect(try log.eventCount() == 1 + 400)
        #expect(try log.lastSeq() == 1 + 400)
        for (key, lastSeq) in results {
            // A submission's events are consecutive and end at its seq.
            #expect(try log.events(key: key).map(\.seq) == [lastSeq - 1, lastSeq])
        }
        // Then the 8 first submissions shared one transaction (the commit thread
        // takes everything queued when it comes back) and each of the other 192
        // took at most one: with the gate's, at most 194 transactions for 201
        // submissions, however the threads are scheduled.
        let stats = committer.stats
        #expect(stats.submissions == 1 + 200)
        #expect(stats.eventsCommitted == 1 + 400)
        #expect(stats.batchesCommitted < stats.submissions)
        #expect(stats.batchesCommitted <= 1 + 1 + 192)
        #expect(stats.largestBatch >= 8 * 2)
        await committer.close()
    }

    @Test("restartWAL copies the WAL between two commits, so the next commit writes it from its start instead of growing it; closed, it completes with false")
    func restartWALBetweenCommits() async throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        let committer = GroupCommitter(log: log)
        let batch = { (round: Int) in (0..<300).map { hit("r\(round)-k\($0)", at: Int64(round)) } }
        _ = try await committer.submit(batch(1))
        let size = try #require(log.walFileBytes)
        // Without a restart a second round is appended after the first.
        _ = try await committer.submit(batch(2))
        let twoRounds = try #require(log.walFileBytes)
        #expect(twoRounds > size)

        let restarted: Result<Bool, StoreError> = await withCheckedContinuation { continuation in
            committer.restartWAL { continuation.resume(returning: $0) }
        }
        #expect(try restarted.get())
        #expect(try await committer.submit(batch(3)) == 900)
        #expect(try await committer.submit(batch(4)) == 1200)
        #expect(try #require(log.walFileBytes) == twoRounds)
        #expect(try log.eventCount() == 1200)

        await committer.close()
        let closed: Result<Bool, StoreError> = await withCheckedContinuation { continuation in
            committer.restartWAL { continuation.resume(returning: $0) }
        }
        #expect(try closed.get() == false)
    }

    @Test("onCommit runs once per transaction that appended events, with their count, before the completions; never for an empty marker")
    func onCommitCountsTransactions() async throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        let commits = Mutex<[Int]>([])
        let committer = GroupCommitter(log: log) { events in commits.withLock { $0.append(events) } }

        let seenAtCompletion: [Int] = await withCheckedContinuation { continuation in
            committer.submit([hit("a", at: 1), hit("b", at: 2), hit("c", at: 3)]) { _ in
                continuation.resume(returning: commits.withLock { $0 })
            }
        }
        #expect(seenAtCompletion == [3])
        _ = try await committer.flush()
        _ = try await committer.submit([hit("d", at: 4)])
        #expect(commits.withLock { $0 } == [3, 1])

        // Many concurrent submitters: one call per transaction, and the counts add up.
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in 0..<25 { _ = try? await committer.submit([hit("w\(worker)", at: Int64(index))]) }
                }
            }
        }
        let recorded = commits.withLock { $0 }
        #expect(recorded.reduce(0, +) == 4 + 200)
        #expect(recorded.count == committer.stats.batchesCommitted)
        await committer.close()
    }

    @Test("close commits everything already submitted, then refuses new submissions")
    func closeDrains() throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        let committer = GroupCommitter(log: log)

        let completed = Mutex(0)
        for index in 0..<50 {
            committer.submit([hit("k", at: Int64(index))]) { result in
                if case .success = result { completed.withLock { $0 += 1 } }
            }
        }
        committer.close()

        #expect(completed.withLock { $0 } == 50)
        #expect(try log.eventCount() == 50)

        let late = Mutex<Result<Int64, StoreError>?>(nil)
        committer.submit([hit("k", at: 99)]) { result in late.withLock { $0 = result } }
        let error = #expect(throws: StoreError.self) { try late.withLock { $0 }?.get() }
        #expect(error?.code == .closed)
        #expect(error?.message.contains(log.path) == true)
        #expect(try log.eventCount() == 50)
        committer.close()  // closing twice returns at once
    }

    @Test("a failed transaction fails its submissions with the store error and the committer keeps running")
    func failureReachesEverySubmission() async throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let log = try EventLog(path: dir.file("events.sqlite"))
        let committer = GroupCommitter(log: log)
        #expect(try await committer.submit([hit("a", at: 1)]) == 1)

        try log.close()
        let error = await #expect(throws: StoreError.self) { try await committer.submit([hit("a", at: 2)]) }
        #expect(error?.message.contains(log.path) == true)
        #expect(committer.stats.batchesFailed == 1)
        let flushError = await #expect(throws: StoreError.self) { try await committer.flush() }
        #expect(flushError?.path == log.path)
        await committer.close()
    }
}

@Suite("GroupCommitter.reserveOrSubmit: a whole batch committed on its caller's thread when the committer is idle")
struct GroupCommitterReserveTests {
    /// A committer whose thread has gone to sleep with nothing to do.
    private func idleCommitter(_ dir: TemporaryDirectory) async throws -> GroupCommitter {
        let committer = GroupCommitter(log: try EventLog(path: dir.file("events.sqlite")))
        try await poll("the commit thread asleep with nothing queued", within: .seconds(5), every: .milliseconds(1)) {
            committer.queue.asleep && committer.queue.waiting == 0
        }
        return committer
    }

    @Test("an idle committer hands the commit to the caller: the events are readable and the completion has run, on the caller's thread, when it returns")
    func commitsOnTheCallersThread() async throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let committer = try await idleCommitter(dir)
        let caller = pthread_self()  // no await until the commit has run
        let completion = Mutex<(seq: Int64, onCaller: Bool)?>(nil)

        let reserved = committer.reserveOrSubmit([hit("a", at: 1), hit("b", at: 2)]) { result in
            completion.withLock { $0 = ((try? result.get()) ?? -1, pthread_equal(pthread_self(), caller) != 0) }
        }
        let commit = try #require(reserved)
        #expect(committer.queue.reserved)
        #expect(completion.withLock { $0 } == nil)  // nothing runs until the caller does
        commit()

        #expect(completion.withLock { $0?.seq } == 2)
        #expect(completion.withLock { $0?.onCaller } == true)
        #expect(try committer.log.eventCount() == 2)
        #expect(!committer.queue.reserved)
        #expect(committer.stats.submissions == 1 && committer.stats.batchesCommitted == 1)
        await committer.close()
    }

    @Test("submissions made while the log is reserved wait for the reserved commit and then commit after it, on the commit thread, in order")
    func laterSubmissionsQueueBehind() async throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let committer = try await idleCommitter(dir)
        let reserved = try #require(committer.reserveOrSubmit([hit("first", at: 1), hit("first", at: 2)]) { _ in })

        let seqs = Mutex<[Int64]>([])
        for index in 0..<3 {
            committer.submit([hit("later", at: Int64(10 + index))]) { result in
                if case .success(let seq) = result { seqs.withLock { $0.append(seq) } }
            }
        }
        // The submissions woke the commit thread, which left them queued and
        // went back to sleep: the reservation holds the log.
        try await poll("the commit thread asleep again behind the reservation", within: .seconds(5), every: .milliseconds(1)) {
            committer.queue == (asleep: true, reserved: true, waiting: 3)
        }
        #expect(seqs.withLock { $0 }.isEmpty)

        reserved()
        try await poll("the queued submissions committed", within: .seconds(5), every: .milliseconds(1)) {
            seqs.withLock { $0.count } == 3
        }
        // The reserved events took seqs 1 and 2; what queued behind them came after.
        #expect(seqs.withLock { $0 } == [3, 4, 5])
        #expect(try committer.log.events(key: "first").map(\.seq) == [1, 2])
        await committer.close()
    }

    @Test("a committer that is busy reserves nothing: the batch is submitted and commits on the commit thread")
    func busyCommitterSubmits() async throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let path = dir.file("events.sqlite")
        let committer = try await idleCommitter(dir)
        // The commit thread is stuck at BEGIN IMMEDIATE with a first submission.
        let lock = try WriteLockHolder(path: path)
        committer.submit([hit("stuck", at: 1)]) { _ in }
        // Without suspending: the commit thread stays stuck only until the
        // log's 5 s busy timeout, and a suspended test may resume later.
        try pollBlocking("the commit thread awake with the first submission", within: .seconds(5)) {
            !committer.queue.asleep && committer.queue.waiting == 0
        }

        let caller = pthread_self()  // no await until the commit has run
        let completion = Mutex<(seq: Int64, onCaller: Bool)?>(nil)
        let reserved = committer.reserveOrSubmit([hit("batch", at: 2)]) { result in
            completion.withLock { $0 = ((try? result.get()) ?? -1, pthread_equal(pthread_self(), caller) != 0) }
        }
        #expect(reserved == nil)
        #expect(committer.queue.waiting == 1)
        lock.release()
        try await poll("the batch committed", within: .seconds(5), every: .milliseconds(1)) { completion.withLock { $0 } != nil }
        #expect(completion.withLock { $0?.seq } == 2)
        #expect(completion.withLock { $0?.onCaller } == false)
        await committer.close()
    }

    @Test("close and flush called while the log is reserved complete after the reserved commit, and the committer then stops")
    func closeWaitsForTheReservation() async throws {
        let dir = try TemporaryDirectory(prefix: "eventstore")
        let committer = try await idleCommitter(dir)
        let reserved = try #require(committer.reserveOrSubmit([hit("a", at: 1)]) { _ in })

        let flushed = Mutex<Int64?>(nil)
        committer.submit([]) { result in flushed.withLock { $0 = try? result.get() } }
        let closed = Mutex(false)
        let closing = Task {
            await committer.close()
            closed.withLock { $0 = true }
        }
        try await poll("the commit thread asleep behind the reservation with the marker queued", within: .seconds(5),
                       every: .milliseconds(1)) {
            committer.queue == (asleep: true, reserved: true, waiting: 1)
        }
        #expect(!closed.withLock { $0 })

        reserved()
        try await poll("close returned once the reserved commit ran", within: .seconds(5), every: .milliseconds(1)) {
            closed.withLock { $0 }
        }
        await closing.value
        #expect(flushed.withLock { $0 } == 1)
        #expect(try committer.log.eventCount() == 1)
        #expect(committer.reserveOrSubmit([hit("late", at: 2)]) { _ in } == nil)  // closed: refused, not reserved
        #expect(try committer.log.eventCount() == 1)
    }
}
