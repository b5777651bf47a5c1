import ChaosCore
import Testing

@Suite("FaultSchedule: seeded, non-overlapping faults")
struct FaultScheduleTests {
    static func plan(seed: UInt64, initial: Int = 3, listed: Int = 5, durationMs: Int64 = 30_000, long: Bool = false)
        -> FaultSchedule.Plan
    {
        let ids = (1...listed).map { "n\($0)" }
        return FaultSchedule.Plan(seed: seed, initialNodes: Array(ids.prefix(initial)), spareNodes: Array(ids.dropFirst(initial)),
                                  durationMs: durationMs, long: long, keyCount: 60)
    }

    @Test("the same seed gives the same faults at the same times; other seeds give others")
    func determinism() throws {
        let first = try FaultSchedule(Self.plan(seed: 42))
        let again = try FaultSchedule(Self.plan(seed: 42))
        #expect(first.faults == again.faults)
        let others = try (43...52).map { try FaultSchedule(Self.plan(seed: $0)).faults }
        #expect(others.contains { $0 != first.faults })
    }

    @Test("the short form has one fault of each kind, in order, inside the run", arguments: UInt64(1)...40)
    func shortForm(seed: UInt64) throws {
        let schedule = try FaultSchedule(Self.plan(seed: seed))
        #expect(schedule.faults.count == 4)
        #expect(schedule.counts == [.kill: 1, .freeze: 1, .add: 1, .remove: 1])
        #expect(schedule.faults.map(\.atMs) == schedule.faults.map(\.atMs).sorted())
        #expect(schedule.faults.first!.atMs == schedule.plan.warmupMs)
        Self.expectNoOverlap(schedule)
        Self.expectEnoughRunning(schedule)
    }

    @Test("the long form fills its duration with more faults, never fewer than nodes allow", arguments: UInt64(1)...20)
    func longForm(seed: UInt64) throws {
        let schedule = try FaultSchedule(Self.plan(seed: seed, initial: 4, durationMs: 180_000, long: true))
        #expect(schedule.faults.count >= 15)
        #expect(Set(schedule.faults.map(\.fault.kind)) == Set(Fault.Kind.allCases))
        Self.expectNoOverlap(schedule)
        Self.expectEnoughRunning(schedule)
    }

    @Test("with all five nodes started, a node is removed before one is added (the removed one comes back)")
    func allStarted() throws {
        for seed in UInt64(1)...20 {
            let schedule = try FaultSchedule(Self.plan(seed: seed, initial: 5))
            let removed = schedule.faults.firstIndex { $0.fault.kind == .remove }!
            let added = schedule.faults.firstIndex { $0.fault.kind == .add }!
            #expect(removed < added)
            guard case .remove(let node) = schedule.faults[removed].fault, case .add(let back) = schedule.faults[added].fault
            else { continue }
            #expect(node == back)
        }
    }

    @Test("a control plan has no fault")
    func control() throws {
        var plan = Self.plan(seed: 3)
        plan.injectsFaults = false
        #expect(try FaultSchedule(plan).faults.isEmpty)
    }

    @Test("plans that cannot be scheduled fail naming the option")
    func impossiblePlans() {
        #expect(throws: FaultSchedule.PlanError.self) { try FaultSchedule(Self.plan(seed: 1, initial: 2)) }
        // Three started and no spare: a remove would leave two.
        do {
            _ = try FaultSchedule(Self.plan(seed: 1, initial: 3, listed: 3))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("--nodes:"))
        }
        do {
            _ = try FaultSchedule(Self.plan(seed: 1, durationMs: 10_000))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("--duration:"))
            #expect(error.description.contains("seed 1"))
        }
    }

    /// Each fault starts after the previous one's nominal end.
    static func expectNoOverlap(_ schedule: FaultSchedule) {
        for (previous, next) in zip(schedule.faults, schedule.faults.dropFirst()) {
            let span: Int64 = switch previous.fault {
            case .kill(_, let down): down + FaultSchedule.startAllowanceMs
            case .freeze(_, let frozen): frozen
            case .add: FaultSchedule.startAllowanceMs
            case .remove: 0
            }
            #expect(next.atMs >= previous.atMs + span + FaultSchedule.gapRangeMs.lowerBound)
        }
        if let last = schedule.faults.last {
            #expect(last.atMs + schedule.plan.tailMs <= schedule.plan.durationMs)
        }
    }

    /// Outside a fault at least three nodes run; adds start spares, removes stop running nodes.
    static func expectEnoughRunning(_ schedule: FaultSchedule) {
        var running = Set(schedule.plan.initialNodes)
        for planned in schedule.faults {
            switch planned.fault {
            case .add(let node):
                #expect(!running.contains(node))
                running.insert(node)
            case .remove(let node):
                #expect(running.contains(node))
                running.remove(node)
            case .kill(let key, _), .freeze(let key, _):
                #expect((0..<schedule.plan.keyCount).contains(key))
            }
            #expect(running.count >= schedule.plan.minimumRunning)
        }
    }
}
