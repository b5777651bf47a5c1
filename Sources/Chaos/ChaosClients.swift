import ChaosCore
import JSONCore
import Membership
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The concurrent clients of a chaos run: each keeps a keep-alive connection
/// per node, sends one check at a time on a seeded random key to the live
/// nodes in turn (so most checks are forwarded to the key's owner), retries a
/// failed check once on another live node, and records every operation in
/// the shared ``Ledger``.
struct ChaosClients: Sendable {
    let view: NodeView
    let workload: ChaosWorkload
    let count: Int
    let seed: UInt64
    let requestTimeout: TimeAmount

    /// What the clients share with the driver: the ledger, and when to stop.
    final class Shared: Sendable {
        let ledger = Mutex(Ledger())
        let stop = Atomic<Bool>(false)
    }

    /// Runs the clients until `shared.stop` is set; returns once every client
    /// has recorded its operation in flight.
    func run(_ shared: Shared) async {
        await withDiscardingTaskGroup { group in
            for index in 0..<count {
                group.addTask {
                    var client = Client(index: index, seed: seed, clients: self)
                    await client.run(shared)
                }
            }
        }
    }

    /// One client: its connections and its seeded key choice.
    private struct Client {
        let index: Int
        let clients: ChaosClients
        var random: SplitMix64
        var turn: Int
        var connections: [String: HTTPConnection] = [:]

        init(index: Int, seed: UInt64, clients: ChaosClients) {
            self.index = index
            self.clients = clients
            random = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
            turn = index
        }

        mutating func run(_ shared: Shared) async {
            while !shared.stop.load(ordering: .relaxed) {
                let live = clients.view.live()
                guard !live.isEmpty else {
                    try? await Task.sleep(for: .milliseconds(20))
                    continue
                }
                let key = clients.workload.keys[Int(random.next() % UInt64(clients.workload.keys.count))]
                let first = live[turn % live.count]
                turn += 1
                var attempts = [await attempt(key, on: first)]
                if case .failed = attempts[0].result,
                   let second = clients.view.live().filter({ $0.id != first.id }).randomElement(using: &random) {
                    attempts.append(await attempt(key, on: second))
                }
                let operation = ClientOperation(key: key.name, rule: key.rule, attempts: attempts)
                shared.ledger.withLock { $0.record(operation) }
                if case .failed = attempts[attempts.count - 1].result {
                    // Nothing answered: do not spin while the cluster recovers.
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            for connection in connections.values { connection.close() }
        }

        private mutating func attempt(_ key: ChaosWorkload.Key, on node: NodeView.Node) async -> ClientOperation.Attempt {
            let sent = Self.nowMs(roundingUp: false)
            let result: ClientOperation.Attempt.Result
            do {
                let response = try await send(key, to: node)
                result = Self.interpret(response, rule: key.rule)
            } catch {
                connections.removeValue(forKey: node.id)?.close()
                result = .failed(reason: error.description)
            }
            let received = Self.nowMs(roundingUp: true)
            return ClientOperation.Attempt(node: node.id, sentMs: sent, receivedMs: received,
                                           nodeWasLive: clients.view.stayedLive(node), result: result)
        }

        private mutating func send(_ key: ChaosWorkload.Key, to node: NodeView.Node) async throws(HTTPConnection.Failure)
            -> HTTPConnection.Response
        {
            let connection: HTTPConnection
            if let open = connections[node.id], open.isOpen {
                connection = open
            } else {
                connection = try await HTTPConnection.connect(host: "127.0.0.1", port: node.httpPort, timeout: .seconds(1))
                connections[node.id] = connection
            }
            let body = Array(#"{"key":"\#(key.name)","rule":"\#(key.rule)","hits":1}"#.utf8)
            return try await connection.send(.POST, path: "/v1/check", body: body, timeout: clients.requestTimeout)
        }

        /// A 200 must carry `allowed` and name the rule asked about: an
        /// answer to another request would be counted against the wrong key.
        private static func interpret(_ response: HTTPConnection.Response, rule: String) -> ClientOperation.Attempt.Result {
            let json = try? JSONParser.parse(response.body)
            guard response.status == 200 else {
                let detail: String
                if case .string(let text)? = json?[member: "detail"] { detail = String(text.prefix(160)) } else { detail = "" }
                return .failed(reason: "HTTP \(response.status)\(detail.isEmpty ? "" : ": " + detail)")
            }
            guard case .bool(let allowed)? = json?[member: "allowed"] else {
                return .failed(reason: "HTTP 200 without a boolean \"allowed\"")
            }
            guard json?[member: "rule"] == .string(rule) else {
                return .failed(reason: "HTTP 200 naming another rule than the one asked about")
            }
            return .answered(allowed: allowed)
        }

        /// Unix-epoch milliseconds on the clock the nodes decide by (CLOCK_REALTIME).
        static func nowMs(roundingUp: Bool) -> Int64 {
            var spec = timespec()
            clock_gettime(CLOCK_REALTIME, &spec)
            let ms = Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
            return roundingUp && spec.tv_nsec % 1_000_000 != 0 ? ms + 1 : ms
        }
    }
}
