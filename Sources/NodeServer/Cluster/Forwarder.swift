import Logging
import NIOCore
import PeerTransport
import Prometheus
import Synchronization

/// Sends checks to their owners in batches (gubernator's peer batching).
///
/// Per owner, at most `maxInFlight` batches travel at once; checks that
/// arrive meanwhile wait and leave together as the next batch when one
/// returns, capped at `maxBatch`. Under load that batches as a fixed window
/// would, without adding a window's delay to a lone check.
final class Forwarder: CheckForwarding {
    struct Settings: Sendable {
        var maxInFlight = 2
        var maxBatch = 1000
        var timeout: Duration = .seconds(2)
    }

    private struct Item {
        var requests: [CheckRequest]
        var completion: @Sendable (Result<[CheckResult], APIProblem>) -> Void
    }

    private struct Lane {
        var pending: [Item] = []
        var pendingChecks = 0
        var inFlight = 0
    }

    private let lanes = Mutex<[String: Lane]>([:])
    private let peer: PeerService
    private let settings: Settings
    private let logger: Logger
    private let addressOf: @Sendable (String) -> PeerAddress?
    /// Batches sent and the checks in them: their ratio is the mean batch size.
    private let batches: Prometheus.Counter
    private let forwardedChecks: Prometheus.Counter

    init(peer: PeerService, settings: Settings = Settings(), registry: PrometheusCollectorRegistry,
         node: String, logger: Logger, addressOf: @escaping @Sendable (String) -> PeerAddress?) {
        self.peer = peer
        self.settings = settings
        self.logger = logger
        self.addressOf = addressOf
        batches = registry.makeCounter(name: "rate_limit_forward_batches_total", labels: [("node", node)],
                                       help: "Batches of checks forwarded to their owners")
        forwardedChecks = registry.makeCounter(name: "rate_limit_forwarded_checks_total", labels: [("node", node)],
                                               help: "Checks forwarded to their owners")
    }

    func forward(_ requests: [CheckRequest], to owner: String,
                 completion: @escaping @Sendable (Result<[CheckResult], APIProblem>) -> Void) {
        let batch: [Item]? = lanes.withLock { lanes in
            var lane = lanes[owner, default: Lane()]
            defer { lanes[owner] = lane }
            lane.pending.append(Item(requests: requests, completion: completion))
            lane.pendingChecks += requests.count
            return Self.takeBatch(&lane, settings: settings)
        }
        if let batch { send(batch, to: owner) }
    }

    /// The next batch to send, if a slot is free.
    private static func takeBatch(_ lane: inout Lane, settings: Settings) -> [Item]? {
        guard lane.inFlight < settings.maxInFlight, !lane.pending.isEmpty else { return nil }
        var taken: [Item] = []
        var checks = 0
        while let next = lane.pending.first, taken.isEmpty || checks + next.requests.count <= settings.maxBatch {
            taken.append(next)
            checks += next.requests.count
            lane.pending.removeFirst()
        }
        lane.pendingChecks -= checks
        lane.inFlight += 1
        return taken
    }

    private func send(_ items: [Item], to owner: String) {
        roundTrip(items.flatMap(\.requests), to: owner) { [self] result in
            var offset = 0
            for item in items {
                let count = item.requests.count
                switch result {
                case .success(let results):
                    item.completion(.success(Array(results[offset..<offset + count])))
                case .failure(let problem):
                    item.completion(.failure(problem))
                }
                offset += count
            }
            let next: [Item]? = lanes.withLock { lanes in
                var lane = lanes[owner, default: Lane()]
                lane.inFlight -= 1
                defer { lanes[owner] = lane }
                return Self.takeBatch(&lane, settings: settings)
            }
            if let next { send(next, to: owner) }
        }
    }

    /// One batch to its owner and back, on event-loop futures: no task hops
    /// between the HTTP handler and the peer connection.
    private func roundTrip(_ requests: [CheckRequest], to owner: String,
                           completion: @escaping @Sendable (Result<[CheckResult], APIProblem>) -> Void) {
        guard let address = addressOf(owner) else {
            completion(.failure(.unavailable("owner \(owner) of the key is not a known member")))
            return
        }
        batches.increment()
        forwardedChecks.increment(by: Int64(requests.count))
        let logger = logger
        peer.request(to: address, payload: PeerMessage.checkBatch(requests).buffer, timeout: settings.timeout).whenComplete { result in
            switch result {
            case .failure(let error):
                let message = (error as? PeerError)?.message ?? "\(error)"
                logger.warning("forwarding to the owner failed", metadata: ["owner": "\(owner)", "error": "\(message)"])
                completion(.failure(.unavailable("owner \(owner) of the key is unreachable: \(message)")))
            case .success(let reply):
                switch try? PeerMessage(decoding: reply) {
                case .checkResults(let results) where results.count == requests.count:
                    completion(.success(results))
                case .problem(let status, let code, let detail):
                    completion(.failure(APIProblem(status: status, code: code, title: "Owner could not decide", detail: "\(owner): \(detail)")))
                default:
                    completion(.failure(.unavailable("owner \(owner) sent a malformed answer")))
                }
            }
        }
    }
}
