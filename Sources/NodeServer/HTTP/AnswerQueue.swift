import NIOCore
import Synchronization

/// Carries check answers from the commit thread to one event loop, many per
/// hop: the first answer queued schedules one task, which writes every
/// answer queued by the time it runs. A group commit releases dozens of
/// answers at once; each used to be its own `execute` (a closure, two locks)
/// and its own task on the loop.
final class AnswerQueue: @unchecked Sendable {
    // `spare` is only touched on `eventLoop` (in `drain()`); the rest is
    // immutable or behind the mutex.
    /// The connection an owed answer goes to.
    struct Destination: @unchecked Sendable {
        // The handler and its context are only touched on `eventLoop`, in
        // `drain()`; other threads only move them through the mutex.
        let handler: HTTPHandler
        let context: ChannelHandlerContext
        let keepAlive: Bool
    }

    private struct Answer {
        let destination: Destination
        let reply: CheckReply
    }

    let eventLoop: any EventLoop
    private let answers = Mutex<[Answer]>([])
    /// The previous batch's emptied array, swapped in so neither side
    /// allocates once capacities settle.
    private var spare: [Answer] = []

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Queues an answer; safe from any thread. On the loop itself (a
    /// forwarded check answered on the loop of its peer connection) the
    /// answer is written at once, unless earlier ones wait in the queue:
    /// they go first, in order.
    func post(_ reply: CheckReply, to destination: Destination) {
        if eventLoop.inEventLoop {
            let queued = answers.withLock { answers in
                guard !answers.isEmpty else { return false }
                answers.append(Answer(destination: destination, reply: reply))
                return true
            }
            if !queued { destination.handler.deliver(reply, context: destination.context, keepAlive: destination.keepAlive) }
            return
        }
        let first = answers.withLock { answers in
            answers.append(Answer(destination: destination, reply: reply))
            return answers.count == 1
        }
        if first { eventLoop.execute { self.drain() } }
    }

    private func drain() {
        var batch = spare
        spare = []
        answers.withLock { swap(&$0, &batch) }
        for answer in batch {
            let destination = answer.destination
            destination.handler.deliver(answer.reply, context: destination.context, keepAlive: destination.keepAlive)
        }
        batch.removeAll(keepingCapacity: true)
        spare = batch
    }
}
