import ArgumentParser
import EventStore
import Foundation

/// Measures the event store for `scripts/bench`: append rate with batched
/// transactions and replay time of a large log.
struct BenchStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-store",
        abstract: "Measure event-store append rate and replay time (used by scripts/bench).",
        shouldDisplay: false)

    @Option(name: .long, help: "Directory for the scratch databases.")
    var dir: String

    @Option(name: .long, help: "Events to append and to replay.")
    var events: Int = 1_000_000

    @Option(name: .long, help: "Events per transaction in the append test.")
    var batch: Int = 500

    func run() async throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        do {
            let full = try EventStoreBenchmark.appendRate(path: dir + "/append-full.sqlite", events: events, batchSize: batch, durability: .full)
            let normal = try EventStoreBenchmark.appendRate(path: dir + "/append-normal.sqlite", events: events, batchSize: batch, durability: .normal)
            let group = try EventStoreBenchmark.groupCommitRate(path: dir + "/group.sqlite", events: events / 4)
            let replay = try EventStoreBenchmark.replayTime(path: dir + "/replay.sqlite", events: events)
            print("RESULT append_full_eps=\(Int(full)) append_normal_eps=\(Int(normal)) group_commit_eps=\(Int(group)) replay_s=\(seconds(replay)) events=\(events) batch=\(batch)")
        } catch {
            throw CLIError(error.message)
        }
    }

    private func seconds(_ duration: Duration) -> String {
        let (s, atto) = duration.components
        return String(format: "%.3f", Double(s) + Double(atto) / 1e18)
    }
}
