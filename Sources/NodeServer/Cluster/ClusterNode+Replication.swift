import LimiterCore
import Logging
import NIOCore
import PeerTransport
import Placement
import ServiceLifecycle
import Synchronization

/// The replica side of a node (DESIGN §6): it commits copies of other nodes'
/// admitted hits, answers imports, and imports itself before it decides keys
/// after a start, a fence or a pause.
extension ClusterNode {
    /// A copy from `sender`; answered after this node committed it.
    func handleCopy(_ batch: ReplicationBatch, from sender: String, reply: PeerReply) {
        var states = LimiterTable()
        do {
            for part in batch.states where !part.isEmpty {
                states.overwrite(with: try LimiterTable(snapshot: part))
            }
        } catch {
            return reply(PeerMessage.problem(status: 400, code: "malformed-peer-message", detail: "copy states: \(error)").buffer)
        }
        let view = view.current
        let versions = versions
        engine.applyCopy(
            from: sender, events: batch.events, states: states, fences: batch.fences,
            ownsHere: { namespace, key in view.isSettled && view.ring.owner(namespace: namespace, key: key) == view.selfID },
            rules: versions.current.rules
        ) { result in
            switch result {
            case .success: reply(PeerMessage.replicated(requestID: batch.requestID).buffer)
            case .failure(let problem): reply(PeerMessage.problem(status: problem.status, code: problem.code, detail: problem.detail).buffer)
            }
        }
    }

    /// An import request: the counters `requester` holds a place for under
    /// its ring. Answered only once this node's own ring has had `requester`
    /// on it for `handoffGrace`, so this node no longer decides its keys as
    /// their owner by the time it hands their state over.
    func handlePull(nodes: [String], after: CounterKey?, from requester: String, reply: PeerReply) {
        guard let since = view.onRingSince(requester), NIODeadline.now() - since >= TimeAmount(Self.handoffGrace) else {
            return reply(PeerMessage.problem(status: 503, code: "not-yet",
                                             detail: "\(nodeID) does not see \(requester) on its ring yet").buffer)
        }
        let versions = versions
        let ring = HashRing(nodes: nodes)
        // Copies made from here on go to the requester again; those made
        // before are in the state this export takes.
        if after == nil { replicator?.markUp(requester) }
        var limit = Self.pullPage
        while true {
            let page = engine.export(for: requester, ring: ring, places: max(2, replicas),
                                     namespaceOf: { versions.current.rules[$0]?.namespaceID }, after: after, limit: limit)
            let states = page.states.encodeSnapshot()
            // Long sliding logs make big counters: halve the page until it fits a frame.
            if states.count > PeerMessage.maxStateBytes, limit > 1 {
                limit /= 2
                continue
            }
            return reply(PeerMessage.pulled(states: states, next: page.next).buffer)
        }
    }

    /// How long a node must have been on this node's ring before this node
    /// hands it the state of its keys: longer than any check takes between
    /// routing and deciding.
    static let handoffGrace: Duration = .milliseconds(100)

    /// Counters per import page.
    static let pullPage = 5000

    /// A gap this long in a 250 ms loop means the process did not run for
    /// that long (stopped, paused, or starved): it may have missed copies
    /// and been stood in for, so it imports.
    static let pauseThreshold: Duration = .seconds(2)
}

/// Imports a node's counters from its peers before it decides (DESIGN §6):
/// at start, after a fence, and after a pause. While importing, the node
/// decides nothing as owner or stand-in; checks for its keys fail over to
/// the next node, which holds their copies.
final class Importer: Sendable {
    private struct State {
        var importing = true
        var requested = true
    }

    private let state = Mutex(State())
    private let wakeup: AsyncStream<Void>.Continuation
    private let stream: AsyncStream<Void>

    init() {
        (stream, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// True from start until the first import completes, and again from a
    /// fence or a pause until the next one does.
    var isImporting: Bool { state.withLock { $0.importing } }

    /// Asks for an import; the node stops deciding until it is done.
    func request() {
        state.withLock { state in
            state.importing = true
            state.requested = true
        }
        wakeup.yield()
    }

    /// Runs imports as they are requested until cancelled. `perform` pulls
    /// and applies; it returns false when the ring changed under it, so the
    /// import runs again.
    func run(perform: @escaping @Sendable () async -> Bool) async {
        wakeup.yield()
        for await _ in stream {
            while state.withLock({ state in
                defer { state.requested = false }
                return state.requested
            }) {
                let complete = await perform()
                if Task.isCancelled { return }
                state.withLock { state in
                    if !complete { state.requested = true }
                    if !state.requested { state.importing = false }
                }
            }
        }
    }

    func finish() { wakeup.finish() }
}

/// Runs the node's imports and resyncs for the service group.
struct ReplicationService: Service {
    let node: ClusterNode

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await node.importer.run { await node.importOnce() } }
            group.addTask {
                var last = ContinuousClock.now
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    let now = ContinuousClock.now
                    // A process stopped (SIGSTOP, a long pause) missed copies and
                    // may have been stood in for: it imports before deciding again.
                    if now - last > ClusterNode.pauseThreshold, node.replicas >= 2 {
                        node.logger.warning("this node was paused; importing before deciding again",
                                            metadata: ["paused": "\(now - last)"])
                        node.importer.request()
                    }
                    last = now
                    node.resyncReplicas()
                }
            }
            try? await gracefulShutdown()
            // Shutdown stops services in reverse order: HTTP is closed by now,
            // and membership and the peer port still run.
            await node.handOff()
            node.importer.finish()
            group.cancelAll()
        }
    }
}

extension ClusterNode {
    /// One import: waits until placement is settled, pulls from every other
    /// node on the ring, and keeps for each counter the most used of the
    /// states (this node's own included): whoever decided the key while this
    /// node could not has it, and no copy holds a hit that was acknowledged
    /// without it being in some node's state. False when the ring changed
    /// meanwhile.
    func importOnce() async -> Bool {
        var placement = view.current
        while !placement.isSettled {
            if Task.isCancelled { return true }
            try? await Task.sleep(for: .milliseconds(50))
            placement = view.current
        }
        let ring = placement.ring
        let peers = ring.nodes.filter { $0 != nodeID }
        logger.info("importing counters before deciding", metadata: ["peers": "\(peers.joined(separator: ","))"])
        let pulled = await withTaskGroup(of: (String, LimiterTable?).self) { group in
            for peerID in peers {
                group.addTask { (peerID, await self.pull(from: peerID, ring: ring)) }
            }
            var tables: [String: LimiterTable] = [:]
            for await (peerID, table) in group {
                if let table { tables[peerID] = table }
            }
            return tables
        }
        let rules = versions.current.pruneRules
        let merged = engine.importStates(Array(pulled.values), rules: rules)
        let unchanged = view.current.ring == ring
        logger.info("import done", metadata: ["counters": "\(merged.count)", "from": "\(pulled.keys.sorted().joined(separator: ","))",
                                              "ring_changed": "\(!unchanged)"])
        return unchanged
    }

    /// Pulls every page from one peer, retrying until it answers, or returns
    /// nil once it is off this node's ring (it has nothing this node needs
    /// from it then).
    private func pull(from peerID: String, ring: HashRing) async -> LimiterTable? {
        var pulled = LimiterTable()
        var after: CounterKey?
        while !Task.isCancelled {
            guard view.current.ring.contains(peerID) else { return nil }
            if let address = view.address(of: peerID) {
                do {
                    let reply = try await peer.request(to: address, payload: PeerMessage.pull(nodes: ring.nodes, after: after).buffer,
                                                       timeout: .seconds(2))
                    switch try PeerMessage(decoding: reply) {
                    case .pulled(let states, let next):
                        pulled.overwrite(with: try LimiterTable(snapshot: states))
                        guard let next else { return pulled }
                        after = next
                        continue
                    case .problem(_, let code, _) where code == "unsupported-peer-message":
                        // An older build (a rolling upgrade) keeps no copies to import.
                        logger.notice("peer does not know imports; importing nothing from it", metadata: ["peer": "\(peerID)"])
                        return nil
                    default:
                        break
                    }
                } catch {
                    logger.debug("pull failed; retrying", metadata: ["peer": "\(peerID)", "error": "\(error)"])
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// On SIGTERM, before leaving membership: stops deciding, then sends the
    /// counters of every key this node owns to the node that owns it once
    /// this one is gone (the next on the ring), in chunks, and waits for their
    /// commits (at most `handoffTimeout` in all). With `replicas = 2` that
    /// node holds copies already; the push also covers `replicas = 1`. A
    /// receiver that stood in for this node meanwhile refuses it: its counters
    /// are newer.
    func handOff() async {
        leaving.store(true, ordering: .relaxed)
        let placement = view.current
        guard placement.isSettled, placement.ring.contains(nodeID) else { return }
        let remaining = HashRing(nodes: placement.ring.nodes.filter { $0 != nodeID })
        guard !remaining.nodes.isEmpty else { return }
        let versions = versions
        let table = engine.state.withLock { $0.table }
        var byHeir: [String: [CounterKey]] = [:]
        for counter in table.states.keys {
            guard let namespace = versions.current.rules[counter.rule]?.namespaceID,
                  placement.ring.owner(namespace: namespace, key: counter.key) == nodeID,
                  let heir = remaining.owner(namespace: namespace, key: counter.key) else { continue }
            byHeir[heir, default: []].append(counter)
        }
        let started = ContinuousClock.now
        var sent = 0
        var refused = 0
        await withTaskGroup(of: (Int, Int).self) { group in
            for (heir, counters) in byHeir {
                guard let address = view.address(of: heir) else { continue }
                group.addTask {
                    var sent = 0
                    var refused = 0
                    for start in stride(from: 0, to: counters.count, by: Self.handoffChunk) {
                        let chunk = counters[start..<min(start + Self.handoffChunk, counters.count)]
                        let batch = ReplicationBatch(requestID: UInt64(start), events: [],
                                                     states: [table.subset(chunk).encodeSnapshot()])
                        let reply = try? await self.peer.request(to: address, payload: PeerMessage.replicate(batch).buffer,
                                                                 timeout: Self.handoffTimeout)
                        if case .replicated? = reply.flatMap({ try? PeerMessage(decoding: $0) }) { sent += chunk.count } else {
                            refused += chunk.count
                        }
                        if ContinuousClock.now - started > Self.handoffTimeout { break }
                    }
                    return (sent, refused)
                }
            }
            for await (done, failed) in group {
                sent += done
                refused += failed
            }
        }
        logger.info("handed keys off before leaving", metadata: [
            "counters": "\(sent)", "not_taken": "\(refused)", "elapsed": "\(ContinuousClock.now - started)",
        ])
    }

    static let handoffChunk = 2000
    static let handoffTimeout: Duration = .seconds(3)

    /// Sends every replica that missed copies (or whose place changed with
    /// membership) the current state of the counters it should hold.
    func resyncReplicas() {
        guard let replicator else { return }
        let placement = view.current
        guard placement.isSettled, !importer.isImporting else { return }
        let versions = versions
        for target in replicator.takeResyncTargets() where placement.ring.contains(target) {
            engine.resync(to: target, ring: placement.ring, namespaceOf: { versions.current.rules[$0]?.namespaceID }) { [replicator] outcome in
                if outcome != .committed { replicator.markForResync([target]) }
            }
        }
    }
}
