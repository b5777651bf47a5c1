import LimiterCore
import Rollout
import Wire

/// A deployment with the rule sets it names: what the coordinator pushes,
/// what nodes pass to each other when one is behind, and what each node
/// persists so a restart serves the same versions before the coordinator is
/// back (DESIGN §7).
public struct DeploymentState: Sendable, Equatable {
    public var deployment: Deployment
    /// The versions `deployment` names (stable, and canary when set).
    public var ruleSets: [RuleSet]

    public init(deployment: Deployment, ruleSets: [RuleSet]) {
        self.deployment = deployment
        self.ruleSets = ruleSets
    }

    static let maxRules = 1_000

    func encode(into writer: inout WireWriter) {
        deployment.encode(into: &writer)
        writer.count(ruleSets.count, field: "rule_sets.count")
        for ruleSet in ruleSets {
            writer.string(ruleSet.version)
            writer.count(ruleSet.rules.count, field: "rules.count")
            for rule in ruleSet.rules.values.sorted(by: { $0.name < $1.name }) {
                writer.string(rule.name)
                writer.string(rule.namespaceID)
                writer.count(rule.limit, field: "rule.limit")
                writer.count(rule.periodSeconds, field: "rule.period")
                writer.string(rule.algorithm.rawValue)
                writer.count(rule.burst, field: "rule.burst")
            }
        }
    }

    /// Decodes untrusted bytes: every rule is validated as the config loader
    /// validates it, and each rule set's id must be the hash of its content.
    init(reading reader: inout WireReader) throws(WireError) {
        deployment = try Deployment(reading: &reader)
        let count = try reader.count("rule_sets.count", limit: 16, minimumItemSize: 2)
        ruleSets = []
        for index in 0..<count {
            let field = "rule_sets[\(index)]"
            let version = try reader.string("\(field).version", maxBytes: PeerMessage.maxVersionBytes)
            let ruleCount = try reader.count("\(field).rules.count", limit: Self.maxRules, minimumItemSize: 6)
            var rules: [String: Rule] = [:]
            for ruleIndex in 0..<ruleCount {
                let ruleField = "\(field).rules[\(ruleIndex)]"
                let name = try reader.string("\(ruleField).name", maxBytes: PeerMessage.maxNameBytes)
                let namespace = try reader.string("\(ruleField).namespace", maxBytes: PeerMessage.maxNameBytes)
                let limit = try reader.bounded("\(ruleField).limit", limit: Int64(Int32.max))
                let period = try reader.bounded("\(ruleField).period", limit: Int64(Int32.max))
                let algorithmName = try reader.string("\(ruleField).algorithm", maxBytes: 32)
                let burst = try reader.bounded("\(ruleField).burst", limit: Int64(Int32.max))
                guard let algorithm = Algorithm(rawValue: algorithmName) else {
                    throw reader.error(.invalidField, "\(ruleField).algorithm \"\(algorithmName)\" is unknown")
                }
                do {
                    rules[name] = try Rule.validated(name: name, namespaceID: namespace, limit: Int(limit), periodSeconds: Int(period),
                                                     algorithm: algorithm, burst: Int(burst))
                } catch {
                    throw reader.error(.invalidField, "\(ruleField): \(error.message)")
                }
            }
            let ruleSet = RuleSet(rules: rules)
            guard ruleSet.version == version else {
                throw reader.error(.invalidField, "\(field) claims version \(version) but its rules hash to \(ruleSet.version)")
            }
            ruleSets.append(ruleSet)
        }
        let named = Set(ruleSets.map(\.version))
        for version in [deployment.stable] + (deployment.canary.map { [$0] } ?? []) where !named.contains(version) {
            throw reader.error(.invalidField, "the deployment names version \(version) but carries no rule set for it")
        }
    }

    /// The persisted form: one envelope, so a newer build's file still reads.
    public var bytes: [UInt8] {
        Envelope.seal(type: PeerMessage.Kind.deploymentPush.rawValue, capacity: 256) { encode(into: &$0) }
    }

    public init(bytes: [UInt8]) throws(WireError) {
        var envelope = try Envelope(opening: bytes)
        self = try DeploymentState(reading: &envelope.body)
        try envelope.finish("deployment state")
    }
}

extension Deployment {
    func encode(into writer: inout WireWriter) {
        writer.varint(epoch)
        writer.string(stable)
        writer.string(canary ?? "")
        writer.count(percent, field: "deployment.percent")
    }

    init(reading reader: inout WireReader) throws(WireError) {
        let epoch = try reader.varint("deployment.epoch")
        let stable = try reader.string("deployment.stable", maxBytes: PeerMessage.maxVersionBytes)
        let canary = try reader.string("deployment.canary", maxBytes: PeerMessage.maxVersionBytes)
        let percent = try reader.bounded("deployment.percent", limit: 100)
        do {
            self = try Deployment.checked(epoch: epoch, stable: stable, canary: canary.isEmpty ? nil : canary, percent: Int(percent))
        } catch {
            throw reader.error(.invalidField, "deployment: \(error)")
        }
    }
}
