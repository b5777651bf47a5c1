import Synchronization

/// What the driver knows of each node's state, shared with the clients:
/// they send only to live nodes, and classify a failed attempt by whether
/// its node stayed live throughout (no fault hit it while the request was out).
final class NodeView: Sendable {
    enum State: String, Sendable {
        case notStarted = "not started"
        /// Started, restarted or resumed; not yet answering /health with 200.
        case starting
        case live
        case frozen
        case killed
        /// Sent SIGTERM, not yet exited.
        case leaving
        case stopped
    }

    struct Node: Sendable {
        var id: String
        var httpPort: Int
        var state: State
        /// Bumped on every change of state, so an attempt can tell that one happened during it.
        var generation: Int
    }

    private let nodes: Mutex<[Node]>

    init(nodes: [(id: String, httpPort: Int)]) {
        self.nodes = Mutex(nodes.map { Node(id: $0.id, httpPort: $0.httpPort, state: .notStarted, generation: 0) })
    }

    func set(_ id: String, _ state: State) {
        nodes.withLock { nodes in
            guard let index = nodes.firstIndex(where: { $0.id == id }) else { preconditionFailure("no node \(id)") }
            nodes[index].state = state
            nodes[index].generation += 1
        }
    }

    func state(of id: String) -> State {
        nodes.withLock { nodes in nodes.first { $0.id == id }?.state ?? .notStarted }
    }

    /// The live nodes now, in topology order.
    func live() -> [Node] {
        nodes.withLock { nodes in nodes.filter { $0.state == .live } }
    }

    /// Whether `node`, live when it was read, is still live with no change since.
    func stayedLive(_ node: Node) -> Bool {
        nodes.withLock { nodes in
            nodes.first { $0.id == node.id }.map { $0.state == .live && $0.generation == node.generation } ?? false
        }
    }

    func all() -> [Node] {
        nodes.withLock { $0 }
    }
}
