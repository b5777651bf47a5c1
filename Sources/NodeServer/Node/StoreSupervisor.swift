import EventStore
import LimiterCore
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Watches this node's event log and brings it back after a storage fault
/// (disk full, read-only or failing disk, a corrupted or unopenable file, a
/// removed WAL), so the node never stops and never needs a restart to
/// serve again.
///
/// Each ``tick()`` takes one step, chosen by the engine's store state:
/// - serving: check that the WAL is still the file SQLite opened; if not,
///   mark the store failed;
/// - failed: retire the log (the committer finishes what was queued), fold
///   a removed WAL's frames into the database through the descriptors still
///   open, and close it;
/// - closed: reopen the file, prove it writable (``EventLog/probeWrite(at:)``)
///   and hand it to the engine, which rebuilds its table from the log.
///
/// Meanwhile `/health` is 503 with the fault's reason and checks follow
/// `on_unavailable`. A file that cannot be opened is never deleted or
/// rewritten: an operator decides what to do with it.
public final class StoreSupervisor: Service {
    public struct Settings: Sendable {
        /// Time between ticks.
        public var interval: Duration = .seconds(1)
        /// After a disk-full fault, the free bytes the database's filesystem
        /// must have before reopening is tried, beyond the size the WAL had
        /// when the log was retired. Without this margin the node flaps: the
        /// probe folds the WAL into the database, freeing the WAL's space, so
        /// its one row commits on a disk that the WAL fills again within a
        /// second (seen on a full tmpfs).
        public var freeBytesAfterDiskFull: Int64 = 1 << 20
        public init() {}
    }

    /// What one ``tick()`` did.
    public enum Step: Sendable, Equatable {
        /// The store serves and its WAL is the one it opened.
        case serving
        /// A fault was found by this tick (the WAL is gone); the store is now failed.
        case detected(StoreFault)
        /// The failed log was retired and closed; the next tick reopens it.
        case retired(StoreFault)
        /// The log could not be retired, reopened or proved writable yet.
        case stillFailing(StoreFault)
        /// The log was reopened and the engine serves again.
        case recovered
    }

    let engine: LimiterEngine
    /// The database file, for the free-space check before a log exists.
    let path: String
    /// Opens the log (and applies what the node needs in it, e.g. class migrations).
    let open: @Sendable () throws -> EventLog
    /// Called with a reopened, writable log before the engine serves from
    /// it; returns the rules the engine rebuilds its table with.
    let attach: @Sendable (EventLog) throws -> [String: Rule]
    /// Called when the log is retired, before it is closed.
    let detach: @Sendable () -> Void
    let settings: Settings
    let logger: Logger
    /// Where `rate_limit_store_available` is exported.
    let metrics: EngineMetrics?
    /// A retired log that could not be closed yet (its WAL not folded).
    private let retired = Mutex<EventLog?>(nil)
    /// The WAL's size when the failed log was retired: space the WAL will
    /// take again, so it does not count as free after a disk-full fault.
    private let walBytesAtRetirement = Mutex<Int64>(0)
    /// The last reason logged, so a fault that persists is logged once.
    private let lastLogged = Mutex<String?>(nil)

    public init(engine: LimiterEngine, path: String, open: @escaping @Sendable () throws -> EventLog,
                attach: @escaping @Sendable (EventLog) throws -> [String: Rule], detach: @escaping @Sendable () -> Void = {},
                settings: Settings = Settings(), logger: Logger, metrics: EngineMetrics? = nil) {
        self.engine = engine
        self.path = path
        self.open = open
        self.attach = attach
        self.detach = detach
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: self.settings.interval)
                // Opening, folding and probing block on SQLite: a blocking-IO thread.
                _ = try await NIOThreadPool.singleton.runIfActive { self.tick() }
            }
        }
    }

    /// Takes one step (see the type's documentation). Blocks on the store:
    /// call it from a blocking-IO thread.
    @discardableResult
    public func tick() -> Step {
        let step = decideStep()
        metrics?.setStoreAvailable(engine.fault == nil)
        report(step)
        return step
    }

    private func decideStep() -> Step {
        switch engine.storeStatus {
        case .serving(let log):
            do throws(StoreError) {
                try log.checkWAL()
                return .serving
            } catch {
                let fault = StoreFault(error, while: "event log fault")
                // A failed commit may have failed the store first: it is retired next tick either way.
                guard engine.markFailed(fault) else { return .stillFailing(engine.fault ?? fault) }
                return .detected(fault)
            }
        case .failed(let fault):
            // Only this supervisor retires, so the store is still failed here.
            guard let (log, fault) = engine.retireFailedStore() else { return .stillFailing(fault) }
            detach()
            walBytesAtRetirement.withLock { $0 = log.walFileBytes ?? 0 }
            retired.withLock { $0 = log }
            return closeRetired(fault: fault) ?? .retired(fault)
        case .closed(let fault):
            if let blocked = closeRetired(fault: fault) { return blocked }
            return reopen(after: fault)
        }
    }

    /// Closes the retired log, folding its WAL first when the file was
    /// removed (its frames exist only behind our descriptors). Returns a
    /// step when the log must stay open for another try.
    private func closeRetired(fault: StoreFault) -> Step? {
        guard let log = retired.withLock({ $0 }) else { return nil }
        if fault.isWALMissing {
            do throws(StoreError) {
                try log.foldWAL()
            } catch {
                var still = fault
                still.waitingFor = "its frames to reach the database (\(error.message))"
                return stillFailing(still)
            }
        }
        do throws(StoreError) {
            try log.close()
        } catch {
            // The connections are dropped with the object; SQLite closes
            // them once their last statement is finalized.
            logger.warning("closing the failed event log failed", metadata: ["path": "\(log.path)", "error": "\(error)"])
        }
        retired.withLock { $0 = nil }
        return nil
    }

    private func reopen(after fault: StoreFault) -> Step {
        let needed = settings.freeBytesAfterDiskFull + walBytesAtRetirement.withLock { $0 }
        if fault.isDiskFull, let free = EventLog.freeBytes(onFilesystemOf: path), free < needed {
            var waiting = fault
            waiting.waitingFor = "\(needed) free bytes before reopening (\(free) free)"
            return stillFailing(waiting)
        }
        let log: EventLog
        do {
            log = try open()
        } catch {
            return stillFailing(Self.fault(error, while: "cannot open the event log"))
        }
        do throws(StoreError) {
            try log.probeWrite(at: engine.clock.nowMs())
        } catch {
            try? log.close()
            return stillFailing(StoreFault(error, while: "the event log cannot write"))
        }
        do {
            let rules = try attach(log)
            try engine.install(log, rules: rules)
        } catch {
            detach()
            try? log.close()
            return stillFailing(Self.fault(error, while: "cannot rebuild from the event log"))
        }
        return .recovered
    }

    private func stillFailing(_ fault: StoreFault) -> Step {
        engine.updateFault(fault)
        return .stillFailing(fault)
    }

    /// Logs a fault when it appears or what failed changes (not each time
    /// the free bytes it waits for change), and the recovery.
    private func report(_ step: Step) {
        let reason: String?
        switch step {
        case .serving: return
        case .recovered: reason = nil
        case .detected(let fault), .retired(let fault), .stillFailing(let fault): reason = fault.detail
        }
        let previous = lastLogged.withLock { last in
            defer { last = reason }
            return last
        }
        guard previous != reason else { return }
        if let reason {
            logger.error("event log unavailable; checks follow on_unavailable", metadata: [
                "reason": "\(engine.failure ?? reason)", "mode": "\(engine.policy.mode.rawValue)",
            ])
        } else {
            logger.info("event log recovered; serving again", metadata: ["path": "\(path)", "keys": "\(engine.keyCount)"])
        }
    }

    static func fault(_ error: any Error, while what: String) -> StoreFault {
        switch error {
        case let error as StoreError: StoreFault(error, while: what)
        case let error as StoreFault: error
        case let error as NodeError: StoreFault(code: error.code, detail: "\(what): \(error.message)")
        default: StoreFault(code: "store.unexpected", detail: "\(what): \(error)")
        }
    }
}
