import LimiterCore
import Testing

@testable import Config

@Suite("Environment selection and variables")
struct EnvironmentTests {
    @Test("development is selected by default and needs no [env.development] section")
    func developmentImplicit() throws {
        let config = try ConfigFixture().load()
        #expect(config.environment == "development")
        #expect(config.runtime.environment == "development")
        #expect(config.wrangler.environments["development"] == nil)
    }

    @Test("The explicit environment beats ENVIRONMENT, which beats the default")
    func selectionPrecedence() throws {
        let fixture = try ConfigFixture()
        var process = ConfigFixture.secrets
        process["ENVIRONMENT"] = "staging"
        #expect(try fixture.load(process: process).environment == "staging")
        #expect(try fixture.load(environment: "production", process: process).environment == "production")
        process["ENVIRONMENT"] = ""
        #expect(try fixture.load(process: process).environment == "development")
    }

    @Test("An unknown environment lists the ones wrangler.toml has")
    func unknownEnvironment() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems(environment: "prod", process: ConfigFixture.secrets)
        #expect(problems.map(\.message) == [
            "unknown environment \"prod\" (wrangler.toml has: development, production, staging)"
        ])
        #expect(problems.first?.code == .unknownEnvironment)
    }

    @Test("Staging and production require MONITORING_TOKEN and ALERT_WEBHOOK_URL", arguments: ["staging", "production"])
    func requiredSecrets(environment: String) throws {
        let fixture = try ConfigFixture()
        #expect(fixture.messages(environment: environment) == [
            "Missing required env var: MONITORING_TOKEN",
            "Missing required env var: ALERT_WEBHOOK_URL",
        ])
        #expect(fixture.problems(environment: environment).allSatisfy { $0.code == .missingEnvironmentVariable })
        #expect(
            fixture.messages(environment: environment, process: ["MONITORING_TOKEN": "", "ALERT_WEBHOOK_URL": "https://x.example"])
                == ["Missing required env var: MONITORING_TOKEN"],
            "an empty value counts as missing, as the seed's `!process.env[v]`")
        let config = try fixture.load(environment: environment, process: ConfigFixture.secrets)
        #expect(config.runtime.monitoringToken == "mon-secret-abcd")
    }

    @Test("Development runs without the monitoring secrets")
    func developmentNeedsNoSecrets() throws {
        let config = try ConfigFixture().load()
        #expect(config.runtime.monitoringToken == nil)
        #expect(config.runtime.alertWebhookURL == nil)
    }

    @Test("The process environment beats [env.X].vars, which beat [vars], which beat defaults")
    func variablePrecedence() throws {
        let fixture = try ConfigFixture(
            wrangler: ConfigFixture.minimalWrangler.replacingOccurrences(
                of: "vars = { ENVIRONMENT = \"staging\" }",
                with: "vars = { ENVIRONMENT = \"staging\", DEFAULT_RATE_LIMIT = \"20\", DEFAULT_WINDOW = 30 }")
                + "\n[vars]\nDEFAULT_RATE_LIMIT = \"10\"\nADMIN_TOKEN = \"top-level-admin\"\n")

        let development = try fixture.load()
        #expect(development.runtime.defaultRateLimit == 10, "[vars] over the default 100")
        #expect(development.runtime.defaultWindow == 60, "default")

        let staging = try fixture.load(environment: "staging", process: ConfigFixture.secrets)
        #expect(staging.runtime.defaultRateLimit == 20, "[env.staging].vars over [vars]")
        #expect(staging.runtime.defaultWindow == 30, "an integer var is accepted")
        #expect(staging.runtime.adminToken == "top-level-admin", "[vars] still applies under staging")

        var process = ConfigFixture.secrets
        process["DEFAULT_RATE_LIMIT"] = "40"
        let overridden = try fixture.load(environment: "staging", process: process)
        #expect(overridden.runtime.defaultRateLimit == 40, "process over [env.staging].vars")
    }

    @Test("A version records wrangler.toml's vars for its environment, [env.X].vars over [vars], without tokens or the process environment")
    func versionVars() throws {
        let fixture = try ConfigFixture(
            wrangler: ConfigFixture.minimalWrangler.replacingOccurrences(
                of: "vars = { ENVIRONMENT = \"staging\" }",
                with: "vars = { ENVIRONMENT = \"staging\", DEFAULT_RATE_LIMIT = \"20\", REGION = \"eu\" }")
                + "\n[vars]\nDEFAULT_RATE_LIMIT = \"10\"\nTEAM = \"edge\"\nADMIN_TOKEN = \"top-level-admin\"\n"
                + "ALERT_WEBHOOK_URL = \"https://hooks.example.com/T0/B0/secret\"\n")
        var process = ConfigFixture.secrets
        process["DEFAULT_WINDOW"] = "5"
        let staging = try fixture.load(environment: "staging", process: process)
        #expect(staging.versionVars == ["ENVIRONMENT": "staging", "DEFAULT_RATE_LIMIT": "20", "REGION": "eu", "TEAM": "edge"])
        #expect(try fixture.load().versionVars == ["ENVIRONMENT": "development", "DEFAULT_RATE_LIMIT": "10", "TEAM": "edge"])
    }

    @Test("The default rule is sliding_window with DEFAULT_RATE_LIMIT per DEFAULT_WINDOW")
    func defaultRule() throws {
        let fixture = try ConfigFixture()
        #expect(try fixture.load().rules["default"]
            == Rule(name: "default", namespaceID: "default", limit: 100, periodSeconds: 60, algorithm: .slidingWindow))
        let tuned = try fixture.load(process: ["DEFAULT_RATE_LIMIT": "5", "DEFAULT_WINDOW": "10"])
        #expect(tuned.rules["default"]
            == Rule(name: "default", namespaceID: "default", limit: 5, periodSeconds: 10, algorithm: .slidingWindow))
    }

    @Test("Malformed numbers in the environment are errors, never NaN or 0",
          arguments: ["abc", "12abc", "1.5", "", "-3", "0", " 60", "+5"])
    func malformedNumber(text: String) throws {
        let fixture = try ConfigFixture()
        #expect(fixture.messages(process: ["DEFAULT_RATE_LIMIT": text]) == [
            "environment: DEFAULT_RATE_LIMIT: not a positive integer: \"\(text)\""
        ])
        #expect(fixture.problems(process: ["DEFAULT_WINDOW": text]).map(\.key) == ["DEFAULT_WINDOW"])
        #expect(fixture.problems(process: ["DEFAULT_WINDOW": text]).first?.code == .malformedNumber)
    }

    @Test("A malformed number in wrangler.toml vars names the file and key")
    func malformedNumberInVars() throws {
        let fixture = try ConfigFixture(appending: "\n[vars]\nDEFAULT_WINDOW = \"sixty\"\n")
        #expect(fixture.messages() == ["wrangler.toml: vars.DEFAULT_WINDOW: not a positive integer: \"sixty\""])
    }

    @Test("A number too large to be a limit is out of range")
    func tooLarge() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems(process: ["DEFAULT_RATE_LIMIT": "99999999999999999999999"])
        #expect(problems.map(\.code) == [.outOfRange])
        #expect(problems.first?.message.hasPrefix("environment: DEFAULT_RATE_LIMIT: must be at most ") == true)
    }

    @Test("ALERT_WEBHOOK_URL must be an http(s) URL",
          arguments: ["hooks.example.com/x", "ftp://hooks.example.com/x", "https://", "not a url"])
    func invalidWebhook(url: String) throws {
        let fixture = try ConfigFixture()
        #expect(fixture.messages(process: ["ALERT_WEBHOOK_URL": url]) == [
            "environment: ALERT_WEBHOOK_URL: not an http(s) URL: \"\(url)\""
        ])
    }

    @Test("Secrets print masked")
    func masking() {
        #expect(RuntimeEnvironment.mask("mon-secret-abcd") == "****abcd")
        #expect(RuntimeEnvironment.mask("short") == "(set)")
        #expect(RuntimeEnvironment.mask(nil) == "(unset)")
        let runtime = RuntimeEnvironment(
            environment: "production", monitoringToken: "mon-secret-abcd",
            alertWebhookURL: "https://hooks.example.com/services/T000/SECRETPATH", adminToken: "admin-token-9876")
        let printed = "\(runtime)"
        #expect(printed.contains("MONITORING_TOKEN = ****abcd"))
        #expect(printed.contains("ADMIN_TOKEN = ****9876"))
        #expect(printed.contains("ALERT_WEBHOOK_URL = https://hooks.example.com/****"))
        #expect(!printed.contains("mon-secret"))
        #expect(!printed.contains("SECRETPATH"))
    }
}
