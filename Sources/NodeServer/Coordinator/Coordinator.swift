import Alerting
import Config
import CoordinatorStore
import Foundation
import JSONCore
import LimiterCore
import Logging
import Membership
import Rollout
import Synchronization

/// The coordinator's decisions (DESIGN §7): versions, splits, gradual
/// rollouts judged by the pure ``Rollout`` core, rollbacks and the staging
/// gate. One actor, so operator commands and step timers never interleave;
/// every transition is journalled before it is pushed, so a restarted
/// coordinator resumes from the journal and nodes never see a split the
/// journal does not have.
actor Coordinator {
    /// One judged step of the current or last rollout, as the CLI prints it.
    struct StepLine: Sendable {
        var percent: Int
        var verdict: Verdict
        var outcome: String
    }

    /// How the last rollout ended, if it has.
    enum Ending: Sendable, Equatable {
        case completed(version: String)
        case rolledBack(percent: Int, reason: String)
        case aborted(percent: Int)
    }

    let environment: String
    let journal: CoordinatorJournal
    let pusher: DeploymentPusher
    let alerts: AlertSender
    let scrapeTargets: [(id: String, host: String, port: Int)]
    let thresholds: RolloutThresholds
    let stagingGate: StagingGate?
    let logger: Logger
    /// The deployment and rule sets served now, readable off the actor (peer pulls).
    let published: Mutex<DeploymentState>

    private(set) var rollout: Rollout
    private var baselines: [String: MetricsScrape] = [:]
    private var lastScrape: [String: MetricsScrape] = [:]
    private(set) var steps: [StepLine] = []
    private(set) var rolloutNumber = 0
    private(set) var ending: Ending?
    private(set) var rolloutVersion: String?
    /// Cluster-wide counters per version at each scrape, oldest first (the dashboard's series).
    /// Made by adding up each node's increases, so they only grow: a node that
    /// restarts or drops an old version's series makes no dip, and no spike after it.
    private(set) var history: [(atMs: Int64, versions: [String: VersionMetrics])] = []
    /// The running totals behind ``history``, and the scrape they were last advanced from.
    var observedTotals: [String: VersionMetrics] = [:]
    var lastObserved: [String: MetricsScrape] = [:]
    /// The seed's two alerts over the scraped counters (DESIGN §8).
    private(set) var alerting: AlertEvaluator
    let monitoring: MonitoringThresholds
    let members: @Sendable () -> [Member]

    init(config: ResolvedConfig, journal: CoordinatorJournal, pusher: DeploymentPusher, alerts: AlertSender,
         stagingGate: StagingGate?, members: @escaping @Sendable () -> [Member], logger: Logger) throws {
        environment = config.environment
        monitoring = config.monitoring
        alerting = Self.restoredAlerting(saved: try? journal.alertState(),
                                         fresh: AlertEvaluator(environment: config.environment, thresholds: config.monitoring))
        self.members = members
        self.journal = journal
        self.pusher = pusher
        self.alerts = alerts
        self.stagingGate = stagingGate
        self.logger = logger
        scrapeTargets = (config.topology?.nodes ?? []).map { ($0.id, $0.host, $0.httpPort) }
        thresholds = RolloutThresholds(minSamples: Int64(config.monitoring.minSamples))
        // The config's own rules are the version nodes serve at epoch 0.
        let configured = VersionBundle(rules: config.sortedRules, vars: config.versionVars, message: "configured at start",
                                       author: "coordinator", createdAtMs: SystemClock().nowMs())
        try journal.upload(configured)
        var rollout: Rollout
        var savedBaselines: [String: MetricsScrape] = [:]
        if let saved = try journal.currentRollout() {
            rollout = saved.rollout
            if let data = saved.baselines, let decoded = Self.decodeBaselines(data) { savedBaselines = decoded }
        } else if let latest = try journal.latestDeployment() {
            rollout = Rollout(stable: latest.stable, epoch: latest.epoch)
        } else {
            rollout = Rollout(stable: configured.id, epoch: 0)
        }
        self.rollout = rollout
        baselines = savedBaselines
        published = Mutex(try Self.state(of: rollout.deployment, journal: journal))
        // A rollout that ended just before a restart still reports how it ended,
        // so a `deploy --gradual` following it does not wait for an ending forever.
        switch rollout.state {
        case .stepping(let step): rolloutVersion = step.version
        case .completed(let version, _):
            rolloutVersion = version
            ending = .completed(version: version)
        case .rolledBack(let record):
            rolloutVersion = record.version
            ending = .rolledBack(percent: record.percent, reason: record.reason)
        case .aborted(let version, let percent, _):
            rolloutVersion = version
            ending = .aborted(percent: percent)
        case .idle, .split: break
        }
    }

    // MARK: Versions

    func upload(_ bundle: VersionBundle) throws(CoordinatorError) -> (VersionBundle, Bool) {
        do {
            let (stored, created) = try journal.upload(bundle)
            return (stored, created)
        } catch {
            throw CoordinatorError(status: 422, code: error.code.rawValue, message: error.message)
        }
    }

    func versions() throws(CoordinatorError) -> [VersionBundle] {
        do { return try journal.versions(limit: 100) } catch { throw .storage(error.message) }
    }

    func entries(limit: Int) throws(CoordinatorError) -> [JournalEntry] {
        do { return try journal.entries(limit: limit) } catch { throw .storage(error.message) }
    }

    func hasCompleted(rulesHash: String) throws(CoordinatorError) -> Bool {
        do { return try journal.hasCompleted(rulesHash: rulesHash) } catch { throw .storage(error.message) }
    }

    // MARK: Deploys

    struct DeployRequest: Sendable {
        /// An uploaded version's id, or a dry run's rules as a version not stored.
        enum Target: Sendable {
            case uploaded(String)
            case candidate(VersionBundle)
        }

        var target: Target
        var percent: Int?
        var gradualDuration: Int64?
        var force = false
        var message: String?
        var author = "unknown"
        var dryRun = false

        init(version: String) { target = .uploaded(version) }
        init(candidate: VersionBundle) { target = .candidate(candidate) }
    }

    /// `deploy`: a direct split, or the start of a gradual rollout.
    func deploy(_ request: DeployRequest) async throws(CoordinatorError) -> [String] {
        let bundle: VersionBundle
        switch request.target {
        case .uploaded(let id): bundle = try self.bundle(id)
        case .candidate(let candidate):
            guard request.dryRun else { throw .badRequest("rules", "only a dry run deploys rules that are not uploaded") }
            bundle = candidate
        }
        if request.force && (request.message ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw .badRequest("message", "--force needs --message saying why the staging gate is overridden")
        }
        let now = SystemClock().nowMs()
        if request.dryRun {
            return try await plan(for: request, bundle: bundle)
        }
        if bundle.id == rollout.deployment.stable && rollout.deployment.canary == nil {
            return ["\(bundle.id) is already stable: nothing to do"]
        }
        let forced = try await checkStagingGate(bundle, request: request)
        if let duration = request.gradualDuration {
            let plan: RolloutPlan
            do {
                plan = try RolloutPlan(duration: duration, thresholds: thresholds)
            } catch {
                throw .badRequest("duration", "\(error)")
            }
            // The step's baseline, taken before the decision: no suspension
            // may fall between reading `rollout` and committing its successor.
            let scrape = await scrapeAll()
            var next = rollout
            let result: Rollout.StartResult
            do { result = try next.onStart(version: bundle.id, plan: plan, now: now) } catch { throw .conflict(error.message) }
            switch result {
            case .alreadyStable:
                return ["\(bundle.id) is already stable: nothing to do"]
            case .started(let split, _):
                try commit(next, entry: JournalEntry(atMs: now, actor: request.author, kind: .deploy, outcome: .started,
                                                     version: bundle.id, fromStable: rollout.deployment.stable,
                                                     percent: split.percent, deployment: split, reason: request.message),
                           baselines: scrape)
                if forced { try journalOverride(bundle, request: request) }
                steps = []
                ending = nil
                rolloutNumber += 1
                rolloutVersion = bundle.id
                await push(split)
                return ["rolling out \(bundle.id) in \(plan.stepCount) steps of \(plan.stepHold / 1000) s"]
            }
        }
        guard let percent = request.percent else { throw .badRequest("percent", "give a percent or gradual") }
        var next = rollout
        let result: Rollout.SetPercentResult
        do { result = try next.onSetPercent(version: bundle.id, percent: percent, now: now) } catch { throw .conflict(error.message) }
        switch result {
        case .alreadyStable(let deployment), .unchanged(let deployment):
            return ["\(bundle.id) already at \(deployment.canary == nil ? 100 : deployment.percent)%: nothing to do"]
        case .split(let split):
            try commit(next, entry: JournalEntry(atMs: now, actor: request.author, kind: .percent, outcome: .applied, version: bundle.id,
                                                 fromStable: rollout.deployment.stable, percent: percent, deployment: split,
                                                 reason: request.message))
            if forced { try journalOverride(bundle, request: request) }
            await push(split)
            return ["\(bundle.id) at \(percent)% (epoch \(split.epoch))"]
        case .completed(let final):
            try commit(next, entry: JournalEntry(atMs: now, actor: request.author, kind: .percent, outcome: .completed,
                                                 version: bundle.id, fromStable: rollout.deployment.stable, percent: 100,
                                                 deployment: final, reason: request.message))
            if forced { try journalOverride(bundle, request: request) }
            await push(final)
            return ["\(bundle.id) at 100%: stable (epoch \(final.epoch))"]
        }
    }

    /// What `deploy` would do, with the same checks and no effect: nothing
    /// stored, journalled or pushed. A deploy production would refuse
    /// fails the same way, said to be a dry run.
    private func plan(for request: DeployRequest, bundle: VersionBundle) async throws(CoordinatorError) -> [String] {
        var lines = ["dry run: nothing changes"]
        if bundle.id == rollout.deployment.stable && rollout.deployment.canary == nil {
            return lines + ["\(bundle.id) is already stable: deploying it would do nothing"]
        }
        if stagingGate != nil {
            do {
                let forced = try await checkStagingGate(bundle, request: request)
                lines.append(forced ? "--force: production would take \(bundle.id) without staging's completion, journalled with the message"
                                    : "staging completed these rules: production accepts \(bundle.id)")
            } catch {
                throw CoordinatorError(status: error.status, code: error.code, message: "dry run: \(error.message)", field: error.field)
            }
        }
        if let duration = request.gradualDuration {
            do {
                let plan = try RolloutPlan(duration: duration, thresholds: thresholds)
                return lines + plan.describe(version: bundle.id)
            } catch {
                throw .badRequest("duration", "\(error)")
            }
        }
        return lines + ["\(bundle.id) would serve \(request.percent ?? 0)% of keys at once (no analysis)"]
    }

    /// Whether production may take `bundle`; true when `--force` overrode
    /// the gate, which is journalled once the deploy itself is accepted.
    private func checkStagingGate(_ bundle: VersionBundle, request: DeployRequest) async throws(CoordinatorError) -> Bool {
        guard let stagingGate else { return false }
        if request.force { return true }
        switch await stagingGate.completed(rulesHash: bundle.rulesHash) {
        case .success(true):
            return false
        case .success(false):
            throw .conflict("production refuses \(bundle.id): its rules (\(bundle.rulesHash)) have not reached 100% on staging without a rollback; deploy to staging first, or pass --force --message WHY")
        case .failure(let reason):
            throw .conflict("production refuses \(bundle.id): cannot tell whether staging completed it (\(reason))")
        }
    }

    private func journalOverride(_ bundle: VersionBundle, request: DeployRequest) throws(CoordinatorError) {
        try append(JournalEntry(atMs: SystemClock().nowMs(), actor: request.author, kind: .forced, outcome: .applied, version: bundle.id,
                                reason: "staging gate overridden", forced: true, forceMessage: request.message))
    }

    // MARK: Promote, abort, rollback

    func promote(author: String) async throws(CoordinatorError) -> [String] {
        let now = SystemClock().nowMs()
        var next = rollout
        let result: Rollout.PromoteResult
        do { result = try next.onPromote(now: now) } catch { throw .conflict(error.message) }
        try commit(next, entry: JournalEntry(atMs: now, actor: author, kind: .promote, outcome: .completed,
                                             version: result.final.stable, fromStable: rollout.deployment.stable, percent: 100,
                                             deployment: result.final))
        if rolloutVersion != nil { ending = .completed(version: result.final.stable) }
        await push(result.final)
        return ["\(result.final.stable) promoted from \(result.fromPercent)% to stable (epoch \(result.final.epoch))"]
    }

    func abort(author: String) async throws(CoordinatorError) -> [String] {
        let now = SystemClock().nowMs()
        var next = rollout
        let result: Rollout.AbortResult
        do { result = try next.onAbort(now: now) } catch { throw .conflict(error.message) }
        try commit(next, entry: JournalEntry(atMs: now, actor: author, kind: .abort, outcome: .aborted, version: result.version,
                                             fromStable: rollout.deployment.stable, percent: result.percent, deployment: result.split))
        if rolloutVersion != nil { ending = .aborted(percent: result.percent) }
        await push(result.split)
        return ["\(result.version) aborted at \(result.percent)%; \(result.split.stable) serves every key (epoch \(result.split.epoch))"]
    }

    struct RollbackAnswer: Sendable {
        var deployment: Deployment
        var changed: Bool
        var pushed: [DeploymentPusher.Outcome]
    }

    func rollback(to version: String?, message: String?, author: String) async throws(CoordinatorError) -> RollbackAnswer {
        if let version { _ = try bundle(version) }
        let now = SystemClock().nowMs()
        var next = rollout
        let result: Rollout.RollbackResult
        do {
            result = try next.onRollback(to: version, reason: message ?? "manual rollback", now: now)
        } catch {
            throw .conflict(error.message)
        }
        switch result {
        case .unchanged(let deployment):
            return RollbackAnswer(deployment: deployment, changed: false, pushed: [])
        case .rolledBack(let split, let record):
            try commit(next, entry: JournalEntry(atMs: now, actor: author, kind: .rollback, outcome: .rolledBack,
                                                 version: record.version, fromStable: rollout.deployment.stable,
                                                 percent: record.percent, deployment: split, reason: record.reason))
            if rolloutVersion != nil && ending == nil { ending = .rolledBack(percent: record.percent, reason: record.reason) }
            let pushed = await push(split)
            return RollbackAnswer(deployment: split, changed: true, pushed: pushed)
        }
    }

    // MARK: Steps

    /// One evaluation round: scrape every node, record the series, evaluate
    /// the alerts, then judge the rollout step if one is running.
    func tick() async {
        let scrape = await scrapeAll()
        observe(scrape, now: SystemClock().nowMs())
        guard case .stepping(let step) = rollout.state else { return }
        let window = StepWindow(canary: Self.sum(scrape, since: baselines, version: step.version),
                                stable: Self.sum(scrape, since: baselines, version: rollout.deployment.stable))
        let now = SystemClock().nowMs()
        var next = rollout
        let result = next.onTick(window: window, now: now)
        do {
            switch result {
            case .hold, .notStepping:
                return
            case .extended(let verdict, _):
                // The split does not change, so the entry carries no deployment.
                try commit(next, entry: entry(now, .step, .stepExtended, step.version, step.percent, nil, verdict, window))
                steps.append(StepLine(percent: step.percent, verdict: verdict, outcome: "extended"))
            case .advanced(let verdict, let split, _):
                try commit(next, entry: entry(now, .step, .stepPassed, step.version, step.percent, split, verdict, window),
                           baselines: scrape)
                steps.append(StepLine(percent: step.percent, verdict: verdict, outcome: "passed"))
                await push(split)
            case .completed(let verdict, let final):
                try commit(next, entry: entry(now, .completed, .completed, step.version, 100, final, verdict, window))
                steps.append(StepLine(percent: step.percent, verdict: verdict, outcome: "passed"))
                let number = rolloutNumber
                await push(final)
                // Published after the push, so a CLI that sees it finds the nodes switched;
                // unless another rollout started during the push, whose ending this is not.
                if rolloutNumber == number { ending = .completed(version: final.stable) }
            case .rolledBack(let verdict, let split, let record):
                try commit(next, entry: entry(now, .rollback, .rolledBack, step.version, step.percent, split, verdict, window))
                steps.append(StepLine(percent: step.percent, verdict: verdict, outcome: "failed"))
                // The push first: the alert must never delay the rollback.
                let number = rolloutNumber
                await push(split)
                if rolloutNumber == number { ending = .rolledBack(percent: record.percent, reason: record.reason) }
                alerts.send(.automaticRollback(environment: environment, version: step.version, percent: record.percent,
                                               reason: record.reason, at: now,
                                               details: [("restored", .string(split.stable)), ("samples", .integer(verdict.samples))]))
            }
        } catch {
            logger.error("journal write failed; the step is judged again next round", metadata: ["error": "\(error)"])
        }
    }

    /// How long the tick loop waits before the next tick: `interval`, or
    /// less when the current rollout step's hold ends sooner.
    func nextTick(interval: Duration) -> Duration {
        guard case .stepping(let step) = rollout.state else { return interval }
        return Self.wait(interval: interval, stepEndsAt: step.endsAt, now: SystemClock().nowMs())
    }

    /// `interval`, or the time until `stepEndsAt` plus a margin (the step is
    /// judged once `now >= endsAt`) when that is sooner. A step whose end has
    /// passed unjudged (its journal write failed) is tried again after a
    /// second, not in a tight loop.
    static func wait(interval: Duration, stepEndsAt: Int64, now: Int64) -> Duration {
        let untilEnd: Duration = stepEndsAt > now ? .milliseconds(stepEndsAt - now + 10) : .seconds(1)
        return min(interval, untilEnd)
    }

    /// Continues a rollout the journal says was in progress.
    func resume() async {
        let now = SystemClock().nowMs()
        var next = rollout
        switch next.onResume(now: now) {
        case .continueStep(let split, _):
            rollout = next
            if baselines.isEmpty { baselines = await scrapeAll() }
            logger.notice("resuming the rollout from the journal", metadata: ["deployment": "\(split)"])
            await push(split)
        case .unchanged:
            await push(rollout.deployment)
        }
    }

    // MARK: Helpers

    private func entry(_ now: Int64, _ kind: JournalEntry.Kind, _ outcome: JournalEntry.Outcome, _ version: String, _ percent: Int,
                       _ deployment: Deployment?, _ verdict: Verdict, _ window: StepWindow) -> JournalEntry {
        let snapshot = (try? JSONEncoder().encode(window)).map { String(decoding: $0, as: UTF8.self) }
        return JournalEntry(atMs: now, actor: "coordinator", kind: kind, outcome: outcome, version: version,
                            fromStable: rollout.deployment.stable, percent: percent, deployment: deployment,
                            reason: verdict.reason, metricsJSON: snapshot)
    }

    private func bundle(_ id: String) throws(CoordinatorError) -> VersionBundle {
        let found: VersionBundle?
        do { found = try journal.version(id) } catch { throw .storage(error.message) }
        guard let found else { throw .notFound("version \(id) is not uploaded to this coordinator (see `ratelimit versions list`)") }
        return found
    }

    private func append(_ entry: JournalEntry) throws(CoordinatorError) {
        do { try journal.append(entry) } catch { throw .storage(error.message) }
    }

    /// Journals the transition with the machine's new state, then adopts it.
    private func commit(_ next: Rollout, entry: JournalEntry, baselines newBaselines: [String: MetricsScrape]? = nil)
        throws(CoordinatorError) {
        let kept = newBaselines ?? baselines
        let data = Self.encode(baselines: kept)
        do {
            try journal.record(entry: entry, rollout: next, baselines: data)
        } catch {
            throw .storage(error.message)
        }
        rollout = next
        baselines = kept
        if let state = try? Self.state(of: next.deployment, journal: journal) { published.withLock { $0 = state } }
    }

    @discardableResult
    private func push(_ deployment: Deployment) async -> [DeploymentPusher.Outcome] {
        guard let state = try? Self.state(of: deployment, journal: journal) else {
            logger.error("cannot push: a version of the deployment is missing from the journal", metadata: ["deployment": "\(deployment)"])
            return []
        }
        let outcomes = await pusher.push(state)
        for outcome in outcomes {
            if case .failure(let error) = outcome.result {
                logger.warning("push failed; the node catches up from its peers", metadata: ["node": "\(outcome.node)", "error": "\(error)"])
            }
        }
        return outcomes
    }

    static func state(of deployment: Deployment, journal: CoordinatorJournal) throws -> DeploymentState {
        var ruleSets: [RuleSet] = []
        for id in [deployment.stable] + (deployment.canary.map { [$0] } ?? []) {
            guard let bundle = try journal.version(id) else {
                throw CoordinatorError.notFound("version \(id) of the deployment is not in the journal")
            }
            ruleSets.append(RuleSet(rules: Dictionary(uniqueKeysWithValues: bundle.rules.map { ($0.name, $0) })))
        }
        return DeploymentState(deployment: deployment, ruleSets: ruleSets)
    }

    /// Every node's metrics now; a node that does not answer keeps its last scrape.
    func scrapeAll() async -> [String: MetricsScrape] {
        let targets = scrapeTargets
        let fresh = await withTaskGroup(of: (String, MetricsScrape?).self) { group in
            for target in targets {
                group.addTask {
                    let response = try? await NodeClient.request(.GET, host: target.host, port: target.port, path: "/metrics",
                                                                 timeout: .seconds(2))
                    guard let response, response.status == 200 else { return (target.id, nil) }
                    return (target.id, MetricsScrape(text: response.text))
                }
            }
            var results: [String: MetricsScrape] = [:]
            for await (id, scrape) in group { if let scrape { results[id] = scrape } }
            return results
        }
        lastScrape.merge(fresh) { $1 }
        return lastScrape
    }

    /// A version's increase over all nodes since `baselines`. A node absent
    /// from the baselines counts from zero, and so does a node that restarted
    /// since (another start time): all its counters began again, though they
    /// may have passed their old values by now, so none of them is measured
    /// from the old baseline. A counter that fell counts from zero too.
    static func sum(_ scrape: [String: MetricsScrape], since baselines: [String: MetricsScrape], version: String) -> VersionMetrics {
        var total = VersionMetrics.zero
        for (node, metrics) in scrape {
            guard let current = metrics.versions[version] else { continue }
            let baseline = baselines[node]
            let before = metrics.restarted(since: baseline) ? .zero : baseline?.versions[version] ?? .zero
            total = total.adding(current.increase(since: before))
        }
        return total
    }

    /// The baselines as the journal keeps them: each node's versions and start time.
    struct SavedBaselines: Codable {
        var versions: [String: [String: VersionMetrics]]
        var startTimes: [String: Double]
    }

    static func encode(baselines: [String: MetricsScrape]) -> Data? {
        try? JSONEncoder().encode(SavedBaselines(versions: baselines.mapValues(\.versions),
                                                 startTimes: baselines.compactMapValues(\.startTime)))
    }

    /// Reads what ``encode(baselines:)`` wrote, or the versions alone that
    /// journals from before start times hold.
    static func decodeBaselines(_ data: Data) -> [String: MetricsScrape]? {
        if let saved = try? JSONDecoder().decode(SavedBaselines.self, from: data) {
            return saved.versions.reduce(into: [:]) { result, entry in
                result[entry.key] = MetricsScrape(versions: entry.value, startTime: saved.startTimes[entry.key])
            }
        }
        return (try? JSONDecoder().decode([String: [String: VersionMetrics]].self, from: data))?.mapValues { MetricsScrape(versions: $0) }
    }

    var lastMetrics: [String: MetricsScrape] { lastScrape }

    func appendHistory(atMs: Int64, versions: [String: VersionMetrics]) {
        history.append((atMs, versions))
        if history.count > Self.historyLength { history.removeFirst(history.count - Self.historyLength) }
    }

    /// Adopts `evaluator` and journals it, so the alerts it holds firing
    /// survive a restart: they are not announced again, and their resolve
    /// is still sent. A failed write is logged; the alerts keep working.
    func setAlerting(_ evaluator: AlertEvaluator, at now: Int64) {
        alerting = evaluator
        do {
            try journal.saveAlertState(try JSONEncoder().encode(evaluator), atMs: now)
        } catch {
            logger.warning("alert state not saved; a restart would announce firing alerts again", metadata: ["error": "\(error)"])
        }
    }

    /// The evaluator saved by a previous run when it is for the same
    /// environment, thresholds and rules as `fresh`; otherwise `fresh` (the
    /// saved states would belong to other rules).
    static func restoredAlerting(saved: Data?, fresh: AlertEvaluator) -> AlertEvaluator {
        guard let saved, let restored = try? JSONDecoder().decode(AlertEvaluator.self, from: saved),
              restored.environment == fresh.environment, restored.thresholds == fresh.thresholds, restored.rules == fresh.rules
        else { return fresh }
        return restored
    }
}
