/// Everything the chaos clients were told, kept on the client side: each
/// acknowledged `allowed: true` with the interval it was decided in, and the
/// failures that tell how available each key was.
///
/// The ledger counts only what the cluster acknowledged. A hit the cluster
/// admitted but whose answer was lost (a timeout, a killed node) is not in it,
/// so the ledger can under-count admissions, never over-count them: an
/// over-admission found from it is real.
public struct Ledger: Sendable {
    /// What happened to one key.
    public struct KeyRecord: Sendable, Hashable {
        public var rule: String
        public var admitted: [AdmittedHit] = []
        public var denied = 0
        /// `sentMs` of each failed attempt on a node that was live.
        var liveFailures: [Int64] = []
        /// `receivedMs` of each answer (allowed or denied).
        var answers: [Int64] = []
    }

    public private(set) var keys: [String: KeyRecord] = [:]
    /// Checks the clients made (a retried check is one operation).
    public private(set) var operations = 0
    public private(set) var allowed = 0
    public private(set) var denied = 0
    /// Operations answered only by the retry on a second node.
    public private(set) var answeredOnRetry = 0
    /// Operations that got no answer from any node asked.
    public private(set) var clientErrors = 0
    /// Failed attempts on a node that was killed, frozen, stopping or not yet
    /// healthy (the client's own view was stale: the node was down).
    public private(set) var failedAgainstDownNode = 0
    /// Failed attempts on a node that was running and healthy: the cluster
    /// could not decide the key although the node asked was up.
    public private(set) var failedAgainstLiveNode = 0
    /// Failure reasons and how often each occurred (the first 20 distinct).
    public private(set) var failureReasons: [String: Int] = [:]

    public init() {}

    public mutating func record(_ operation: ClientOperation) {
        operations += 1
        var key = keys[operation.key] ?? KeyRecord(rule: operation.rule)
        var answered = false
        for (index, attempt) in operation.attempts.enumerated() {
            switch attempt.result {
            case .answered(let wasAllowed):
                answered = true
                if index > 0 { answeredOnRetry += 1 }
                key.answers.append(attempt.receivedMs)
                if wasAllowed {
                    allowed += 1
                    key.admitted.append(AdmittedHit(sentMs: attempt.sentMs, receivedMs: attempt.receivedMs))
                } else {
                    denied += 1
                    key.denied += 1
                }
            case .failed(let reason):
                if attempt.nodeWasLive {
                    failedAgainstLiveNode += 1
                    key.liveFailures.append(attempt.sentMs)
                } else {
                    failedAgainstDownNode += 1
                }
                if failureReasons[reason] != nil || failureReasons.count < 20 {
                    failureReasons[reason, default: 0] += 1
                }
            }
            if answered { break }
        }
        if !answered { clientErrors += 1 }
        keys[operation.key] = key
    }

    /// The longest time a key went unanswered: from a failed attempt on a
    /// live node to the key's next answer (by any node), or to `endMs` when
    /// no answer came after it.
    public func longestUnanswerable(endMs: Int64) -> Unanswerable? {
        var longest: Unanswerable?
        for (name, record) in keys where !record.liveFailures.isEmpty {
            let failures = record.liveFailures.sorted()
            let answers = record.answers.sorted()
            var next = 0
            var index = 0
            while index < failures.count {
                let failure = failures[index]
                while next < answers.count && answers[next] <= failure { next += 1 }
                let answeredAt = next < answers.count ? answers[next] : nil
                let span = Unanswerable(key: name, fromMs: failure, toMs: answeredAt ?? endMs, answered: answeredAt != nil)
                if longest.map({ span.durationMs > $0.durationMs || (span.durationMs == $0.durationMs && span.key < $0.key) }) ?? true {
                    longest = span
                }
                // Later failures before the same answer make shorter spans.
                while index < failures.count && (answeredAt.map { failures[index] < $0 } ?? true) { index += 1 }
            }
        }
        return longest
    }

    /// A span in which a key had failed and not yet been answered.
    public struct Unanswerable: Sendable, Hashable {
        public var key: String
        public var fromMs: Int64
        public var toMs: Int64
        /// False when the run ended before the key was answered again.
        public var answered: Bool
        public var durationMs: Int64 { toMs - fromMs }
    }
}

/// One acknowledged admission: the owner decided it at some instant in
/// `[sentMs, receivedMs]` (Unix-epoch milliseconds).
public struct AdmittedHit: Sendable, Hashable {
    public var sentMs: Int64
    public var receivedMs: Int64

    public init(sentMs: Int64, receivedMs: Int64) {
        self.sentMs = sentMs
        self.receivedMs = receivedMs
    }
}
