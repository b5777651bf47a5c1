import Alerting
import Testing

@testable import Config

@Suite("[monitoring] and [env.NAME.monitoring]")
struct MonitoringConfigTests {
    /// Loads `environment` with the secrets staging and production require.
    static func load(_ fixture: ConfigFixture, _ environment: String = "development") throws -> ResolvedConfig {
        try fixture.load(environment: environment, process: ConfigFixture.secrets)
    }

    // MARK: - Values

    @Test("Without [monitoring] every environment gets MonitoringThresholds' defaults")
    func defaultsWhenAbsent() throws {
        let fixture = try ConfigFixture()
        for environment in ["development", "staging", "production"] {
            let config = try Self.load(fixture, environment)
            #expect(config.monitoring == MonitoringThresholds())
            #expect(config.wrangler.monitoring == WranglerConfig.MonitoringTable())
        }
    }

    @Test("Top-level [monitoring] values are used, integers accepted where floats are expected")
    func topLevelValues() throws {
        let fixture = try ConfigFixture(
            appending: """

                [monitoring]
                error_rate = 0.05
                block_rate = 1
                latency_p95_ms = 250
                scrape_interval_s = 10
                alert_window_s = 600
                min_samples = 50
                """)
        let expected = MonitoringThresholds(
            errorRate: 0.05, blockRate: 1, latencyP95Milliseconds: 250,
            scrapeIntervalSeconds: 10, alertWindowSeconds: 600, minSamples: 50)
        #expect(try Self.load(fixture).monitoring == expected)
        #expect(try Self.load(fixture, "staging").monitoring == expected, "no override: the top level applies")
    }

    @Test("A partial [monitoring] keeps the defaults of the keys it leaves out")
    func partialTopLevel() throws {
        let fixture = try ConfigFixture(appending: "\n[monitoring]\nlatency_p95_ms = 12.5\n")
        #expect(try Self.load(fixture).monitoring == MonitoringThresholds(latencyP95Milliseconds: 12.5))
    }

    @Test("An environment overriding one key keeps the top-level and default values of the others")
    func environmentOverridesOneKey() throws {
        let fixture = try ConfigFixture(
            appending: """

                [monitoring]
                block_rate = 0.3
                scrape_interval_s = 10

                [env.staging.monitoring]
                block_rate = 0.5
                """)
        #expect(try Self.load(fixture, "staging").monitoring == MonitoringThresholds(blockRate: 0.5, scrapeIntervalSeconds: 10))
        #expect(try Self.load(fixture, "development").monitoring == MonitoringThresholds(blockRate: 0.3, scrapeIntervalSeconds: 10))
        #expect(try Self.load(fixture, "production").monitoring == MonitoringThresholds(blockRate: 0.3, scrapeIntervalSeconds: 10))

        let wrangler = try Self.load(fixture).wrangler
        #expect(wrangler.environments["staging"]?.monitoring == .init(blockRate: 0.5))
        #expect(wrangler.monitoringSource(of: .blockRate, for: "staging") == "env.staging.monitoring")
        #expect(wrangler.monitoringSource(of: .scrapeIntervalSeconds, for: "staging") == "monitoring")
        #expect(wrangler.monitoringSource(of: .minSamples, for: "staging") == nil)
    }

    @Test("An environment table works without a top-level one, in either TOML form")
    func environmentWithoutTopLevel() throws {
        let fixture = try ConfigFixture(
            wrangler: ConfigFixture.minimalWrangler.replacingOccurrences(
                of: "vars = { ENVIRONMENT = \"production\" }",
                with: "vars = { ENVIRONMENT = \"production\" }\nmonitoring = { min_samples = 500 }"))
        #expect(try Self.load(fixture, "production").monitoring == MonitoringThresholds(minSamples: 500))
        #expect(try Self.load(fixture, "staging").monitoring == MonitoringThresholds())
    }

    @Test("Boundary values load, and what loads passes MonitoringThresholds.validate()")
    func boundariesLoadAndValidate() throws {
        let fixture = try ConfigFixture(
            appending: """

                [monitoring]
                error_rate = 0
                block_rate = 1.0
                latency_p95_ms = 0.001
                scrape_interval_s = 5
                alert_window_s = 10
                min_samples = 1

                [env.production.monitoring]
                scrape_interval_s = 43200
                alert_window_s = 86400
                """)
        for environment in ["development", "staging", "production"] {
            let monitoring = try Self.load(fixture, environment).monitoring
            #expect(throws: Never.self) { try monitoring.validate() }
        }
        #expect(try Self.load(fixture, "production").monitoring.alertWindowSeconds == 86_400)
    }

    // MARK: - Errors

    @Test(
        "A rate outside 0...1 names the file and key",
        arguments: [
            ("error_rate = -0.01", "wrangler.toml: monitoring.error_rate: must be in 0...1, got -0.01"),
            ("error_rate = 2", "wrangler.toml: monitoring.error_rate: must be in 0...1, got 2"),
            ("block_rate = 1.5", "wrangler.toml: monitoring.block_rate: must be in 0...1, got 1.5"),
            ("block_rate = nan", "wrangler.toml: monitoring.block_rate: must be in 0...1, got nan"),
        ])
    func rateOutOfRange(line: String, message: String) throws {
        let fixture = try ConfigFixture(appending: "\n[monitoring]\n\(line)\n")
        #expect(fixture.messages() == [message])
        #expect(fixture.problems().map(\.code) == [.outOfRange])
        #expect(fixture.problems().first?.file == "wrangler.toml")
    }

    @Test("latency_p95_ms must be a positive, finite number", arguments: ["0", "-5", "-0.5", "inf"])
    func latencyNotPositive(value: String) throws {
        let fixture = try ConfigFixture(appending: "\n[monitoring]\nlatency_p95_ms = \(value)\n")
        #expect(fixture.messages() == [
            "wrangler.toml: monitoring.latency_p95_ms: must be a positive number of ms, got \(value)"
        ])
    }

    @Test("A zero scrape interval in an environment names env.NAME.monitoring")
    func zeroScrapeIntervalInEnvironment() throws {
        let fixture = try ConfigFixture(appending: "\n[env.staging.monitoring]\nscrape_interval_s = 0\n")
        let problems = fixture.problems(environment: "staging", process: ConfigFixture.secrets)
        #expect(problems.map(\.message) == [
            "wrangler.toml: env.staging.monitoring.scrape_interval_s: must be a positive integer, got 0"
        ])
        #expect(problems.first?.key == "env.staging.monitoring.scrape_interval_s")
        #expect(problems.first?.code == .outOfRange)
    }

    @Test(
        "Timing and sample counts must be positive integers, timings at most a day",
        arguments: [
            ("scrape_interval_s = -5", "monitoring.scrape_interval_s: must be a positive integer, got -5"),
            ("alert_window_s = 0", "monitoring.alert_window_s: must be a positive integer, got 0"),
            ("alert_window_s = 86401", "monitoring.alert_window_s: must be in 1...86400, got 86401"),
            ("min_samples = 0", "monitoring.min_samples: must be a positive integer, got 0"),
        ])
    func integersOutOfRange(line: String, message: String) throws {
        let fixture = try ConfigFixture(appending: "\n[monitoring]\n\(line)\n")
        #expect(fixture.messages() == ["wrangler.toml: " + message])
    }

    @Test("alert_window_s below twice scrape_interval_s is reported against the key the table sets")
    func windowShorterThanTwoScrapes() throws {
        let window = try ConfigFixture(appending: "\n[monitoring]\nalert_window_s = 9\n")
        #expect(window.messages() == [
            "wrangler.toml: monitoring.alert_window_s: must be at least twice scrape_interval_s (5), got 9"
        ])

        let interval = try ConfigFixture(appending: "\n[env.production.monitoring]\nscrape_interval_s = 200\n")
        #expect(interval.messages(environment: "production", process: ConfigFixture.secrets) == [
            "wrangler.toml: env.production.monitoring.scrape_interval_s: "
                + "must be at most half of alert_window_s (300), got 200"
        ])
    }

    @Test("A window problem in [monitoring] is not repeated for environments that inherit it")
    func inheritedWindowProblemReportedOnce() throws {
        let fixture = try ConfigFixture(
            appending: """

                [monitoring]
                scrape_interval_s = 60
                alert_window_s = 100

                [env.staging.monitoring]
                block_rate = 0.5
                """)
        #expect(fixture.messages(environment: "staging", process: ConfigFixture.secrets) == [
            "wrangler.toml: monitoring.alert_window_s: must be at least twice scrape_interval_s (60), got 100"
        ])
    }

    @Test("An environment's window is checked against the top-level interval it inherits")
    func environmentWindowAgainstInheritedInterval() throws {
        let fixture = try ConfigFixture(
            appending: "\n[monitoring]\nscrape_interval_s = 30\n\n[env.staging.monitoring]\nalert_window_s = 45\n")
        #expect(fixture.messages() == [
            "wrangler.toml: env.staging.monitoring.alert_window_s: must be at least twice scrape_interval_s (30), got 45"
        ])
    }

    @Test(
        "An unknown key is an error naming it, with the nearest known key when there is one",
        arguments: [
            ("eror_rate", "unknown key, did you mean \"error_rate\"?"),
            ("block_ratio", "unknown key, did you mean \"block_rate\"?"),
            ("latency_p95", "unknown key, did you mean \"latency_p95_ms\"?"),
            ("scrape_interval", "unknown key, did you mean \"scrape_interval_s\"?"),
            (
                "colour",
                "unknown key (expected one of error_rate, block_rate, latency_p95_ms, "
                    + "scrape_interval_s, alert_window_s, min_samples)"
            ),
        ])
    func unknownKey(key: String, detail: String) throws {
        let fixture = try ConfigFixture(appending: "\n[env.production.monitoring]\n\(key) = 1\n")
        let problems = fixture.problems()
        #expect(problems.map(\.message) == ["wrangler.toml: env.production.monitoring.\(key): \(detail)"])
        #expect(problems.map(\.code) == [.unknownKey])
        #expect(problems.first?.key == "env.production.monitoring.\(key)")
    }

    @Test("Wrong types are named with the type expected and the value given")
    func wrongTypes() throws {
        let fixture = try ConfigFixture(
            wrangler: ConfigFixture.minimalWrangler.replacingOccurrences(
                of: "vars = { ENVIRONMENT = \"staging\" }",
                with: "vars = { ENVIRONMENT = \"staging\" }\nmonitoring = \"strict\""),
            appending: """

                [monitoring]
                error_rate = "0.01"
                latency_p95_ms = true
                scrape_interval_s = 1.5
                min_samples = "100"
                """)
        let problems = fixture.problems()
        #expect(problems.map(\.message) == [
            "wrangler.toml: monitoring.error_rate: expected number, got string \"0.01\"",
            "wrangler.toml: monitoring.latency_p95_ms: expected number, got boolean true",
            "wrangler.toml: monitoring.scrape_interval_s: expected integer, got float 1.5",
            "wrangler.toml: monitoring.min_samples: expected integer, got string \"100\"",
            "wrangler.toml: env.staging.monitoring: expected table, got string \"strict\"",
        ])
        #expect(Set(problems.map(\.code)) == [.wrongType])
    }

    @Test("A [monitoring] that is not a table is a type error")
    func monitoringNotATable() throws {
        let fixture = try ConfigFixture(wrangler: "monitoring = 5\n" + ConfigFixture.minimalWrangler)
        #expect(fixture.messages() == ["wrangler.toml: monitoring: expected table, got integer 5"])
    }

    @Test("Every problem in both tables is collected in one load, top level first")
    func everyProblemCollected() throws {
        let fixture = try ConfigFixture(
            appending: """

                [monitoring]
                error_rate = -1
                block_rate = 3
                min_samples = 0
                alert_windows = 300

                [env.staging.monitoring]
                latency_p95_ms = 0
                scrape_interval_s = 0
                """)
        #expect(fixture.messages(environment: "staging", process: ConfigFixture.secrets) == [
            "wrangler.toml: monitoring.error_rate: must be in 0...1, got -1",
            "wrangler.toml: monitoring.block_rate: must be in 0...1, got 3",
            "wrangler.toml: monitoring.min_samples: must be a positive integer, got 0",
            "wrangler.toml: monitoring.alert_windows: unknown key, did you mean \"alert_window_s\"?",
            "wrangler.toml: env.staging.monitoring.latency_p95_ms: must be a positive number of ms, got 0",
            "wrangler.toml: env.staging.monitoring.scrape_interval_s: must be a positive integer, got 0",
        ])
    }

    @Test("An invalid environment table is reported whichever environment is selected")
    func otherEnvironmentsChecked() throws {
        let fixture = try ConfigFixture(appending: "\n[env.production.monitoring]\nblock_rate = -0.2\n")
        #expect(fixture.messages(environment: "development") == [
            "wrangler.toml: env.production.monitoring.block_rate: must be in 0...1, got -0.2"
        ])
    }
}
