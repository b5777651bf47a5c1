import ArgumentParser
import EventStore
import Foundation

/// Measures the event store for `scripts/bench`: append rate with batched
/// transactions and replay time of a large log; with `--history`, writes a
/// node's store with that much history instead, for timing a restart.
struct BenchStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-store",
        abstract: "Measure event-store append rate and replay time, or write a store with history (used by scripts/bench).",
        shouldDisplay: false)

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Directory for the scratch databases (the measurements).")
    var dir: String?

    @Option(name: .long, help: "Events to append and to replay.")
    var events: Int = 1_000_000

    @Option(name: .long, help: "Events per transaction in the append test.")
    var batch: Int = 500

    @Option(name: .long, help: "Write a node's store with this many events of history into --data-dir instead of measuring.")
    var history: Int?

    @Option(name: .long, help: "With --history: events after the store's snapshot, which a restart replays.")
    var tail: Int = 5_000

    @Option(name: .long, help: "With --history: distinct keys the events cycle over.")
    var keys: Int = 10_000

    @Option(name: .long, help: "With --history: the rule of wrangler.toml the events count against.")
    var rule: String = "API"

    @Option(name: .long, help: "With --history: the node data_dir to create (its events.sqlite must not exist).")
    var dataDir: String?

    func run() async throws {
        if let history {
            try writeHistory(history)
            return
        }
        guard let dir else { throw CLIError("--dir: required unless --history is given") }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        do {
            let full = try EventStoreBenchmark.appendRate(path: dir + "/append-full.sqlite", events: events, batchSize: batch, durability: .full)
            let normal = try EventStoreBenchmark.appendRate(path: dir + "/append-normal.sqlite", events: events, batchSize: batch, durability: .normal)
            let group = try EventStoreBenchmark.groupCommitRate(path: dir + "/group.sqlite", events: events / 4)
            let replay = try EventStoreBenchmark.replayTime(path: dir + "/replay.sqlite", events: events)
            let chunks = try EventStoreBenchmark.compactionChunkTimes(path: dir + "/compact.sqlite", events: events / 4,
                                                                      chunk: SnapshotPolicy.Settings().compactionChunk)
                .map { milliseconds($0) }.sorted()
            print("RESULT append_full_eps=\(Int(full)) append_normal_eps=\(Int(normal)) group_commit_eps=\(Int(group)) replay_s=\(seconds(replay)) events=\(events) batch=\(batch)")
            print("RESULT compaction_chunk rows=\(SnapshotPolicy.Settings().compactionChunk) median_ms=\(chunks.isEmpty ? "-" : format(chunks[chunks.count / 2])) max_ms=\(chunks.last.map(format) ?? "-") chunks=\(chunks.count) (one delete transaction, synchronous=FULL: the longest an append waits behind compaction)")
        } catch {
            throw CLIError(error.message)
        }
    }

    private func writeHistory(_ history: Int) throws {
        guard let dataDir else { throw CLIError("--data-dir: required with --history") }
        guard history >= 0 else { throw CLIError("--history: expected 0 or more events, got \(history)") }
        guard (0...history).contains(tail) else { throw CLIError("--tail: expected 0 to --history (\(history)), got \(tail)") }
        guard keys >= 1 else { throw CLIError("--keys: expected 1 or more, got \(keys)") }
        let config = try options.load()
        guard let chosen = config.rules[rule] else {
            throw CLIError("--rule: no rule \"\(rule)\" in \(options.config) (has: \(config.rules.keys.sorted().joined(separator: ", ")))")
        }
        let path = dataDir + "/events.sqlite"
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        do {
            let built = try EventStoreBenchmark.buildHistory(path: path, events: history, tail: tail, rule: chosen, keys: keys,
                                                             endingAt: now)
            print("RESULT history_events=\(built.events) snapshot_seq=\(built.snapshotSeq) keys=\(built.keys) snapshot_counters=\(built.snapshotCounters) build_s=\(seconds(built.elapsed)) path=\(path)")
        } catch {
            throw CLIError(error.message)
        }
    }

    private func milliseconds(_ duration: Duration) -> Double {
        let (s, atto) = duration.components
        return Double(s) * 1000 + Double(atto) / 1e15
    }

    private func format(_ ms: Double) -> String { String(format: "%.1f", ms) }

    private func seconds(_ duration: Duration) -> String {
        let (s, atto) = duration.components
        return String(format: "%.3f", Double(s) + Double(atto) / 1e18)
    }
}
