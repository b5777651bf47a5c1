import Membership

/// Members and directive helpers shared by the unit tests.
enum Fixtures {
    /// Metadata for a test member `id`, with ports derived from its number.
    static func metadata(_ id: String, role: MemberRole = .node) -> MemberMetadata {
        let number = Int(id.drop { !$0.isNumber }) ?? 0
        return MemberMetadata(
            id: id,
            peerAddress: HostPort(host: "127.0.0.1", port: 7700 + number),
            httpAddress: HostPort(host: "127.0.0.1", port: 8700 + number),
            build: "test-1",
            role: role
        )
    }

    static func member(_ id: String, _ status: MemberStatus) -> Member {
        Member(metadata: self.metadata(id), status: status)
    }

    /// An instance for `id` that already knows `others` as alive at incarnation 0.
    static func instance(
        _ id: String,
        knowing others: [String] = [],
        settings: SWIMSettings = .init(),
        seed: UInt64 = 42,
        now: Int64 = 0
    ) -> SWIMInstance {
        var swim = SWIMInstance(myself: self.metadata(id), settings: settings, randomSeed: seed)
        guard let sender = others.first else { return swim }
        _ = swim.onGossip(from: sender, payload: others.map { self.member($0, .alive(incarnation: 0)) }, now: now)
        return swim
    }
}

/// A ping the instance asked to send.
struct SentPing: Equatable {
    var to: String
    var payload: [Member]
    var timeout: Int64
    var sequence: UInt64
}

extension [SWIMDirective] {
    var pings: [SentPing] {
        self.compactMap {
            if case .sendPing(let to, let payload, let timeout, let sequence) = $0 {
                return SentPing(to: to.id, payload: payload, timeout: timeout, sequence: sequence)
            }
            return nil
        }
    }

    var pingRequests: [(to: [String], target: String, timeout: Int64, sequence: UInt64)] {
        self.compactMap {
            if case .sendPingRequest(let to, let target, _, let timeout, let sequence) = $0 {
                return (to.map(\.id), target.id, timeout, sequence)
            }
            return nil
        }
    }

    var acks: [(to: String, target: String, incarnation: Incarnation, payload: [Member], sequence: UInt64)] {
        self.compactMap {
            if case .sendAck(let to, let target, let incarnation, let payload, let sequence) = $0 {
                return (to.id, target, incarnation, payload, sequence)
            }
            return nil
        }
    }

    var nacks: [(to: String, target: String, sequence: UInt64)] {
        self.compactMap {
            if case .sendNack(let to, let target, let sequence) = $0 {
                return (to.id, target, sequence)
            }
            return nil
        }
    }

    var changes: [MemberChange] {
        self.compactMap {
            if case .memberChanged(let change) = $0 { return change }
            return nil
        }
    }

    var tickDelays: [Int64] {
        self.compactMap {
            if case .scheduleTick(let after) = $0 { return after }
            return nil
        }
    }

    /// Every message the directives send, with its recipient id.
    var messages: [(to: String, message: SWIMMessage)] {
        self.flatMap { $0.outbound.map { ($0.recipient.id, $0.message) } }
    }

    /// Directives other than log lines: what the shell must actually do.
    var withoutLogs: [SWIMDirective] {
        self.filter {
            if case .log = $0 { return false }
            return true
        }
    }
}

extension SWIMInstance {
    func status(of id: String) -> MemberStatus? {
        self.member(id: id)?.status
    }
}
