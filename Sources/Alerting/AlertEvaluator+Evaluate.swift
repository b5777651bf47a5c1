extension AlertEvaluator {
    /// What the shell does after ``evaluate(now:)``.
    public struct EvaluationResult: Sendable, Equatable {
        /// POST each, in order (fires and resolves of different rules may mix).
        public let notifications: [AlertNotification]
        /// The window the rules were evaluated on, for the dashboard.
        public let figures: WindowFigures
        /// Evaluate again at this time: one scrape interval later.
        public let nextEvaluationAt: Int64
    }

    /// Evaluates every rule over the window ending at `now` and moves each
    /// rule's ``AlertState``. A window without traffic counts as not
    /// crossed: a pending alert is dropped, a firing one resolves.
    public mutating func evaluate(now: Int64) -> EvaluationResult {
        self.window.prune(now: now)
        let figures = self.window.figures(now: now)
        var notifications: [AlertNotification] = []
        for index in self.rules.indices {
            let rule = self.rules[index]
            let value = rule.value(of: figures)
            let crossed = value.map(rule.isViolated) ?? false
            let (next, status) = Self.transition(self.states[index], crossed: crossed, value: value ?? 0, pendingFor: rule.pendingFor, now: now)
            self.states[index] = next
            if let status {
                notifications.append(
                    AlertNotification(
                        alert: rule.name,
                        severity: rule.severity,
                        status: status,
                        environment: self.environment,
                        value: Formatting.rounded(value ?? 0),
                        threshold: rule.threshold,
                        message: rule.message(firing: status == .firing, figures: figures, windowSeconds: self.thresholds.alertWindowSeconds),
                        at: now
                    )
                )
            }
        }
        return EvaluationResult(notifications: notifications, figures: figures, nextEvaluationAt: now + self.thresholds.scrapeInterval)
    }

    /// One rule's step: the next state and the notification to send, if any.
    static func transition(
        _ state: AlertState, crossed: Bool, value: Double, pendingFor: Int64, now: Int64
    ) -> (AlertState, AlertNotification.Status?) {
        switch (state, crossed) {
        case (.inactive, false), (.resolved, false):
            return (state, nil)
        case (.inactive, true), (.resolved, true):
            if pendingFor == 0 { return (.firing(since: now, value: value), .firing) }
            return (.pending(since: now, value: value), nil)
        case (.pending(let since, _), true):
            if now - since >= pendingFor { return (.firing(since: now, value: value), .firing) }
            return (.pending(since: since, value: value), nil)
        case (.pending, false):
            return (.inactive, nil)
        case (.firing(let since, _), true):
            return (.firing(since: since, value: value), nil)
        case (.firing, false):
            return (.resolved(at: now), .resolved)
        }
    }
}
