// Incoming messages, joining, push-pull and leaving.

extension SWIMInstance {
    /// Entry point for a decoded message from the member `sender` (the id
    /// the transport authenticated). Dispatches to the specific handlers.
    public mutating func onMessage(_ message: SWIMMessage, from sender: String, now: Int64) -> [SWIMDirective] {
        guard sender != self.myself.id else {
            return [Self.log(.debug, "ignoring \(message.kind) that claims to come from myself")]
        }
        switch message {
        case .ping(let sequence, let payload):
            return self.onPing(from: sender, payload: payload, sequence: sequence, now: now)
        case .pingRequest(let sequence, let target, let timeout, let payload):
            return self.onPingRequest(
                target: target,
                from: sender,
                payload: payload,
                sequence: sequence,
                timeout: timeout,
                now: now
            )
        case .ack(let sequence, let target, let incarnation, let payload):
            return self.onPingResponse(
                .ack(target: target, incarnation: incarnation, payload: payload),
                sequence: sequence,
                now: now
            )
        case .nack(let sequence, let target):
            return self.onIndirectPingResponse(.nack(target: target), sequence: sequence, now: now)
        case .gossip(let payload):
            return self.absorb(payload, from: sender, mode: .gossip, now: now)
        case .pushPullRequest(let state):
            let (merged, directives) = self.onPushPull(remoteState: state, from: sender, now: now)
            guard let address = self.address(of: sender, in: state) else { return directives }
            return directives + [.sendPushPullResponse(to: address, state: merged)]
        case .pushPullResponse(let state):
            return self.onPushPull(remoteState: state, from: sender, now: now).directives
        case .leave(let member):
            guard member.id == sender, case .left = member.status else {
                return [Self.log(.debug, "ignoring leave of \(member) sent by \(sender)")]
            }
            return self.apply(member, from: sender, mode: .gossip, now: now)
        }
    }

    /// SWIM ping: merge the piggybacked gossip first (so a suspicion about
    /// us is refuted before we answer), then ack with our own gossip.
    public mutating func onPing(from sender: String, payload: [Member], sequence: UInt64, now: Int64)
        -> [SWIMDirective]
    {
        var directives = self.absorb(payload, from: sender, mode: .gossip, now: now)
        guard let address = self.address(of: sender, in: payload) else {
            return directives + [Self.log(.debug, "cannot answer ping from unknown \(sender): no address")]
        }
        directives.append(
            .sendAck(
                to: address,
                target: self.myself.id,
                incarnation: self.incarnation,
                payload: self.gossipPayload(for: sender),
                sequence: sequence
            )
        )
        return directives
    }

    /// SWIM ping-req: probe `target` for `sender`. The answer is relayed by
    /// ``onPingResponse(_:sequence:now:)``; if our own ping times out first
    /// (after `relayTimeoutFraction` of the prober's timeout) we nack.
    public mutating func onPingRequest(
        target: MemberMetadata,
        from sender: String,
        payload: [Member],
        sequence: UInt64,
        timeout: Int64,
        now: Int64
    ) -> [SWIMDirective] {
        var directives = self.absorb(payload, from: sender, mode: .gossip, now: now)
        guard target.id != self.myself.id, target.id != sender else {
            return directives + [Self.log(.debug, "ignoring ping request from \(sender) about \(target.id)")]
        }
        guard let origin = self.address(of: sender, in: payload) else {
            return directives + [Self.log(.debug, "cannot relay for unknown \(sender): no address")]
        }
        let relaySequence = self.nextSequence()
        self.relays[relaySequence] = Relay(
            origin: origin,
            originSequence: sequence,
            target: target.id,
            startedAt: now
        )
        let relayTimeout = max(1, Int64(Double(timeout) * self.settings.lifeguard.relayTimeoutFraction))
        directives.append(
            .sendPing(
                to: self.records[target.id]?.member.metadata ?? target,
                payload: self.gossipPayload(for: target.id),
                timeout: relayTimeout,
                sequence: relaySequence
            )
        )
        return directives
    }

    /// Merges gossip that came without a probe.
    public mutating func onGossip(from sender: String, payload: [Member], now: Int64) -> [SWIMDirective] {
        self.absorb(payload, from: sender, mode: .gossip, now: now)
    }

    /// Merges a full remote state (memberlist push-pull; also how a joiner
    /// and its seed exchange everything they know) and returns our merged
    /// state, which the shell sends back when this was a request.
    public mutating func onPushPull(remoteState: [Member], from sender: String, now: Int64)
        -> (state: [Member], directives: [SWIMDirective])
    {
        let directives = self.absorb(remoteState, from: sender, mode: .pushPull, now: now)
        return (self.fullState, directives)
    }

    /// Starts the protocol (the first call schedules the first tick) and
    /// contacts `seeds` with a push-pull: they learn about us and we about
    /// everyone they know. Our own id among the seeds is skipped, so every
    /// node can be given the same seed list. Until some other member is
    /// known alive, the tick repeats the push-pull every `gossip.joinRetryInterval`.
    public mutating func onJoin(seeds: [MemberMetadata], now: Int64) -> [SWIMDirective] {
        precondition(!self.isLeaving, "onJoin after leave: a left instance cannot rejoin, create a new one. \(self)")
        for seed in seeds where seed.id != self.myself.id && !self.seeds.contains(where: { $0.id == seed.id }) {
            self.seeds.append(seed)
        }
        var directives: [SWIMDirective] = []
        if !self.started {
            self.started = true
            self.nextPushPullAt = now + self.settings.gossip.pushPullInterval
            self.nextReconnectAt = now + self.settings.gossip.reconnectInterval
            self.nextTickDue = now + self.settings.protocolPeriod
            directives.append(.scheduleTick(after: self.settings.protocolPeriod))
        }
        let state = self.fullState
        for seed in seeds where seed.id != self.myself.id {
            directives.append(.sendPushPull(to: seed, state: state))
        }
        self.nextJoinAttemptAt = now + self.settings.gossip.joinRetryInterval
        return directives
    }

    /// Graceful leave (memberlist `Leave`): we turn `.left` at our current
    /// incarnation, tell every active member directly and keep gossiping it
    /// on later ticks. We stop probing and never refute again. The shell
    /// should keep ticking for a few periods before shutting down, so the
    /// news spreads even if some direct messages are lost.
    public mutating func leave(now: Int64) -> [SWIMDirective] {
        guard !self.isLeaving else { return [] }
        let before = self.myselfMember.status
        self.isLeaving = true
        self.probes.removeAll()
        self.enqueueGossip(self.myself.id)
        let me = self.myselfMember
        var directives: [SWIMDirective] = [
            .memberChanged(MemberChange(member: me, from: before)),
            Self.log(.info, "leaving the cluster at incarnation \(self.incarnation)"),
        ]
        for member in self.others(where: { $0.isActive }) {
            directives.append(.sendLeave(to: member.metadata, member: me))
        }
        return directives
    }

    /// While nobody else is known alive, keep knocking on the seeds.
    mutating func retryJoinIfAlone(now: Int64) -> [SWIMDirective] {
        guard !self.seeds.isEmpty, now >= self.nextJoinAttemptAt,
            !self.records.values.contains(where: { $0.member.status.isActive })
        else { return [] }
        self.nextJoinAttemptAt = now + self.settings.gossip.joinRetryInterval
        let state = self.fullState
        return self.seeds.map { .sendPushPull(to: $0, state: state) }
    }

    /// Every `gossip.reconnectInterval`, a push-pull with one random seed that
    /// is neither this node nor seen alive or suspect (declared dead, or
    /// reaped; not one that left). If it is up again, both sides learn the
    /// other declared them dead, refute, and the next rounds merge the views.
    mutating func reconnectIfDue(now: Int64) -> [SWIMDirective] {
        guard self.settings.gossip.reconnectInterval > 0, now >= self.nextReconnectAt else { return [] }
        self.nextReconnectAt = now + self.settings.gossip.reconnectInterval
        let candidates = self.seeds.filter { seed in
            guard seed.id != self.myself.id else { return false }
            guard let record = self.records[seed.id] else { return true }
            if case .dead = record.member.status { return true }
            return false
        }
        guard let target = candidates.randomElement(using: &self.random) else { return [] }
        return [.sendPushPull(to: target, state: self.fullState)]
    }

    /// Periodic anti-entropy with one random alive member.
    mutating func pushPullIfDue(now: Int64) -> [SWIMDirective] {
        guard now >= self.nextPushPullAt else { return [] }
        self.nextPushPullAt = now + self.settings.gossip.pushPullInterval
        guard let partner = self.others(where: { $0.isAlive }).randomElement(using: &self.random) else { return [] }
        return [.sendPushPull(to: partner.metadata, state: self.fullState)]
    }
}
