import JSONCore

extension ChaosReport {
    /// The report as one JSON object, for tools and tests (`ratelimit chaos --report FILE`).
    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("setup")
        writer.beginObject()
        writer.field("seed", String(setup.seed))
        writer.field("long", setup.long)
        writer.field("initial_nodes", setup.initialNodes)
        writer.field("listed_nodes", setup.listedNodes)
        writer.field("replicas", setup.replicas)
        writer.field("clients", setup.clients)
        writer.field("keys", setup.keys)
        writer.endObject()
        writer.field("load_ms", endMs - startMs)
        writer.field("operations", operations)
        writer.field("allowed", allowed)
        writer.field("denied", denied)
        writer.field("answered_on_retry", answeredOnRetry)
        writer.field("admitted", admitted)
        writer.field("capacity", capacity)
        writer.field("over_admissions", overAdmissions)
        writer.field("keys_over", keysOver.count)
        writer.field("client_errors", clientErrors)
        writer.field("failed_against_down_node", failedAgainstDownNode)
        writer.field("failed_against_live_node", failedAgainstLiveNode)
        writer.key("shutdown_problems")
        writer.beginArray()
        for line in shutdownProblems { writer.value(line) }
        writer.endArray()
        writer.key("unexpected_exits")
        writer.beginArray()
        for line in unexpectedExits { writer.value(line) }
        writer.endArray()
        if let span = longestUnanswerable {
            writer.key("longest_unanswerable")
            writer.beginObject()
            writer.field("key", span.key)
            writer.field("ms", span.durationMs)
            writer.field("from_ms", span.fromMs - startMs)
            writer.field("answered", span.answered)
            writer.endObject()
        } else {
            writer.key("longest_unanswerable")
            writer.null()
        }
        writer.key("faults")
        writer.beginObject()
        let counts = faultCounts
        for kind in Fault.Kind.allCases { writer.field(kind.rawValue, counts[kind] ?? 0) }
        writer.endObject()
        writer.key("events")
        writer.beginArray()
        for event in events {
            writer.beginObject()
            writer.field("at_ms", event.atMs)
            writer.field("kind", event.kind.rawValue)
            writer.field("phase", event.phase.rawValue)
            writer.field("text", event.text)
            writer.endObject()
        }
        writer.endArray()
        writer.key("rules")
        writer.beginArray()
        for summary in rules {
            writer.beginObject()
            writer.field("rule", summary.rule.name)
            writer.field("algorithm", summary.rule.algorithm.rawValue)
            writer.field("limit", summary.rule.limit)
            writer.field("period", summary.rule.periodSeconds)
            writer.field("burst", summary.rule.burst)
            writer.field("bound", summary.bound)
            writer.field("keys", summary.keys)
            writer.field("admitted", summary.admitted)
            writer.field("capacity", summary.capacity)
            writer.field("uncounted", summary.uncounted)
            writer.field("over_admissions", summary.excess)
            writer.field("keys_over", summary.keysOver)
            writer.endObject()
        }
        writer.endArray()
        writer.key("keys_over_limit")
        writer.beginArray()
        for key in keysOver {
            writer.beginObject()
            writer.field("key", key.key)
            writer.field("rule", key.rule)
            writer.field("admitted", key.admitted)
            writer.field("over", key.excess)
            writer.endObject()
        }
        writer.endArray()
        writer.key("failure_reasons")
        writer.beginObject()
        for (reason, count) in failureReasons.sorted(by: { $0.key < $1.key }) { writer.field(reason, count) }
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }
}
