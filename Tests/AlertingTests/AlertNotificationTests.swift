import Alerting
import JSONCore
import Testing

@Suite("AlertNotification: the webhook payload of DESIGN.md §8, without Foundation")
struct AlertNotificationTests {
    @Test("renders §8's example field for field")
    func example() {
        let notification = AlertNotification(
            alert: "High Block Rate", severity: .warning, status: .firing, environment: "staging",
            value: 0.43, threshold: 0.2, message: "blocked/total 0.43 > 0.2", at: 1_796_040_000_000
        )
        #expect(
            notification.json
                == #"{"alert":"High Block Rate","severity":"warning","status":"firing","environment":"staging","value":0.43,"threshold":0.2,"message":"blocked/total 0.43 > 0.2","at":"2026-11-30T12:00:00Z"}"#
        )
        #expect(notification.fields.map(\.0) == ["alert", "severity", "status", "environment", "value", "threshold", "message", "at"])
        #expect(notification.jsonBytes == Array(notification.json.utf8))
    }

    @Test("the payload parses back with JSONCore's parser")
    func parsesBack() throws {
        let notification = AlertNotification(
            alert: "Error Spike", severity: .critical, status: .resolved, environment: "production",
            value: 3.25, threshold: 10, message: "quote \" backslash \\ newline \n done", at: 0
        )
        let parsed = try JSONParser.parse(notification.jsonBytes)
        #expect(parsed[member: "message"] == .string("quote \" backslash \\ newline \n done"))
        #expect(parsed[member: "status"] == .string("resolved"))
        #expect(parsed[member: "value"] == .double(3.25))
        #expect(parsed[member: "threshold"] == .double(10))
        #expect(parsed[member: "at"] == .string("1970-01-01T00:00:00Z"))
    }

    @Test("the automatic rollback alert: critical, firing, details instead of value and threshold")
    func automaticRollback() {
        let notification = AlertNotification.automaticRollback(
            environment: "production", version: "v-0123456789abcdef", percent: 25,
            reason: "canary p95 312 ms > 200 ms", at: 1_796_040_000_000,
            details: [("samples", .integer(812)), ("p95_ms", .double(312))]
        )
        #expect(
            notification.json
                == #"{"alert":"Automatic rollback","severity":"critical","status":"firing","environment":"production","#
                + #""message":"Automatic rollback triggered","at":"2026-11-30T12:00:00Z","details":{"version":"v-0123456789abcdef","#
                + #""percent":25,"reason":"canary p95 312 ms > 200 ms","samples":812,"p95_ms":312.0}}"#
        )
    }

    @Test(
        "ISO-8601 UTC from wall-clock ms",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00Z"),
            (1_796_040_000_000, "2026-11-30T12:00:00Z"),
            (1_709_168_523_000, "2024-02-29T01:02:03Z"),
            (951_782_400_000, "2000-02-29T00:00:00Z"),
            (4_102_444_800_000, "2100-01-01T00:00:00Z"),
            (1_764_460_800_123, "2025-11-30T00:00:00Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (-86_400_000, "1969-12-31T00:00:00Z"),
            (-62_135_596_800_000, "0001-01-01T00:00:00Z"),
        ]
    )
    func iso8601(_ milliseconds: Int64, _ expected: String) {
        #expect(UTCTimestamp.iso8601(milliseconds: milliseconds) == expected)
    }

    @Test("every day of 1999-2001 renders as the next day after its predecessor")
    func consecutiveDays() {
        let start: Int64 = 915_148_800_000  // 1999-01-01
        var previous = UTCTimestamp.iso8601(milliseconds: start)
        var dates = [previous]
        for day in 1..<(365 * 3 + 1) {
            let text = UTCTimestamp.iso8601(milliseconds: start + Int64(day) * 86_400_000)
            #expect(text > previous)
            #expect(text.hasSuffix("T00:00:00Z"))
            previous = text
            dates.append(text)
        }
        #expect(dates.contains("2000-02-29T00:00:00Z"))
        #expect(!dates.contains("1999-02-29T00:00:00Z"))
        #expect(dates.last == "2001-12-31T00:00:00Z")
        #expect(Set(dates).count == dates.count)
    }
}
