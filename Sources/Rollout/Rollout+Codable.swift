/// The journal format (DESIGN.md §7: the coordinator journals every
/// transition and resumes a rollout from it after a restart). Explicit
/// rather than synthesized for the state, so the stored JSON reads
/// `{"kind": "stepping", "step": {...}}` instead of Swift's `_0` keys and
/// stays stable if a case gains a field.
extension Rollout {
    enum CodingKeys: String, CodingKey {
        case deployment, state
    }

    /// Decodes a journalled machine and checks that state and deployment
    /// fit together; a journal that does not is reported, not trusted.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let deployment = try container.decode(Deployment.self, forKey: .deployment)
        let state = try container.decode(State.self, forKey: .state)
        do {
            try self.init(deployment: deployment, state: state)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .state, in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.deployment, forKey: .deployment)
        try container.encode(self.state, forKey: .state)
    }
}

extension Rollout.State: Codable {
    enum CodingKeys: String, CodingKey {
        case kind, version, since, at, percent, step, record
    }

    enum Kind: String, Codable {
        case idle, split, stepping, completed
        case rolledBack = "rolled_back"
        case aborted
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Kind.self, forKey: .kind) {
        case .idle:
            self = .idle
        case .split:
            self = .split(
                version: try container.decode(String.self, forKey: .version),
                since: try container.decode(Int64.self, forKey: .since)
            )
        case .stepping:
            self = .stepping(try container.decode(Rollout.Step.self, forKey: .step))
        case .completed:
            self = .completed(
                version: try container.decode(String.self, forKey: .version),
                at: try container.decode(Int64.self, forKey: .at)
            )
        case .rolledBack:
            self = .rolledBack(try container.decode(Rollout.RollbackRecord.self, forKey: .record))
        case .aborted:
            self = .aborted(
                version: try container.decode(String.self, forKey: .version),
                percent: try container.decode(Int.self, forKey: .percent),
                at: try container.decode(Int64.self, forKey: .at)
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .idle:
            try container.encode(Kind.idle, forKey: .kind)
        case .split(let version, let since):
            try container.encode(Kind.split, forKey: .kind)
            try container.encode(version, forKey: .version)
            try container.encode(since, forKey: .since)
        case .stepping(let step):
            try container.encode(Kind.stepping, forKey: .kind)
            try container.encode(step, forKey: .step)
        case .completed(let version, let at):
            try container.encode(Kind.completed, forKey: .kind)
            try container.encode(version, forKey: .version)
            try container.encode(at, forKey: .at)
        case .rolledBack(let record):
            try container.encode(Kind.rolledBack, forKey: .kind)
            try container.encode(record, forKey: .record)
        case .aborted(let version, let percent, let at):
            try container.encode(Kind.aborted, forKey: .kind)
            try container.encode(version, forKey: .version)
            try container.encode(percent, forKey: .percent)
            try container.encode(at, forKey: .at)
        }
    }
}
