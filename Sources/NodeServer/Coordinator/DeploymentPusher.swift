import Logging
import NIOCore
import PeerTransport
import Rollout

/// Sends a ``DeploymentState`` to every node of the topology at once over
/// the peer link and reports each node's answer. A node that is down or
/// slow does not hold up the others; it catches up by anti-entropy later.
struct DeploymentPusher: Sendable {
    struct Outcome: Sendable {
        var node: String
        /// The deployment the node serves after the push, or why it failed.
        var result: Result<Deployment, PushError>
    }

    struct PushError: Error, Sendable, CustomStringConvertible {
        var description: String
    }

    let peer: PeerService
    let nodes: [PeerAddress]
    var timeout: Duration = .seconds(1)

    func push(_ state: DeploymentState) async -> [Outcome] {
        let payload = PeerMessage.deploymentPush(state).buffer
        return await withTaskGroup(of: Outcome.self) { group in
            for node in nodes {
                group.addTask {
                    do {
                        let reply = try await peer.request(to: node, payload: payload, timeout: timeout)
                        switch try PeerMessage(decoding: reply) {
                        case .deploymentStatus(let served):
                            return Outcome(node: node.id, result: .success(served))
                        case .problem(_, let code, let detail):
                            return Outcome(node: node.id, result: .failure(PushError(description: "\(code): \(detail)")))
                        default:
                            return Outcome(node: node.id, result: .failure(PushError(description: "unexpected answer")))
                        }
                    } catch {
                        return Outcome(node: node.id, result: .failure(PushError(description: "\(error)")))
                    }
                }
            }
            var outcomes: [Outcome] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes.sorted { $0.node < $1.node }
        }
    }
}
