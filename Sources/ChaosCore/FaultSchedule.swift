import Membership

/// The faults of one chaos run, a pure function of a ``Plan`` (seed
/// included): the same seed and plan give the same faults at the same
/// times, so a failing run can be replayed.
///
/// Faults never overlap: each starts after the previous one has ended (a
/// killed node restarted, a frozen one resumed) plus a gap, and outside a
/// fault at least ``Plan/minimumRunning`` nodes run. So at most one node is
/// ever down at once, and with `replicas = 2` every key keeps a live copy:
/// a correct cluster can answer every check and never over-admit.
public struct FaultSchedule: Sendable, Hashable {
    public struct Plan: Sendable, Hashable {
        public var seed: UInt64
        /// The nodes started before the load.
        public var initialNodes: [String]
        /// Listed in the topology but not started: what `add` can start.
        public var spareNodes: [String]
        /// How long the load runs.
        public var durationMs: Int64
        /// Past the one fault of each kind, keep adding faults while they fit.
        public var long: Bool
        /// False for a control run: the same load and no fault at all.
        public var injectsFaults = true
        /// How many keys the workload has (kill and freeze pick one whose owner to hit).
        public var keyCount: Int
        /// Load before the first fault, so keys are busy and counters full.
        public var warmupMs: Int64 = 3_000
        /// Load after the last fault's nominal end.
        public var tailMs: Int64 = 3_000
        /// The fewest nodes running outside a fault; `remove` never goes below it.
        public var minimumRunning = 3

        public init(seed: UInt64, initialNodes: [String], spareNodes: [String], durationMs: Int64, long: Bool,
                    keyCount: Int) {
            self.seed = seed
            self.initialNodes = initialNodes
            self.spareNodes = spareNodes
            self.durationMs = durationMs
            self.long = long
            self.keyCount = keyCount
        }
    }

    /// Why a plan cannot be scheduled, naming the option to change.
    public struct PlanError: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    /// Allowances in the nominal timeline for what the driver waits for: a
    /// restarted or added node becoming healthy. The driver starts a fault no
    /// earlier than planned, and later if the previous one took longer.
    public static let startAllowanceMs: Int64 = 1_500
    public static let downRangeMs: ClosedRange<Int64> = 2_000...4_000
    public static let frozenRangeMs: ClosedRange<Int64> = 2_000...5_000
    public static let gapRangeMs: ClosedRange<Int64> = 1_000...2_000

    public let plan: Plan
    public let faults: [ScheduledFault]

    public init(_ plan: Plan) throws(PlanError) {
        guard plan.initialNodes.count >= plan.minimumRunning else {
            throw PlanError(description: "--nodes: at least \(plan.minimumRunning) nodes must run (replicas = 2 and one node down at a time), got \(plan.initialNodes.count)")
        }
        guard plan.keyCount > 0 else { throw PlanError(description: "--keys: at least one key is needed, got \(plan.keyCount)") }
        guard plan.injectsFaults else {
            faults = []
            self.plan = plan
            return
        }
        var planner = Planner(plan: plan)
        // One of each kind first, in a seeded order that keeps the constraints.
        var pending = planner.shuffled(Fault.Kind.allCases)
        while !pending.isEmpty {
            guard let index = pending.firstIndex(where: { planner.allows($0) }) else {
                throw PlanError(description: "--nodes: with \(plan.initialNodes.count) of \(plan.initialNodes.count + plan.spareNodes.count) nodes started, cannot both add and remove a node while keeping \(plan.minimumRunning) running")
            }
            planner.append(pending.remove(at: index))
        }
        let needed = planner.clockMs + plan.tailMs
        guard needed <= plan.durationMs else {
            throw PlanError(description: "--duration: one fault of each kind with seed \(plan.seed) needs \(Self.seconds(needed)) of load, got \(Self.seconds(plan.durationMs))")
        }
        if plan.long {
            while true {
                var trial = planner
                let kind = trial.pickAllowedKind()
                trial.append(kind)
                guard trial.clockMs + plan.tailMs <= plan.durationMs else { break }
                planner = trial
            }
        }
        faults = planner.faults
        self.plan = plan
    }

    /// How many faults of each kind the schedule has.
    public var counts: [Fault.Kind: Int] {
        Dictionary(grouping: faults, by: \.fault.kind).mapValues(\.count)
    }

    /// `20.7 s`, rounded up to a tenth so a duration that fits is never shown as too short.
    static func seconds(_ ms: Int64) -> String {
        let tenths = (ms + 99) / 100
        return "\(tenths / 10).\(tenths % 10) s"
    }
}

/// The schedule's state while it is drawn: the seeded generator, which
/// nodes run, and the nominal clock.
private struct Planner {
    let plan: FaultSchedule.Plan
    var random: SplitMix64
    var running: [String]
    var spare: [String]
    var clockMs: Int64
    var faults: [ScheduledFault] = []

    init(plan: FaultSchedule.Plan) {
        self.plan = plan
        random = SplitMix64(seed: plan.seed)
        running = plan.initialNodes
        spare = plan.spareNodes
        clockMs = plan.warmupMs
    }

    func allows(_ kind: Fault.Kind) -> Bool {
        switch kind {
        case .kill, .freeze: running.count >= plan.minimumRunning
        case .add: !spare.isEmpty
        case .remove: running.count > plan.minimumRunning
        }
    }

    /// Kills and freezes three times as often as membership changes (twice
    /// and once), among the kinds allowed now.
    mutating func pickAllowedKind() -> Fault.Kind {
        let weighted: [(Fault.Kind, Int)] = [(.kill, 3), (.freeze, 2), (.add, 1), (.remove, 1)]
        let allowed = weighted.filter { allows($0.0) }
        var draw = below(allowed.reduce(0) { $0 + $1.1 })
        for (kind, weight) in allowed {
            if draw < weight { return kind }
            draw -= weight
        }
        return allowed[allowed.count - 1].0
    }

    mutating func append(_ kind: Fault.Kind) {
        let fault: Fault
        let spanMs: Int64
        switch kind {
        case .kill:
            let down = draw(FaultSchedule.downRangeMs)
            fault = .kill(ownerOfKey: below(plan.keyCount), downMs: down)
            spanMs = down + FaultSchedule.startAllowanceMs
        case .freeze:
            let frozen = draw(FaultSchedule.frozenRangeMs)
            fault = .freeze(ownerOfKey: below(plan.keyCount), frozenMs: frozen)
            spanMs = frozen
        case .add:
            let node = spare.remove(at: below(spare.count))
            running.append(node)
            fault = .add(node: node)
            spanMs = FaultSchedule.startAllowanceMs
        case .remove:
            let node = running.remove(at: below(running.count))
            spare.append(node)
            fault = .remove(node: node)
            spanMs = 0
        }
        faults.append(ScheduledFault(atMs: clockMs, fault: fault))
        clockMs += spanMs + draw(FaultSchedule.gapRangeMs)
    }

    mutating func shuffled<T>(_ items: [T]) -> [T] {
        var items = items
        // Fisher-Yates with one draw per position, so the order depends on the seed alone.
        for index in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(index, below(index + 1))
        }
        return items
    }

    mutating func below(_ count: Int) -> Int {
        Int(random.next() % UInt64(count))
    }

    mutating func draw(_ range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(random.next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
}
