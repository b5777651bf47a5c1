import LimiterCore
import NIOCore

extension NodeRoutes: CheckResponder {
    /// `POST /v1/check` from the body bytes: the usual body is read by
    /// ``CheckRequest/parseCommonBody(_:rules:)``, anything else by the full
    /// parser, which names the problem; the decision comes back as a
    /// ``CheckReply`` rendered from the rule's template.
    func check(body: ByteBuffer, committed: @escaping @Sendable (CheckReply) -> Void) -> CheckReply? {
        let started = monotonicNanos()
        let parsed: Result<(CheckRequest, CheckResponseTemplate), APIProblem> = body.withUnsafeReadableBytes { raw in
            if let common = CheckRequest.parseCommonBody(raw, rules: checkTemplates) { return .success(common) }
            do throws(APIProblem) {
                let request = try CheckRequest.parseSingle(raw, rules: engine.ruleSet.rules)
                return .success((request, checkTemplates[request.rule]!))
            } catch {
                return .failure(error)
            }
        }
        let request: CheckRequest
        let template: CheckResponseTemplate
        switch parsed {
        case .success(let value): (request, template) = value
        case .failure(let problem):
            engine.metrics.recordError(rule: nil)
            return .response(.problem(problem))
        }
        let outcome = router.check(request, rule: template.rule) { [self] result in
            committed(reply(result, rule: request.rule, template: template, started: started))
        }
        switch outcome {
        case .done(let result): return reply(result, rule: request.rule, template: template, started: started)
        case .committing: return nil
        }
    }

    /// Records the answer in the metrics, as the general route does, and
    /// picks its rendering.
    private func reply(_ result: Result<CheckResult, APIProblem>, rule: String, template: CheckResponseTemplate,
                       started: UInt64) -> CheckReply {
        switch result {
        case .failure(let problem):
            engine.metrics.recordError(rule: rule)
            return .response(.problem(problem))
        case .success(let result):
            engine.metrics.record(rule: result.rule, allowed: result.decision.allowed, latencyNanos: monotonicNanos() &- started)
            if template.fits(result) { return .decided(result, template) }
            let period = engine.ruleSet.rules[result.rule]?.periodSeconds ?? 0
            return .response(.json(result.json, headers: result.headers(periodSeconds: period)))
        }
    }
}
