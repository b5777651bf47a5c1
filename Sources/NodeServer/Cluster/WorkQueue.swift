import ServiceLifecycle

/// Runs work items as child tasks of one service, so the cluster shell's
/// sends, timers and forwarded batches stay structured: they are cancelled
/// with the service group instead of outliving it as detached tasks.
final class WorkQueue: Service {
    typealias Work = @Sendable () async -> Void

    private let stream: AsyncStream<Work>
    private let continuation: AsyncStream<Work>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Work.self)
    }

    /// Queues `work`; dropped after the queue has stopped.
    func enqueue(_ work: @escaping Work) {
        continuation.yield(work)
    }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for await work in stream.cancelOnGracefulShutdown() {
                group.addTask { await work() }
            }
            group.cancelAll()
        }
    }
}
