import JSONCore
import EventStore
import Foundation
import LimiterCore
import NodeServer
import Synchronization
import TestSupport
import Testing

@Suite("The engine: decisions, the output gate, rebuild from snapshot and log")
struct LimiterEngineTests {
    static let rules: [String: Rule] = {
        var rules: [String: Rule] = [:]
        for (name, algorithm, limit, period, burst) in [
            ("FW", Algorithm.fixedWindow, 5, 10, 5), ("SW", .slidingWindow, 5, 10, 5), ("SL", .slidingLog, 5, 10, 5),
            ("TB", .tokenBucket, 5, 10, 3), ("GC", .gcra, 5, 10, 3),
        ] {
            rules[name] = Rule(name: name, namespaceID: "ns-\(name)", limit: limit, periodSeconds: period, algorithm: algorithm, burst: burst)
        }
        return rules
    }()

    /// Removed when the test ends: Swift Testing makes a suite instance per test.
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory(prefix: "engine")
    }

    /// A fresh log file in this test's directory, and its path.
    func temporaryLog() throws -> (EventLog, String) {
        let path = directory.file("events-\(UUID().uuidString).sqlite")
        return (try EventLog(path: path, durability: .normal), path)
    }

    /// Runs one check to completion, waiting for its commit when it admitted hits.
    func check(_ engine: LimiterEngine, _ request: CheckRequest) async throws -> CheckResult {
        let result: Result<[CheckResult], APIProblem> = await withCheckedContinuation { continuation in
            let outcome = engine.check([Self.resolved(request)]) { continuation.resume(returning: $0) }
            if case .done(let result) = outcome { continuation.resume(returning: result) }
        }
        return try result.get()[0]
    }

    @Test("an admitted hit is answered only once a second reader of the file can see its event")
    func outputGate() async throws {
        let (log, path) = try temporaryLog()
        let engine = try LimiterEngine(nodeID: "n1", rules: Self.rules, log: log, clock: ManualClock())
        let result = try await check(engine, CheckRequest(key: "k", rule: "SL", hits: 2))
        #expect(result.decision.allowed)
        let reader = try EventLog(path: path, durability: .normal)
        let events = try reader.events(key: "k")
        #expect(events.count == 1)
        #expect(events.first?.hits == 2)
        #expect(events.first?.namespace == "ns-SL")
        try engine.close()
    }

    @Test("a batch checked with commitHereIfIdle commits on the calling thread once the commit thread is idle: its answers have come, and its events are readable, when check returns")
    func batchCommitsOnTheCaller() async throws {
        let (log, path) = try temporaryLog()
        let engine = try LimiterEngine(nodeID: "n1", rules: Self.rules, log: log, clock: ManualClock())
        let reader = try EventLog(path: path, durability: .normal)
        var attempt = 0
        // The commit thread is idle once it has started and gone to sleep:
        // until then a batch is submitted to it, and answered from there.
        try await poll("a batch answered before check returned", within: .seconds(5), every: .milliseconds(1)) {
            attempt += 1
            let key = "batch-\(attempt)"
            let answered = Mutex<[CheckResult]?>(nil)
            let caller = pthread_self()
            let outcome = engine.check([Self.resolved(CheckRequest(key: key, rule: "FW", hits: 1)),
                                        Self.resolved(CheckRequest(key: key, rule: "SW", hits: 2))],
                                       commitHereIfIdle: true) { result in
                // Answered on the commit thread, the batch does not count.
                guard pthread_equal(pthread_self(), caller) != 0 else { return }
                answered.withLock { $0 = try? result.get() }
            }
            guard case .committing = outcome, let results = answered.withLock({ $0 }) else { return false }
            #expect(results.map(\.decision.allowed) == [true, true])
            let logged = try reader.events(key: key).map(\.hits)
            #expect(logged == [1, 2])
            return true
        }
        try engine.close()
    }

    @Test("denials and reads log nothing")
    func denialsLogNothing() async throws {
        let (log, _) = try temporaryLog()
        let engine = try LimiterEngine(nodeID: "n1", rules: Self.rules, log: log, clock: ManualClock())
        for _ in 0..<8 { _ = try await check(engine, CheckRequest(key: "k", rule: "FW")) }
        _ = try await check(engine, CheckRequest(key: "k", rule: "FW", hits: 0))
        try engine.close()
        #expect(try log.events(key: "k").count == 5)
    }

    @Test("the engine decides exactly as the offline simulator on the same trace, and a rebuilt engine continues identically")
    func agreesWithSimulatorAndRebuilds() async throws {
        var seed: UInt64 = 42
        func next() -> UInt64 {
            seed &+= 0x9E37_79B9_7F4A_7C15
            var z = seed
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let (log, path) = try temporaryLog()
        let clock = ManualClock(1_700_000_000_000)
        var engine = try LimiterEngine(nodeID: "n1", rules: Self.rules, log: log, clock: clock)
        var simulator = TraceSimulator(rules: Self.rules)
        let names = Self.rules.keys.sorted()
        var t: Int64 = 1_700_000_000_000
        for step in 0..<600 {
            t += Int64(next() % 900)
            clock.set(t)
            let rule = names[Int(next() % UInt64(names.count))]
            let key = "k\(next() % 4)"
            let hits = Int(next() % 4)
            let line = "{\"t\":\(t),\"key\":\"\(key)\",\"rule\":\"\(rule)\",\"hits\":\(hits)}"
            let expected = try JSONParser.parse(try #require(try simulator.run(line: line)))
            let result = try await check(engine, CheckRequest(key: key, rule: rule, hits: hits))
            #expect(expected[member: "allowed"] == .bool(result.decision.allowed), "step \(step): \(line)")
            #expect(expected[member: "remaining"] == .integer(Int64(result.decision.remaining)), "step \(step): \(line)")
            if step == 200 { try engine.snapshot() }
            if step == 300 || step == 450 {
                // Restart: rebuild from the latest snapshot plus the log tail.
                try engine.close()
                engine = try LimiterEngine(nodeID: "n1", rules: Self.rules,
                                           log: try EventLog(path: path, durability: .normal), clock: clock)
            }
        }
        try engine.close()
    }
}

extension LimiterEngineTests {
    @Test("snapshot(keeping:) is written at the log position its table copy holds; a torn newest one restores from the older one, and the engine says so")
    func snapshotsAndFallback() async throws {
        let (log, path) = try temporaryLog()
        let clock = ManualClock(1_700_000_000_000)
        let engine = try LimiterEngine(nodeID: "n1", rules: Self.rules, log: log, clock: clock)
        let restoration = try #require(engine.restoration)
        #expect(restoration.snapshot == nil)
        #expect(restoration.replayedEvents == 0)
        #expect(restoration.unreadableSnapshots.isEmpty)
        var marks: [SnapshotPolicy.Mark] = []
        for round in 0..<3 {
            for key in ["a", "b", "c"] {
                _ = try await check(engine, CheckRequest(key: key, rule: round == 1 ? "GC" : "SL"))
                clock.advance(by: 100)
            }
            let mark = try #require(try engine.snapshot(keeping: 2))
            #expect(mark == .init(seq: try log.lastSeq(), atMs: clock.nowMs()))
            marks.append(mark)
        }
        #expect(try log.snapshotMarks() == [marks[2], marks[1]])
        _ = try await check(engine, CheckRequest(key: "a", rule: "SL", hits: 2))
        var expected: [Int] = []
        for key in ["a", "b", "c"] {
            for rule in ["SL", "GC"] {
                expected.append(try await check(engine, CheckRequest(key: key, rule: rule, hits: 0)).decision.remaining)
            }
        }
        try engine.close()
        // Same seq as the newest: it replaces that snapshot with bytes no table decodes.
        try log.writeSnapshot(seq: marks[2].seq, state: [0, 1, 2], at: marks[2].atMs, keeping: 2)

        let reopened = try LimiterEngine(nodeID: "n1", rules: Self.rules, log: try EventLog(path: path, durability: .normal), clock: clock)
        let reopenedRestoration = try #require(reopened.restoration)
        #expect(reopenedRestoration.snapshot == marks[1])
        #expect(reopenedRestoration.replayedEvents == Int(try log.lastSeq() - marks[1].seq))
        #expect(reopenedRestoration.unreadableSnapshots.map(\.seq) == [marks[2].seq])
        var restored: [Int] = []
        for key in ["a", "b", "c"] {
            for rule in ["SL", "GC"] {
                restored.append(try await check(reopened, CheckRequest(key: key, rule: rule, hits: 0)).decision.remaining)
            }
        }
        #expect(restored == expected)
        #expect(expected != [5, 3, 5, 3, 5, 3], "the hits must show in the counts")
        try reopened.close()
    }

    static let version = "v-test"

    static func resolved(_ request: CheckRequest) -> LimiterEngine.ResolvedCheck {
        LimiterEngine.ResolvedCheck(request: request, rule: rules[request.rule]!, version: version)
    }
}
