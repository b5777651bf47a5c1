import LimiterCore

/// The outcome of a chaos run: what was done to the cluster, what the
/// clients saw, and the verdict of ``AdmissionJudge`` on every key.
public struct ChaosReport: Sendable {
    /// How the run was set up.
    public struct Setup: Sendable, Hashable {
        public var seed: UInt64
        public var long: Bool
        public var initialNodes: Int
        public var listedNodes: Int
        public var replicas: Int
        public var clients: Int
        public var keys: Int

        public init(seed: UInt64, long: Bool, initialNodes: Int, listedNodes: Int, replicas: Int, clients: Int, keys: Int) {
            self.seed = seed
            self.long = long
            self.initialNodes = initialNodes
            self.listedNodes = listedNodes
            self.replicas = replicas
            self.clients = clients
            self.keys = keys
        }
    }

    /// One rule's keys together.
    public struct RuleSummary: Sendable, Hashable {
        public var rule: Rule
        public var keys: Int
        public var admitted: Int
        /// The most the rule could admit over the run, summed over its keys.
        public var capacity: Int
        public var uncounted: Int
        public var excess: Int
        public var keysOver: Int

        /// How the rule's keys were judged (``AdmissionJudge``).
        public var bound: String {
            let w = "\(rule.periodSeconds) s"
            switch rule.algorithm {
            case .fixedWindow, .slidingWindow:
                return "<= \(rule.limit) per aligned \(w) window, counting only hits whose [sent, received] lies inside one window"
            case .slidingLog:
                return "<= \(rule.limit) in any span shorter than \(w)"
            case .tokenBucket, .gcra:
                return "<= \(rule.burst) + \(rule.limit) * elapsed / \(w) over every [sent, received] span"
            }
        }
    }

    /// A key that was admitted more than its rule allows.
    public struct KeyOver: Sendable, Hashable {
        public var key: String
        public var rule: String
        public var admitted: Int
        public var excess: Int
        public var worst: AdmissionJudge.Window?
    }

    public var setup: Setup
    public var startMs: Int64
    public var endMs: Int64
    public var events: [FaultEvent]
    public var operations: Int
    public var allowed: Int
    public var denied: Int
    public var answeredOnRetry: Int
    public var clientErrors: Int
    public var failedAgainstDownNode: Int
    public var failedAgainstLiveNode: Int
    public var failureReasons: [String: Int]
    public var rules: [RuleSummary]
    /// Sorted by excess, largest first.
    public var keysOver: [KeyOver]
    public var longestUnanswerable: Ledger.Unanswerable?
    /// Node processes that exited with no fault stopping them, one line each with its time.
    public var unexpectedExits: [String]
    /// Nodes that did not exit on SIGTERM when the run stopped them, one line each.
    public var shutdownProblems: [String] = []

    /// Judges every key of `workload` in `ledger`; `startMs`/`endMs` bound the load (Unix-epoch ms).
    public init(setup: Setup, workload: ChaosWorkload, ledger: Ledger, events: [FaultEvent], startMs: Int64, endMs: Int64,
                unexpectedExits: [String] = []) {
        self.setup = setup
        self.unexpectedExits = unexpectedExits
        self.startMs = startMs
        self.endMs = endMs
        self.events = events
        operations = ledger.operations
        allowed = ledger.allowed
        denied = ledger.denied
        answeredOnRetry = ledger.answeredOnRetry
        clientErrors = ledger.clientErrors
        failedAgainstDownNode = ledger.failedAgainstDownNode
        failedAgainstLiveNode = ledger.failedAgainstLiveNode
        failureReasons = ledger.failureReasons
        longestUnanswerable = ledger.longestUnanswerable(endMs: endMs)

        var summaries: [String: RuleSummary] = [:]
        for rule in workload.rules {
            summaries[rule.name] = RuleSummary(rule: rule, keys: 0, admitted: 0, capacity: 0, uncounted: 0, excess: 0, keysOver: 0)
        }
        var over: [KeyOver] = []
        for key in workload.keys {
            guard let rule = workload.rule(named: key.rule) else { continue }
            let hits = ledger.keys[key.name]?.admitted ?? []
            let verdict = AdmissionJudge.judge(hits, under: rule)
            summaries[rule.name]!.keys += 1
            summaries[rule.name]!.admitted += verdict.admitted
            summaries[rule.name]!.capacity += AdmissionJudge.capacity(of: rule, fromMs: startMs, toMs: endMs)
            summaries[rule.name]!.uncounted += verdict.uncounted
            summaries[rule.name]!.excess += verdict.excess
            if verdict.excess > 0 {
                summaries[rule.name]!.keysOver += 1
                over.append(KeyOver(key: key.name, rule: rule.name, admitted: verdict.admitted, excess: verdict.excess,
                                    worst: verdict.worst))
            }
        }
        rules = workload.rules.map { summaries[$0.name]! }
        keysOver = over.sorted { ($0.excess, $1.key) > ($1.excess, $0.key) }
    }

    /// Admissions beyond the bounds, summed over every key.
    public var overAdmissions: Int { rules.reduce(0) { $0 + $1.excess } }
    public var admitted: Int { rules.reduce(0) { $0 + $1.admitted } }
    public var capacity: Int { rules.reduce(0) { $0 + $1.capacity } }

    /// Faults injected, by kind (the `began` events).
    public var faultCounts: [Fault.Kind: Int] {
        Dictionary(grouping: events.filter { $0.phase == .began }, by: \.kind).mapValues(\.count)
    }

    /// The run passes when no key was over-admitted, and under `strict` also
    /// when every check was answered by some node, no node crashed and every
    /// node stopped on SIGTERM.
    public func passed(strict: Bool) -> Bool {
        overAdmissions == 0 && (!strict || (clientErrors == 0 && unexpectedExits.isEmpty && shutdownProblems.isEmpty))
    }

    /// `12.345s` right-aligned to 8 characters: how run times print.
    public static func clock(_ ms: Int64) -> String {
        let text = "\(ms / 1000).\(String(ms % 1000).leftPadded(to: 3, with: "0"))s"
        return text.leftPadded(to: 8, with: " ")
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character) -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
