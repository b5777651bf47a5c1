// The periodic tick and the failure detector: ping, ping-req, ack, nack, timeouts.

extension SWIMInstance {
    /// A probe or relay whose timer never came back is dropped after this
    /// long, so a shell that lost a timer cannot leak memory.
    static let staleProbeAge: Int64 = 60_000

    /// One protocol period (SWIM 4.1): expire suspicions, reap the long
    /// dead, probe the next member round-robin, retry joining, push-pull
    /// when due, fan gossip out, and schedule the next tick after
    /// ``probeInterval`` (stretched by local health).
    ///
    /// A tick that fires more than one protocol period after it was due
    /// means *this* process was stalled (CPU starvation, GC, SIGSTOP), and
    /// refutations may be waiting unread in its socket buffers. In the
    /// spirit of Lifeguard IV.A (doubt yourself before others) such a tick
    /// raises local health and defers suspicion expiry by one period, so
    /// the queued input is processed before anyone is declared dead.
    public mutating func onPeriodicTick(now: Int64) -> [SWIMDirective] {
        var directives: [SWIMDirective] = []
        let lateness = self.nextTickDue.map { now - $0 } ?? 0
        if lateness > self.settings.protocolPeriod {
            self.adjustLocalHealth(by: 1)
            directives.append(Self.log(.info, "tick fired \(lateness) ms late: deferring suspicion expiry one period"))
        } else {
            directives += self.expireSuspicions(now: now)
        }
        directives += self.reap(now: now)

        if !self.isLeaving {
            if let target = self.nextProbeTarget(), let record = self.records[target] {
                let sequence = self.nextSequence()
                self.probes[sequence] = Probe(target: target, startedAt: now, phase: .direct)
                directives.append(
                    .sendPing(
                        to: record.member.metadata,
                        payload: self.gossipPayload(for: target),
                        timeout: self.pingTimeout,
                        sequence: sequence
                    )
                )
            }
            directives += self.retryJoinIfAlone(now: now)
            directives += self.pushPullIfDue(now: now)
            directives += self.reconnectIfDue(now: now)
        }
        directives += self.fanOutGossip()
        directives.append(.scheduleTick(after: self.probeInterval))
        self.nextTickDue = now + self.probeInterval
        return directives
    }

    /// Feeds the outcome of a direct ping: an ack (direct, or relayed from
    /// an intermediary), or the `.timeout` of a `.sendPing` directive.
    /// Also serves pings we relay for others. Unknown sequences are ignored.
    public mutating func onPingResponse(_ response: SWIMPingResponse, sequence: UInt64, now: Int64) -> [SWIMDirective] {
        switch response {
        case .ack(let target, let incarnation, let payload):
            return self.onAck(target: target, incarnation: incarnation, payload: payload, sequence: sequence, now: now)
        case .nack:
            return self.onIndirectPingResponse(response, sequence: sequence, now: now)
        case .timeout(let target):
            if let relay = self.relays[sequence], relay.target == target {
                // Lifeguard: tell the prober we tried and failed, so it does
                // not blame its own link to us.
                self.relays[sequence] = nil
                return [.sendNack(to: relay.origin, target: target, sequence: relay.originSequence)]
            }
            guard let probe = self.probes[sequence], probe.target == target, probe.phase == .direct else {
                return []
            }
            return self.startIndirectProbe(sequence: sequence, probe: probe, now: now)
        }
    }

    /// Feeds the indirect phase of a probe: a relayed ack, a nack from an
    /// intermediary, or the `.timeout` of a `.sendPingRequest` directive.
    /// On timeout the target becomes suspect, and local health rises by the
    /// number of intermediaries that did not even nack (Lifeguard IV.A).
    public mutating func onIndirectPingResponse(_ response: SWIMPingResponse, sequence: UInt64, now: Int64)
        -> [SWIMDirective]
    {
        switch response {
        case .ack:
            return self.onPingResponse(response, sequence: sequence, now: now)
        case .nack(let target):
            guard var probe = self.probes[sequence], probe.target == target,
                case .indirect(let expected, let nacks) = probe.phase
            else {
                return [Self.log(.debug, "ignoring nack about \(target) for unknown probe \(sequence)")]
            }
            probe.phase = .indirect(expectedNacks: expected, nacks: min(expected, nacks + 1))
            self.probes[sequence] = probe
            return []
        case .timeout(let target):
            guard let probe = self.probes[sequence], probe.target == target,
                case .indirect(let expected, let nacks) = probe.phase
            else { return [] }
            self.probes[sequence] = nil
            self.adjustLocalHealth(by: expected - nacks)
            return self.suspect(target, now: now)
        }
    }

    private mutating func onAck(
        target: String,
        incarnation: Incarnation,
        payload: [Member],
        sequence: UInt64,
        now: Int64
    ) -> [SWIMDirective] {
        var directives = self.absorb(payload, from: target, mode: .gossip, now: now)
        if let relay = self.relays[sequence] {
            guard relay.target == target else {
                return directives + [Self.log(.debug, "ignoring relayed ack from \(target), expected \(relay.target)")]
            }
            self.relays[sequence] = nil
            // Forward the target's own payload: it carries its refutation.
            directives.append(
                .sendAck(
                    to: relay.origin,
                    target: target,
                    incarnation: incarnation,
                    payload: payload,
                    sequence: relay.originSequence
                )
            )
            return directives
        }
        guard let probe = self.probes[sequence], probe.target == target else {
            return directives + [Self.log(.debug, "ignoring ack from \(target) for unknown sequence \(sequence)")]
        }
        self.probes[sequence] = nil
        self.adjustLocalHealth(by: -1)
        if let record = self.records[target] {
            let alive = Member(metadata: record.member.metadata, status: .alive(incarnation: incarnation))
            directives += self.apply(alive, from: target, mode: .gossip, now: now)
        }
        return directives
    }

    /// SWIM 4.1: the direct ping timed out; ask `k` random alive members to
    /// probe the target for us. With nobody to ask, the probe fails at once.
    private mutating func startIndirectProbe(sequence: UInt64, probe: Probe, now: Int64) -> [SWIMDirective] {
        guard let record = self.records[probe.target], record.member.status.isActive else {
            self.probes[sequence] = nil
            return []
        }
        let helpers = self.otherIDs { $0.isAlive }
            .filter { $0 != probe.target }
            .shuffled(using: &self.random)
            .prefix(self.settings.indirectProbeCount)
            .compactMap { self.records[$0]?.member }
        guard !helpers.isEmpty else {
            self.probes[sequence] = nil
            self.adjustLocalHealth(by: 1)
            return self.suspect(probe.target, now: now)
        }
        var probe = probe
        probe.phase = .indirect(expectedNacks: helpers.count, nacks: 0)
        self.probes[sequence] = probe
        return [
            .sendPingRequest(
                to: helpers.map(\.metadata),
                target: record.member.metadata,
                payload: self.gossipPayload(for: nil),
                timeout: self.indirectPingTimeout,
                sequence: sequence
            )
        ]
    }

    private mutating func nextProbeTarget() -> String? {
        let records = self.records
        let isEligible = { (id: String) in records[id]?.member.status.isActive ?? false }
        if let id = self.roster.next(isEligible: isEligible) {
            return id
        }
        let candidates = self.otherIDs { $0.isActive }
        self.roster.reshuffle(candidates, using: &self.random)
        return self.roster.next(isEligible: isEligible)
    }

    /// Sends our news to `gossip.fanout` random active members while there is any.
    private mutating func fanOutGossip() -> [SWIMDirective] {
        guard !self.pendingGossip.isEmpty, self.settings.gossip.fanout > 0 else { return [] }
        let targets = self.otherIDs { $0.isActive }
            .shuffled(using: &self.random)
            .prefix(self.settings.gossip.fanout)
        var directives: [SWIMDirective] = []
        for target in targets {
            guard let metadata = self.records[target]?.member.metadata else { continue }
            directives.append(.sendGossip(to: metadata, payload: self.gossipPayload(for: target)))
        }
        return directives
    }

    /// Removes dead and left members after `retention.deadMember`, keeps a
    /// tombstone, expires old tombstones and stale probes.
    private mutating func reap(now: Int64) -> [SWIMDirective] {
        var directives: [SWIMDirective] = []
        let retention = self.settings.retention
        let expired = self.records.compactMap { id, record in
            record.member.status.isGone && record.changedAt + retention.deadMember <= now ? id : nil
        }
        for id in expired.sorted() {
            guard let record = self.records[id] else { continue }
            self.records[id] = nil
            self.pendingGossip[id] = nil
            self.tombstones[id] = Tombstone(
                metadata: record.member.metadata,
                incarnation: record.member.incarnation,
                expiresAt: now + retention.tombstone
            )
            directives.append(.memberRemoved(record.member))
        }
        if self.tombstones.values.contains(where: { $0.expiresAt <= now }) {
            self.tombstones = self.tombstones.filter { $0.value.expiresAt > now }
        }
        if self.probes.values.contains(where: { $0.startedAt + Self.staleProbeAge <= now }) {
            self.probes = self.probes.filter { $0.value.startedAt + Self.staleProbeAge > now }
        }
        if self.relays.values.contains(where: { $0.startedAt + Self.staleProbeAge <= now }) {
            self.relays = self.relays.filter { $0.value.startedAt + Self.staleProbeAge > now }
        }
        return directives
    }
}
