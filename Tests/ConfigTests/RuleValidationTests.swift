import LimiterCore
import Testing

@testable import Config

@Suite("[[ratelimits]] validation")
struct RuleValidationTests {
    @Test("Rules in Cloudflare's binding form load with their algorithm, limit, period and burst")
    func loadsRules() throws {
        let fixture = try ConfigFixture(
            appending: ratelimit(name: "API")
                + ratelimit(name: "SEARCH", namespaceID: "1003", limit: "10", period: "1",
                    algorithm: "token_bucket", extra: "burst = 30")
                + ratelimit(name: "UPLOAD", namespaceID: "1004", limit: "60", period: "3600", algorithm: "gcra")
                + ratelimit(name: "ODD", namespaceID: "1005", limit: "7", period: "7", algorithm: nil))
        let config = try fixture.load()

        #expect(config.wrangler.ratelimits.map(\.name) == ["API", "SEARCH", "UPLOAD", "ODD"])
        let search = try #require(config.rules["SEARCH"])
        #expect(search == Rule(name: "SEARCH", namespaceID: "1003", limit: 10, periodSeconds: 1,
                               algorithm: .tokenBucket, burst: 30))
        #expect(config.rules["UPLOAD"]?.burst == 60, "burst defaults to the limit")
        #expect(config.rules["ODD"]?.algorithm == .slidingWindow, "algorithm defaults to sliding_window")
        #expect(config.rules["ODD"]?.periodSeconds == 7, "any positive period is accepted")
    }

    @Test("A negative limit is an error naming the rule's index and key")
    func negativeLimit() throws {
        let fixture = try ConfigFixture(appending: ratelimit(name: "A") + ratelimit(name: "B", limit: "-5"))
        #expect(fixture.messages() == [
            "wrangler.toml: ratelimits[1].simple.limit: must be a positive integer, got -5"
        ])
        #expect(fixture.problems().first?.code == .outOfRange)
    }

    @Test("A zero period is an error", arguments: ["0", "-60"])
    func nonPositivePeriod(period: String) throws {
        let fixture = try ConfigFixture(appending: ratelimit(period: period))
        #expect(fixture.messages() == [
            "wrangler.toml: ratelimits[0].simple.period: must be a positive integer, got \(period)"
        ])
    }

    @Test("A limit beyond 2^31 - 1 is out of range rather than overflowing later")
    func hugeLimit() throws {
        let fixture = try ConfigFixture(appending: ratelimit(limit: "4294967296"))
        let message = try #require(fixture.messages().first)
        #expect(message.hasPrefix("wrangler.toml: ratelimits[0].simple.limit: must be in 1..."))
    }

    @Test("A misspelt key in a rule or its simple table is an error suggesting the real one, not a silent default")
    func misspeltRuleKeys() throws {
        let fixture = try ConfigFixture(appending: """

            [[ratelimits]]
            name = "A"
            namespace_id = "1"
            simple = { limit = 10, period = 60, perod = 30 }
            algoritm = "gcra"
            """)
        let messages = fixture.messages()
        #expect(messages.contains("wrangler.toml: ratelimits[0].algoritm: unknown key, did you mean \"algorithm\"?"), "\(messages)")
        #expect(messages.contains("wrangler.toml: ratelimits[0].simple.perod: unknown key, did you mean \"period\"?"), "\(messages)")
    }

    @Test("An unknown algorithm lists the ones that exist")
    func unknownAlgorithm() throws {
        let fixture = try ConfigFixture(
            appending: ratelimit(name: "A") + ratelimit(name: "B") + ratelimit(name: "C", algorithm: "leaky"))
        #expect(fixture.messages() == [
            "wrangler.toml: ratelimits[2].algorithm: unknown algorithm \"leaky\" "
                + "(expected one of fixed_window, sliding_window, sliding_log, token_bucket, gcra)"
        ])
        #expect(fixture.problems().first?.code == .unknownAlgorithm)
    }

    @Test("A duplicate rule name points at the first definition")
    func duplicateName() throws {
        let fixture = try ConfigFixture(
            appending: ratelimit(name: "API") + ratelimit(name: "LOGIN") + ratelimit(name: "SEARCH")
                + ratelimit(name: "API"))
        #expect(fixture.messages() == [
            "wrangler.toml: ratelimits[3].name: duplicate rule name \"API\" (first at ratelimits[0])"
        ])
        #expect(fixture.problems().first?.code == .duplicateRule)
    }

    @Test("A quoted number is a type error, not a coerced value")
    func stringLimit() throws {
        let fixture = try ConfigFixture(appending: ratelimit(limit: "\"100\""))
        #expect(fixture.messages() == [
            "wrangler.toml: ratelimits[0].simple.limit: expected integer, got string \"100\""
        ])
        #expect(fixture.problems().first?.code == .wrongType)
    }

    @Test("A fractional limit is a type error, never truncated")
    func floatLimit() throws {
        let fixture = try ConfigFixture(appending: ratelimit(limit: "1.5"))
        #expect(fixture.messages() == [
            "wrangler.toml: ratelimits[0].simple.limit: expected integer, got float 1.5"
        ])
    }

    @Test("burst on a window algorithm is an error because it would be ignored")
    func burstOnWindowAlgorithm() throws {
        let fixture = try ConfigFixture(appending: ratelimit(algorithm: "sliding_window", extra: "burst = 10"))
        #expect(fixture.messages() == [
            "wrangler.toml: ratelimits[0].burst: burst applies only to token_bucket and gcra, not sliding_window"
        ])
        #expect(fixture.problems().first?.code == .burstNotApplicable)
    }

    @Test("burst below 1 is an error", arguments: ["0", "-3"])
    func burstBelowOne(burst: String) throws {
        let fixture = try ConfigFixture(appending: ratelimit(algorithm: "gcra", extra: "burst = \(burst)"))
        #expect(fixture.messages() == ["wrangler.toml: ratelimits[0].burst: must be a positive integer, got \(burst)"])
    }

    @Test("Missing required fields are each reported")
    func missingFields() throws {
        let fixture = try ConfigFixture(appending: "\n[[ratelimits]]\nname = \"X\"\n")
        #expect(fixture.messages() == [
            "wrangler.toml: ratelimits[0].namespace_id: required string is missing",
            "wrangler.toml: ratelimits[0].simple: required table is missing",
        ])
        #expect(fixture.problems().allSatisfy { $0.code == .missingKey })
    }

    @Test("The name default is reserved for DEFAULT_RATE_LIMIT and DEFAULT_WINDOW")
    func defaultIsReserved() throws {
        let fixture = try ConfigFixture(appending: ratelimit(name: "default"))
        let message = try #require(fixture.messages().first)
        #expect(message.hasPrefix("wrangler.toml: ratelimits[0].name: \"default\" is reserved"))
    }

    @Test("Rule names that cannot appear in a RateLimit-Policy header are rejected")
    func invalidName() throws {
        let fixture = try ConfigFixture(appending: ratelimit(name: "two words"))
        #expect(fixture.messages() == [
            "wrangler.toml: ratelimits[0].name: rule names must match [A-Za-z0-9_.:-]+, got \"two words\""
        ])
    }

    @Test("Every problem in the file is reported in one load, in file order")
    func collectsAllProblems() throws {
        let fixture = try ConfigFixture(
            appending: ratelimit(name: "API", limit: "0")
                + ratelimit(name: "B", period: "\"60\"")
                + ratelimit(name: "C", algorithm: "leaky")
                + ratelimit(name: "API"))
        #expect(fixture.problems().map(\.key) == [
            "ratelimits[0].simple.limit",
            "ratelimits[1].simple.period",
            "ratelimits[2].algorithm",
            "ratelimits[3].name",
        ])
    }
}
