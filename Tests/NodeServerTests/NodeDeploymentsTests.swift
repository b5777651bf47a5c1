import EventStore
import Foundation
import LimiterCore
import Logging
@testable import NodeServer
import Rollout
import Testing
import TestSupport
import Wire

@Suite("Deployments on a node: applied by epoch, persisted, restored")
struct NodeDeploymentsTests {
    let stable = RuleSet(rules: ["API": rule("API", limit: 100)])
    let canary = RuleSet(rules: ["API": rule("API", limit: 3)])

    func openLog(_ directory: String) throws -> EventLog {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try EventLog(path: directory + "/events.sqlite", durability: .normal)
    }

    func deployments(_ log: EventLog) throws -> NodeDeployments {
        try NodeDeployments(versions: RuleVersions(stable: stable, metrics: EngineMetrics(node: "n1")), log: log,
                            logger: Logger(label: "test"))
    }

    @Test("A newer deployment is applied and survives a restart; an older or equal epoch changes nothing")
    func appliedPersistedRestored() throws {
        let temporary = try TemporaryDirectory(prefix: "deploy")
        let directory = temporary.path
        let split = DeploymentState(deployment: Deployment(epoch: 4, stable: stable.version, canary: canary.version, percent: 25),
                                    ruleSets: [stable, canary])
        do {
            let node = try deployments(try openLog(directory))
            #expect(try node.apply(split, at: 1) == split.deployment)
            let stale = DeploymentState(deployment: Deployment(epoch: 4, stable: canary.version), ruleSets: [canary])
            #expect(try node.apply(stale, at: 2) == split.deployment)
            #expect(node.versions.deployment == split.deployment)
        }
        let restarted = try deployments(try openLog(directory))
        #expect(restarted.versions.deployment == split.deployment)
        #expect(restarted.current == split)
        #expect(restarted.versions.installed(canary.version) != nil)
        withExtendedLifetime(temporary) {}
    }

    @Test("The persisted form round-trips, and a rule set whose rules do not hash to its id is refused")
    func integrity() throws {
        let state = DeploymentState(deployment: Deployment(epoch: 2, stable: stable.version, canary: canary.version, percent: 10),
                                    ruleSets: [stable, canary])
        #expect(try DeploymentState(bytes: state.bytes) == state)
        let forged = DeploymentState(deployment: Deployment(epoch: 2, stable: stable.version), ruleSets: [
            RuleSet(rules: canary.rules, version: stable.version),
        ])
        let error = #expect(throws: WireError.self) { try DeploymentState(bytes: forged.bytes) }
        #expect(error?.message.contains("hash") == true)
        let missing = DeploymentState(deployment: Deployment(epoch: 2, stable: stable.version, canary: canary.version, percent: 10),
                                      ruleSets: [stable])
        #expect(throws: WireError.self) { try DeploymentState(bytes: missing.bytes) }
        for length in 0..<state.bytes.count {
            #expect(throws: WireError.self) { try DeploymentState(bytes: Array(state.bytes.prefix(length))) }
        }
    }

    @Test("Without its log a node refuses a newer deployment rather than serve it unsaved; attaching the log restores what it saved")
    func detachedAndAttached() throws {
        let temporary = try TemporaryDirectory(prefix: "deploy")
        let split = DeploymentState(deployment: Deployment(epoch: 3, stable: stable.version, canary: canary.version, percent: 50),
                                    ruleSets: [stable, canary])
        do {
            let node = try deployments(try openLog(temporary.path))
            try node.apply(split, at: 1)
        }
        // The store could not be opened at start: the configured rules serve.
        let node = try NodeDeployments(versions: RuleVersions(stable: stable, metrics: EngineMetrics(node: "n1")),
                                       log: nil, logger: Logger(label: "test"))
        #expect(node.versions.deployment.epoch == 0)
        let later = DeploymentState(deployment: Deployment(epoch: 5, stable: canary.version), ruleSets: [canary])
        let refused = #expect(throws: NodeError.self) { try node.apply(later, at: 2) }
        #expect(refused?.code == "deployment_not_saved")
        #expect(refused?.message == "cannot save deployment epoch 5: the event log is unavailable")
        #expect(node.versions.deployment.epoch == 0)

        try node.attach(try openLog(temporary.path))
        #expect(node.versions.deployment == split.deployment)
        #expect(node.current == split)
        #expect(try node.apply(later, at: 3) == later.deployment)
        node.detach()
        let again = DeploymentState(deployment: Deployment(epoch: 6, stable: stable.version), ruleSets: [stable])
        #expect(throws: NodeError.self) { try node.apply(again, at: 4) }
        #expect(node.versions.deployment == later.deployment)
    }

    @Test("Attaching a replaced log that lacks the served deployment saves it there, so a restart serves it")
    func attachSavesServedDeployment() throws {
        let first = try TemporaryDirectory(prefix: "deploy")
        let second = try TemporaryDirectory(prefix: "deploy")
        let split = DeploymentState(deployment: Deployment(epoch: 2, stable: stable.version, canary: canary.version, percent: 10),
                                    ruleSets: [stable, canary])
        let node = try deployments(try openLog(first.path))
        try node.apply(split, at: 1)
        node.detach()
        try node.attach(try openLog(second.path))
        let restarted = try deployments(try openLog(second.path))
        #expect(restarted.current == split)
    }
}
