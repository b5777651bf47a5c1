import Rollout

/// Plays a coordinator against the pure rollout: applies what each result
/// says, moves the fake clock to the next tick, and keeps a transcript.
/// This is the deterministic simulation STYLE.md asks for before any socket.
struct RolloutDriver {
    var rollout: Rollout
    var clock = FakeClock()
    /// Every deployment pushed to the nodes, in order.
    var pushed: [Deployment] = []
    /// Every result, rendered, in order.
    var transcript: [String] = []

    init(stable: String = "v-stable") {
        self.rollout = Rollout(stable: stable)
    }

    enum Outcome: Equatable {
        case completed(Deployment)
        case rolledBack(Rollout.RollbackRecord)
    }

    /// Runs a gradual rollout of `version` to its end. `window(step, extended)`
    /// gives the metrics seen in a step, from the step's plan percent.
    mutating func runGradual(
        version: String = "v-canary",
        plan: RolloutPlan,
        window: (_ percent: Int, _ extended: Bool) -> StepWindow
    ) throws -> Outcome {
        guard case .started(let split, var holdUntil) = try self.rollout.onStart(version: version, plan: plan, now: self.clock.now)
        else { throw DriverError("start did not start: \(self.rollout)") }
        self.pushed.append(split)
        var percent = split.percent
        var extended = false
        for _ in 0..<(2 * plan.stepCount + 1) {
            self.clock.set(holdUntil)
            let result = self.rollout.onTick(window: window(percent, extended), now: self.clock.now)
            switch result {
            case .hold(let until, _):
                holdUntil = until
            case .extended(let verdict, let until):
                self.transcript.append("extended: \(verdict.summary)")
                extended = true
                holdUntil = until
            case .advanced(let verdict, let split, let until):
                self.transcript.append("advanced: \(verdict.summary)")
                self.pushed.append(split)
                percent = split.percent
                extended = false
                holdUntil = until
            case .completed(let verdict, let final):
                self.transcript.append("completed: \(verdict.summary)")
                self.pushed.append(final)
                return .completed(final)
            case .rolledBack(let verdict, let split, let record):
                self.transcript.append("rolled back: \(verdict.summary)")
                self.pushed.append(split)
                return .rolledBack(record)
            case .notStepping(let state):
                throw DriverError("tick while not stepping: \(state)")
            }
        }
        throw DriverError("rollout did not end: \(self.rollout)")
    }
}

struct DriverError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
