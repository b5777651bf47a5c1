/// The evaluator is journalled so firing alerts survive a coordinator
/// restart; a journal whose parts disagree is reported, not trusted (an
/// index past `states` would otherwise stop the process at the next evaluation).
extension AlertEvaluator {
    enum CodingKeys: String, CodingKey {
        case environment, thresholds, rules, window, states
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.environment = try container.decode(String.self, forKey: .environment)
        self.thresholds = try container.decode(MonitoringThresholds.self, forKey: .thresholds)
        self.rules = try container.decode([AlertRule].self, forKey: .rules)
        self.window = try container.decode(CounterWindow.self, forKey: .window)
        self.states = try container.decode([AlertState].self, forKey: .states)
        do {
            try self.thresholds.validate()
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .thresholds, in: container, debugDescription: error.message)
        }
        guard self.states.count == self.rules.count else {
            throw DecodingError.dataCorruptedError(
                forKey: .states, in: container,
                debugDescription: "\(self.states.count) alert states for \(self.rules.count) rules"
            )
        }
        guard self.window.length == self.thresholds.alertWindow else {
            throw DecodingError.dataCorruptedError(
                forKey: .window, in: container,
                debugDescription: "window of \(self.window.length) ms, alert_window_s is \(self.thresholds.alertWindowSeconds)"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.environment, forKey: .environment)
        try container.encode(self.thresholds, forKey: .thresholds)
        try container.encode(self.rules, forKey: .rules)
        try container.encode(self.window, forKey: .window)
        try container.encode(self.states, forKey: .states)
    }
}
