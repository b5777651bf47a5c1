import Foundation
import JSONCore
import NodeServer
import Testing

@Suite("ratelimit simulate", .serialized)
struct SimulateTests {
    @Test("simulate replays a trace offline and agrees with a live node on the same checks")
    func agreesWithLiveNode() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1)
        try cluster.startAll()
        try await cluster.waitHealthy("n1")
        // Rules whose windows are hours or days long decide the same at any
        // t within this test, so the node's clock and the trace's agree.
        var trace: [String] = []
        var live: [(allowed: Bool, remaining: Int64)] = []
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for step in 0..<40 {
            let key = "sim:\(step % 3)"
            let rule = step % 2 == 0 ? "EXACT" : "FIXED"
            let hits = step % 5 == 4 ? 0 : 1 + step % 2
            trace.append("{\"t\": \(now + Int64(step)), \"key\": \"\(key)\", \"rule\": \"\(rule)\", \"hits\": \(hits)}")
            let response = try await cluster.check("n1", key: key, rule: rule, hits: hits)
            live.append((response.json?[member: "allowed"]?.bool ?? false, response.json?[member: "remaining"]?.int ?? -1))
        }
        try (trace.joined(separator: "\n") + "\n").write(toFile: cluster.directory + "/trace.jsonl", atomically: true, encoding: .utf8)
        let result = try await cluster.run(["simulate", "--config", "wrangler.toml", "--trace", "trace.jsonl"])
        #expect(result.status == 0, "\(result.output)")
        let lines = result.output.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(lines.count == 40)
        for (index, line) in lines.enumerated() {
            let json = try JSONParser.parse(String(line))
            #expect(json[member: "allowed"]?.bool == live[index].allowed, "line \(index + 1): \(line)")
            #expect(json[member: "remaining"]?.int == live[index].remaining, "line \(index + 1): \(line)")
        }
        await cluster.stopAll()
    }

    @Test("a malformed trace line exits 1 naming its line number and field; a missing or directory trace names the path")
    func malformedLine() async throws {
        let cluster = try NodeProcessCluster(nodeCount: 1)
        try "{\"t\": 1, \"key\": \"a\"}\n{\"t\": 2, \"key\": \"a\", \"hits\": -3}\n"
            .write(toFile: cluster.directory + "/bad.jsonl", atomically: true, encoding: .utf8)
        let result = try await cluster.run(["simulate", "--trace", "bad.jsonl"])
        #expect(result.status == 1)
        #expect(result.output.contains("line 2"))
        #expect(result.output.contains("hits"))
        let missing = try await cluster.run(["simulate", "--trace", "nope.jsonl"])
        #expect(missing.status != 0)
        #expect(missing.output.contains("nope.jsonl"))
        // A directory opens on Linux but cannot be read: one line naming it, not a crash.
        let directory = try await cluster.run(["simulate", "--trace", "cluster"])
        #expect(directory.status == 1, "\(directory.output)")
        #expect(directory.output.contains("--trace: cluster is a directory"), "\(directory.output)")
        #expect(directory.output.split(separator: "\n").count == 1, "\(directory.output)")
    }
}
