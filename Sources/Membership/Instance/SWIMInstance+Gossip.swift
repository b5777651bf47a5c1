// Merging what others say about members, refuting what they say about us,
// and choosing what to piggyback (SWIM 4.1, 4.2; Lifeguard IV.C buddy system).

extension SWIMInstance {
    /// Merges every entry of a received member list.
    mutating func absorb(_ payload: [Member], from sender: String, mode: MergeMode, now: Int64) -> [SWIMDirective] {
        var directives: [SWIMDirective] = []
        for entry in payload {
            directives += self.apply(entry, from: sender, mode: mode, now: now)
        }
        return directives
    }

    /// Applies one statement about a member if it is news under the SWIM
    /// precedence order (``MemberStatus/supersedes(_:)``), queues it for
    /// re-gossip and reports the change.
    mutating func apply(_ entry: Member, from sender: String, mode: MergeMode, now: Int64) -> [SWIMDirective] {
        let id = entry.id
        if id == self.myself.id {
            return self.applyAboutMyself(entry.status)
        }
        guard var record = self.records[id] else {
            return self.admit(entry, now: now)
        }
        var status = entry.status
        if mode == .pushPull, case .dead(let incarnation) = status {
            status = .suspect(incarnation: incarnation, suspectedBy: [sender])
        }
        let old = record.member.status

        if case .suspect(let oldIncarnation, let oldSuspectors) = old,
            case .suspect(let newIncarnation, let newSuspectors) = status,
            oldIncarnation == newIncarnation
        {
            // Lifeguard IV.B: another independent suspicion confirms ours
            // and shortens the timeout; spread it so others count it too.
            let merged = self.mergeSuspectors(oldSuspectors, newSuspectors)
            if merged.count > oldSuspectors.count {
                record.member.status = .suspect(incarnation: oldIncarnation, suspectedBy: merged)
                self.records[id] = record
                self.enqueueGossip(id)
            }
            return []
        }

        guard status.supersedes(old) else { return [] }
        if case .suspect(let incarnation, let suspectors) = status {
            status = .suspect(incarnation: incarnation, suspectedBy: self.mergeSuspectors([], suspectors))
        }
        record.member = Member(metadata: entry.metadata, status: status)
        record.changedAt = now
        record.suspectedAt = status.isSuspect ? now : nil
        self.records[id] = record
        if status.isActive && !old.isActive {
            self.roster.insert(id, using: &self.random)
        }
        self.enqueueGossip(id)

        var directives: [SWIMDirective] = [.memberChanged(MemberChange(member: record.member, from: old))]
        switch status {
        case .suspect(_, let suspectors):
            directives.append(
                Self.log(.info, "\(id) is suspect (was \(old)), suspected by \(suspectors.sorted()), told by \(sender)")
            )
        case .dead:
            directives.append(Self.log(.warning, "\(id) is dead (was \(old)), told by \(sender)"))
        case .left:
            directives.append(Self.log(.info, "\(id) left the cluster"))
        case .alive where !old.isActive:
            directives.append(Self.log(.info, "\(id) rejoined with \(status) (was \(old))"))
        case .alive:
            break
        }
        return directives
    }

    /// A member we have never heard of (or reaped). Only a live member is
    /// added: a death notice about a stranger carries nothing to act on,
    /// and admitting it could resurrect a reaped member (memberlist does the same).
    private mutating func admit(_ member: Member, now: Int64) -> [SWIMDirective] {
        guard member.status.isActive else { return [] }
        if let tombstone = self.tombstones[member.id] {
            guard member.incarnation > tombstone.incarnation else { return [] }
            self.tombstones[member.id] = nil
        }
        var member = member
        if case .suspect(let incarnation, let suspectors) = member.status {
            member.status = .suspect(incarnation: incarnation, suspectedBy: self.mergeSuspectors([], suspectors))
        }
        self.records[member.id] = MemberRecord(
            member: member,
            changedAt: now,
            suspectedAt: member.status.isSuspect ? now : nil
        )
        self.roster.insert(member.id, using: &self.random)
        self.enqueueGossip(member.id)
        return [
            .memberChanged(MemberChange(member: member, from: nil)),
            Self.log(.info, "\(member.id) joined as \(member.status) at \(member.metadata.peerAddress)"),
        ]
    }

    /// SWIM 4.2 refutation: whoever claims we are suspect, dead or left at
    /// our current incarnation (or later) is answered by a higher one.
    private mutating func applyAboutMyself(_ status: MemberStatus) -> [SWIMDirective] {
        guard !self.isLeaving else { return [] }
        switch status {
        case .alive(let incarnation):
            // Someone holds a newer alive entry of ours: we restarted and
            // lost our incarnation. Move past it so our entry wins again.
            guard incarnation > self.incarnation else { return [] }
            return self.refute(above: incarnation, claim: status)
        case .suspect(let incarnation, _), .dead(let incarnation), .left(let incarnation):
            guard incarnation >= self.incarnation else { return [] }
            // Lifeguard IV.A: being suspected hints that we are the slow one.
            self.adjustLocalHealth(by: 1)
            return self.refute(above: incarnation, claim: status)
        }
    }

    private mutating func refute(above incarnation: Incarnation, claim: MemberStatus) -> [SWIMDirective] {
        // The codec refuses incarnations above SWIMMessage.maxIncarnation, so this cannot overflow.
        self.incarnation = max(self.incarnation, incarnation) + 1
        self.enqueueGossip(self.myself.id)
        return [Self.log(.info, "refuting \(claim) about myself with incarnation \(self.incarnation)")]
    }

    /// Union of suspector sets, capped at `K + 1` ids (the first suspicion
    /// plus K confirmations: more would not shorten the timeout further).
    func mergeSuspectors(_ current: Set<String>, _ incoming: Set<String>) -> Set<String> {
        let cap = max(1, self.settings.lifeguard.suspicionConfirmations + 1)
        var merged = current
        for id in incoming.sorted() where merged.count < cap {
            merged.insert(id)
        }
        return merged
    }

    /// Puts a member's (current) entry at the front of the gossip queue.
    mutating func enqueueGossip(_ id: String) {
        self.pendingGossip[id] = 0
    }

    /// memberlist `retransmitLimit`: `mult * ceil(log10(n + 1))`.
    var retransmitLimit: Int {
        let scale = Int(log10OfCount(self.activeCount + 1).rounded(.up))
        return self.settings.gossip.retransmitMultiplier * max(1, scale)
    }

    /// The entries to piggyback on a message to `recipient`: our own entry
    /// first, then the recipient's own entry when we think it suspect or
    /// gone (Lifeguard buddy system: it learns at once and can refute), then
    /// the least-sent queued news, up to `gossip.maxEntriesPerMessage`.
    mutating func gossipPayload(for recipient: String?) -> [Member] {
        let capacity = self.settings.gossip.maxEntriesPerMessage
        var payload = [self.myselfMember]
        var included: Set<String> = [self.myself.id]
        if let recipient {
            if let record = self.records[recipient], !record.member.status.isAlive {
                payload.append(record.member)
                included.insert(recipient)
            } else if self.records[recipient] == nil, let tombstone = self.tombstones[recipient] {
                payload.append(Member(metadata: tombstone.metadata, status: .dead(incarnation: tombstone.incarnation)))
                included.insert(recipient)
            }
        }
        guard !self.pendingGossip.isEmpty else { return payload }

        let limit = self.retransmitLimit
        let queue = self.pendingGossip.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        for (id, sent) in queue where payload.count < capacity {
            if id != self.myself.id {
                guard let record = self.records[id] else {
                    self.pendingGossip[id] = nil
                    continue
                }
                if !included.contains(id) {
                    payload.append(record.member)
                    included.insert(id)
                }
            }
            self.pendingGossip[id] = sent + 1 >= limit ? nil : sent + 1
        }
        precondition(payload.count <= max(capacity, 2), "gossip payload overflow \(payload.count): \(self)")
        return payload
    }

    /// Everything we know, for push-pull.
    var fullState: [Member] { self.members }
}
