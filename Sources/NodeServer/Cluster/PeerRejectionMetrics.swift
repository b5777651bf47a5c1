import PeerTransport
import Prometheus

/// `rate_limit_peer_rejected_total{node, reason}`: peer input this node
/// refused. The transport's reasons (``PeerTransport/PeerRejection/Reason``)
/// plus two that only the message layer can tell. Every reason is exported
/// from start-up, at 0, so a node that was never attacked still shows the
/// series (DESIGN §8).
final class PeerRejectionMetrics: Sendable {
    enum Reason: String, CaseIterable, Sendable {
        /// See ``PeerTransport/PeerRejection/Reason/badFrame``.
        case badFrame = "bad_frame"
        /// See ``PeerTransport/PeerRejection/Reason/oversize``.
        case oversize
        /// See ``PeerTransport/PeerRejection/Reason/handshake``.
        case handshake
        /// See ``PeerTransport/PeerRejection/Reason/identity``.
        case identity
        /// See ``PeerTransport/PeerRejection/Reason/overload``.
        case overload
        /// A frame from an authenticated peer whose payload is not a peer
        /// message (it fails to decode), or a message that is never a
        /// request (results, problem, status): answered with a problem, the
        /// connection stays open.
        case malformedMessage = "malformed_message"
        /// A forwarded batch whose (sender, request id) this node has already
        /// seen: not decided again but answered with the first answer from
        /// the reply cache, so its hits count once. A sender's retry after a
        /// dropped connection is counted here too.
        case replayed

        init(_ transport: PeerRejection.Reason) {
            switch transport {
            case .badFrame: self = .badFrame
            case .oversize: self = .oversize
            case .handshake: self = .handshake
            case .identity: self = .identity
            case .overload: self = .overload
            }
        }
    }

    private let counters: [Reason: Prometheus.Counter]

    init(registry: PrometheusCollectorRegistry, node: String) {
        var counters: [Reason: Prometheus.Counter] = [:]
        for reason in Reason.allCases {
            counters[reason] = registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "rate_limit", metricName: "peer_rejected", unitName: "total",
                                                 helpText: "Peer input refused, by reason: bad_frame, oversize, handshake, identity, "
                                                     + "overload, malformed_message, replayed (answered from the reply cache)"),
                labels: [("node", node), ("reason", reason.rawValue)])
        }
        self.counters = counters
    }

    func record(_ reason: Reason) {
        counters[reason]?.increment()
    }

    func record(_ rejection: PeerRejection) {
        record(Reason(rejection.reason))
    }
}
