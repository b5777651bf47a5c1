import Logging
import NIOCore
import NIOPosix
import PeerTransport
import ServiceLifecycle

/// Anti-entropy for deployments: every `interval` this node asks one random
/// peer (node or coordinator) for its deployment if newer than its own, so
/// a node that missed a push (it was down, or joined late) converges on the
/// highest epoch within a few rounds, with or without the coordinator.
struct DeploymentSync: Service {
    let node: ClusterNode
    let peer: PeerService
    let deployments: NodeDeployments
    let logger: Logger
    var interval: Duration = .seconds(1)

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                await pullOnce()
                try await Task.sleep(for: interval)
            }
        }
    }

    private func pullOnce() async {
        let others = node.shell.members.filter { $0.status.isAlive && $0.id != node.nodeID }
        guard let target = others.randomElement() else { return }
        let epoch = deployments.current.deployment.epoch
        do {
            let reply = try await peer.request(to: target.metadata.peerAddress(id: target.id),
                                               payload: PeerMessage.deploymentPull(epoch: epoch).buffer, timeout: .seconds(2))
            guard case .deploymentPush(let state) = try PeerMessage(decoding: reply) else { return }
            let deployments = deployments
            let served = try await NIOThreadPool.singleton.runIfActive {
                try deployments.apply(state, at: SystemClock().nowMs())
            }
            logger.info("caught up on deployment from \(target.id)", metadata: ["epoch": "\(served.epoch)"])
        } catch {
            logger.debug("deployment pull failed", metadata: ["from": "\(target.id)", "error": "\(error)"])
        }
    }
}
