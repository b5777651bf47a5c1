// Lifeguard: local health (IV.A) and local-health-aware suspicion (IV.B).

extension SWIMInstance {
    /// Lifeguard IV.A: a saturating counter in `0...maxLocalHealth`.
    /// Raised by failed probes whose intermediaries did not nack (or when no
    /// intermediary was available) and by refutations about ourselves;
    /// lowered by every successful probe (memberlist `awareness.ApplyDelta`).
    mutating func adjustLocalHealth(by delta: Int) {
        self.localHealth = min(max(0, self.localHealth + delta), self.settings.lifeguard.maxLocalHealth)
    }

    /// Lifeguard IV.B suspicion timeout after `confirmations` independent
    /// confirmations of the first suspicion:
    ///
    ///     min = suspicionMultiplier * max(1, log10(n)) * protocolPeriod
    ///     max = suspicionMaxMultiplier * min
    ///     timeout = max(min, max - (max - min) * log(C + 1) / log(K + 1))
    ///
    /// with `n` active members and `K = lifeguard.suspicionConfirmations`,
    /// or `K = 0` (timeout = min at once) when `n - 2 < K`, i.e. when there
    /// are not enough other members to ever confirm (memberlist `suspectNode`).
    public func suspicionTimeout(confirmations: Int) -> Int64 {
        let lifeguard = self.settings.lifeguard
        let n = self.activeCount
        let scale = max(1.0, log10OfCount(max(1, n)))
        let minimum = lifeguard.suspicionMultiplier * scale * Double(self.settings.protocolPeriod)
        let maximum = lifeguard.suspicionMaxMultiplier * minimum
        var wanted = lifeguard.suspicionConfirmations
        if n - 2 < wanted {
            wanted = 0
        }
        guard wanted > 0 else { return Int64(minimum.rounded(.up)) }
        let confirmed = Double(min(max(0, confirmations), wanted))
        let fraction = naturalLog(confirmed + 1) / naturalLog(Double(wanted) + 1)
        let raw = maximum - fraction * (maximum - minimum)
        return Int64(max(minimum, raw).rounded(.up))
    }

    /// Suspects `id` ourselves after a failed probe: starts a suspicion, or
    /// adds our confirmation to one we heard about.
    mutating func suspect(_ id: String, now: Int64) -> [SWIMDirective] {
        guard let record = self.records[id], record.member.status.isActive else { return [] }
        let suspicion = Member(
            metadata: record.member.metadata,
            status: .suspect(incarnation: record.member.incarnation, suspectedBy: [self.myself.id])
        )
        return self.apply(suspicion, from: self.myself.id, mode: .gossip, now: now)
    }

    /// Declares dead every suspect whose (confirmation-shortened) timeout
    /// has passed. Called from the tick, so expiry is noticed within one period.
    mutating func expireSuspicions(now: Int64) -> [SWIMDirective] {
        var directives: [SWIMDirective] = []
        let suspects = self.records.compactMap { $0.value.member.status.isSuspect ? $0.key : nil }
        for id in suspects.sorted() {
            guard let deadline = self.suspicionDeadline(of: id), deadline <= now,
                var record = self.records[id]
            else { continue }
            let old = record.member.status
            record.member.status = .dead(incarnation: old.incarnation)
            record.changedAt = now
            record.suspectedAt = nil
            self.records[id] = record
            self.enqueueGossip(id)
            directives.append(.memberChanged(MemberChange(member: record.member, from: old)))
            directives.append(Self.log(.warning, "\(id) declared dead: suspicion \(old) not refuted by \(deadline)"))
        }
        return directives
    }
}
