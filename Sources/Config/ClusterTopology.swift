/// One environment's cluster layout, read from `cluster/<env>.toml`
/// (DESIGN.md §3). Paths are already absolute, resolved against the
/// directory holding wrangler.toml, so every verb can run from anywhere.
public struct ClusterTopology: Sendable, Hashable {
    /// How many nodes hold each admitted hit (DESIGN §6): 1 is single-copy
    /// mode; with 2 the deciding node acknowledges a hit only after the next
    /// node on the ring committed its copy, and that node decides the key when
    /// the owner cannot be reached. 1 or 2, and at most the number of nodes.
    public var replicas: Int
    /// Where the cluster CA and node certificates live.
    public var certsDir: String
    /// The deployment coordinator, when this environment runs one.
    public var coordinator: Endpoint?
    /// Every node, in file order.
    public var nodes: [NodeSpec]
    /// `on_unavailable`: how a node answers checks it cannot decide from
    /// recorded state (DESIGN.md §6); `deny` unless the file says otherwise.
    public var onUnavailable: UnavailableMode
    /// `forward_window_us`: how long a check forwarded to an owner with
    /// nothing in flight may wait for others to share its batch, while
    /// checks for that owner keep arriving at least that often (DESIGN.md §6,
    /// "a short window"); 0 sends each such check at once.
    public var forwardWindowMicros: Int

    /// The default `forward_window_us`, gubernator's default batch wait.
    public static let defaultForwardWindowMicros = 500
    /// The largest `forward_window_us` accepted: 10 ms.
    public static let maxForwardWindowMicros = 10_000

    public init(replicas: Int = 1, certsDir: String = "", coordinator: Endpoint? = nil, nodes: [NodeSpec] = [],
                onUnavailable: UnavailableMode = .deny, forwardWindowMicros: Int = defaultForwardWindowMicros) {
        self.replicas = replicas
        self.certsDir = certsDir
        self.coordinator = coordinator
        self.nodes = nodes
        self.onUnavailable = onUnavailable
        self.forwardWindowMicros = forwardWindowMicros
    }

    /// The node with `id`, if present.
    public func node(id: String) -> NodeSpec? {
        nodes.first { $0.id == id }
    }
}

/// A listener pair: HTTP for clients and operators, peer for mTLS cluster traffic.
public struct Endpoint: Sendable, Hashable {
    public var host: String
    public var httpPort: Int
    public var peerPort: Int

    public init(host: String = "127.0.0.1", httpPort: Int, peerPort: Int) {
        self.host = host
        self.httpPort = httpPort
        self.peerPort = peerPort
    }
}

/// One `[[nodes]]` entry.
public struct NodeSpec: Sendable, Hashable {
    /// Matches `[a-z0-9-]+`: it appears in the certificate URI SAN
    /// `spiffe://ratelimit/<env>/<id>` and in file names.
    public var id: String
    public var host: String
    public var httpPort: Int
    public var peerPort: Int
    /// Absolute directory for this node's event log and snapshots.
    public var dataDir: String

    public init(id: String, host: String = "127.0.0.1", httpPort: Int, peerPort: Int, dataDir: String) {
        self.id = id
        self.host = host
        self.httpPort = httpPort
        self.peerPort = peerPort
        self.dataDir = dataDir
    }

    /// This node's listeners.
    public var endpoint: Endpoint {
        Endpoint(host: host, httpPort: httpPort, peerPort: peerPort)
    }
}
