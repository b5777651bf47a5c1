import PeerTransport
import NIOCore
import Synchronization

/// The owner's memory of forwarded batches by (sender, request id), so a
/// batch sent again after a dropped connection is answered with the first
/// answer instead of being decided twice. Bounded: the oldest entries are
/// forgotten first (a retry follows its original within seconds).
final class ReplyCache: Sendable {
    struct Key: Hashable, Sendable {
        var sender: String
        var requestID: UInt64
    }

    private enum Entry {
        case pending([PeerReply])
        case done(ByteBuffer)
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var order: [Key] = []
        var head = 0
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 16_384) {
        self.capacity = capacity
    }

    /// True when `key` is new and the caller must decide the batch; otherwise
    /// `reply` is answered now (already decided) or with the first answer.
    func begin(_ key: Key, reply: PeerReply) -> Bool {
        let answered: ByteBuffer?? = state.withLock { state in
            switch state.entries[key] {
            case .done(let buffer):
                return .some(buffer)
            case .pending(var waiters):
                waiters.append(reply)
                state.entries[key] = .pending(waiters)
                return .some(nil)
            case nil:
                state.entries[key] = .pending([])
                if state.order.count < capacity {
                    state.order.append(key)
                } else {
                    state.entries[state.order[state.head]] = nil
                    state.order[state.head] = key
                    state.head = (state.head + 1) % capacity
                }
                return nil
            }
        }
        switch answered {
        case .none: return true
        case .some(.some(let buffer)):
            reply(buffer)
            return false
        case .some(.none):
            return false
        }
    }

    /// Records the answer and sends it to any retry that arrived meanwhile.
    func finish(_ key: Key, answer: ByteBuffer) {
        let waiters: [PeerReply] = state.withLock { state in
            guard case .pending(let waiters) = state.entries[key] else { return [] }
            state.entries[key] = .done(answer)
            return waiters
        }
        for waiter in waiters { waiter(answer) }
    }

    var count: Int { state.withLock { $0.entries.count } }
}
