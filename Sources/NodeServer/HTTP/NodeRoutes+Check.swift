import LimiterCore
import NIOCore

extension NodeRoutes: CheckResponder {
    /// `POST /v1/check` from the body bytes: the usual body is read by
    /// ``CheckRequest/parseCommonBody(_:rules:)``, anything else by the full
    /// parser, which names the problem; the key's version is chosen by the
    /// deployment (DESIGN §7) and the decision comes back as a ``CheckReply``
    /// rendered from that version's template for the rule.
    func check(body: ByteBuffer, committed: @escaping @Sendable (CheckReply) -> Void) -> CheckReply? {
        let started = monotonicNanos()
        let current = versions.current
        let parsed: Result<CheckRequest, APIProblem> = body.withUnsafeReadableBytes { raw in
            if let (request, _) = CheckRequest.parseCommonBody(raw, rules: current.rules) { return .success(request) }
            do throws(APIProblem) {
                return .success(try CheckRequest.parseSingle(raw, rules: current.rules))
            } catch {
                return .failure(error)
            }
        }
        let request: CheckRequest
        switch parsed {
        case .success(let value): request = value
        case .failure(let problem): return .response(.problem(problem))
        }
        guard let (version, rule) = current.resolve(rule: request.rule, key: request.key) else {
            return .response(.problem(.invalidField("rule", "rule \"\(request.rule)\" is not in the rule-set version deployed for this key")))
        }
        let template = version.templates[rule.name]!
        let handles = version.metrics[rule.name]!
        let check = LimiterEngine.ResolvedCheck(request: request, rule: rule, version: version.id)
        let outcome = router.check(check) { result in
            committed(Self.reply(result, template: template, handles: handles, started: started))
        }
        switch outcome {
        case .done(let result): return Self.reply(result, template: template, handles: handles, started: started)
        case .committing: return nil
        }
    }

    /// Records the answer in the metrics, as the general route does, and
    /// picks its rendering.
    private static func reply(_ result: Result<CheckResult, APIProblem>, template: CheckResponseTemplate,
                              handles: EngineMetrics.RuleHandles, started: UInt64) -> CheckReply {
        switch result {
        case .failure(let problem):
            handles.errors.increment()
            return .response(.problem(problem))
        case .success(let result):
            handles.record(allowed: result.decision.allowed, latencyNanos: monotonicNanos() &- started)
            if template.fits(result) { return .decided(result, template) }
            return .response(.json(result.json, headers: result.headers(periodSeconds: template.rule.periodSeconds)))
        }
    }
}
