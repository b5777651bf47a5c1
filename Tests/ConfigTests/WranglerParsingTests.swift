import Foundation
import Testing

@testable import Config

@Suite("wrangler.toml sections and file errors")
struct WranglerParsingTests {
    @Test("The seed's sections load: bindings, migrations, vars, environments and routes")
    func seedShape() throws {
        let fixture = try ConfigFixture(
            wrangler: """
                name = "rate-limit"
                main = "src/index.ts"
                compatibility_date = "2024-01-22"

                [durable_objects]
                bindings = [
                  { name = "RATE_LIMIT", class_name = "RateLimitDO" }
                ]

                [[migrations]]
                tag = "v1"
                new_classes = ["RateLimitDO", "Old"]

                [[migrations]]
                tag = "v2"
                renamed_classes = [{ from = "Old", to = "New" }]
                deleted_classes = ["New"]

                [env.production]
                vars = { ENVIRONMENT = "production" }
                routes = [
                  { pattern = "api.example.com/*", zone_id = "z1" }
                ]

                [env.staging]
                vars = { ENVIRONMENT = "staging" }
                routes = ["staging-api.example.com/*"]
                """)
        let wrangler = try fixture.load().wrangler

        #expect(wrangler.name == "rate-limit")
        #expect(wrangler.main == "src/index.ts")
        #expect(wrangler.compatibilityDate == "2024-01-22")
        #expect(wrangler.durableObjectBindings == [.init(name: "RATE_LIMIT", className: "RateLimitDO")])
        #expect(wrangler.migrations == [
            .init(tag: "v1", newClasses: ["RateLimitDO", "Old"]),
            .init(tag: "v2", renamedClasses: [.init(from: "Old", to: "New")], deletedClasses: ["New"]),
        ])
        #expect(wrangler.environments["production"] == .init(
            vars: ["ENVIRONMENT": "production"], routes: [.init(pattern: "api.example.com/*", zoneID: "z1")]))
        #expect(wrangler.environments["staging"]?.routes == [.init(pattern: "staging-api.example.com/*")])
        #expect(wrangler.environmentNames == ["development", "production", "staging"])
    }

    @Test("A bare TOML date is accepted as the compatibility date")
    func bareDate() throws {
        let fixture = try ConfigFixture(
            wrangler: ConfigFixture.minimalWrangler.replacingOccurrences(
                of: "compatibility_date = \"2024-01-22\"", with: "compatibility_date = 2024-01-22"))
        #expect(try fixture.load().wrangler.compatibilityDate == "2024-01-22")
    }

    @Test("A malformed compatibility date names the key")
    func malformedDate() throws {
        let fixture = try ConfigFixture(
            wrangler: ConfigFixture.minimalWrangler.replacingOccurrences(
                of: "\"2024-01-22\"", with: "\"January 2024\""))
        #expect(fixture.messages() == [
            "wrangler.toml: compatibility_date: expected YYYY-MM-DD, got \"January 2024\""
        ])
    }

    @Test("A TOML syntax error names the file and line")
    func syntaxError() throws {
        let fixture = try ConfigFixture(wrangler: "name = \"x\"\nmain = \"y\"\nlimit = = 3\n")
        let problems = fixture.problems()
        #expect(problems.count == 1)
        #expect(problems.first?.code == .syntax)
        let message = try #require(problems.first?.message)
        #expect(message.hasPrefix("wrangler.toml: line 3, column "), "\(message)")
        #expect(message.contains("TOML syntax error"))
    }

    @Test("A missing wrangler.toml is one error naming the path")
    func missingFile() throws {
        let fixture = try ConfigFixture(wrangler: nil)
        let problems = fixture.problems()
        #expect(problems.map(\.code) == [.fileUnreadable])
        #expect(problems.first?.message == "wrangler.toml: file not found at \(fixture.wranglerPath)")
    }

    @Test("Wrong types in top-level keys are named")
    func wrongTopLevelTypes() throws {
        let fixture = try ConfigFixture(
            wrangler: "ratelimits = \"none\"\n"
                + ConfigFixture.minimalWrangler.replacingOccurrences(of: "name = \"fixture\"", with: "name = 3"))
        #expect(fixture.messages() == [
            "wrangler.toml: name: expected string, got integer 3",
            "wrangler.toml: ratelimits: expected array, got string \"none\"",
        ])
    }

    @Test("Unknown top-level keys are ignored, as wrangler ignores keys it does not use here")
    func unknownKeysIgnored() throws {
        let fixture = try ConfigFixture(appending: "\nworkers_dev = true\n[observability]\nenabled = true\n")
        #expect(fixture.messages() == [])
    }

    @Test("A migration with an empty tag is an error")
    func emptyTag() throws {
        let fixture = try ConfigFixture(appending: "\n[[migrations]]\ntag = \"\"\n")
        #expect(fixture.messages() == ["wrangler.toml: migrations[1].tag: must not be empty"])
        #expect(fixture.problems().first?.code == .invalidMigration)
    }

    @Test("A duplicate migration tag points at the first")
    func duplicateTag() throws {
        let fixture = try ConfigFixture(appending: "\n[[migrations]]\ntag = \"v1\"\nnew_classes = [\"Other\"]\n")
        #expect(fixture.messages() == ["wrangler.toml: migrations[1].tag: duplicate tag \"v1\" (first at migrations[0])"])
    }

    @Test("Renaming or deleting a class that does not exist is an error")
    func impossibleSteps() throws {
        let fixture = try ConfigFixture(
            appending: """

                [[migrations]]
                tag = "v2"
                renamed_classes = [{ from = "Ghost", to = "Spirit" }]
                deleted_classes = ["Nobody"]
                """)
        #expect(fixture.messages() == [
            "wrangler.toml: migrations[1].renamed_classes[0]: cannot rename \"Ghost\": no such class",
            "wrangler.toml: migrations[1].deleted_classes: cannot delete \"Nobody\": no such class",
        ])
    }

    @Test("A binding whose class no migration creates is an error naming the binding")
    func bindingWithoutMigration() throws {
        let fixture = try ConfigFixture(
            wrangler: """
                [durable_objects]
                bindings = [
                  { name = "RATE_LIMIT", class_name = "RateLimitDO" },
                  { name = "OTHER", class_name = "Missing" },
                ]

                [[migrations]]
                tag = "v1"
                new_classes = ["RateLimitDO"]
                """)
        #expect(fixture.messages() == [
            "wrangler.toml: durable_objects.bindings[1].class_name: "
                + "class \"Missing\" is never created by [[migrations]] (add it to new_classes)"
        ])
        #expect(fixture.problems().first?.code == .bindingClassMissing)
    }

    @Test("A binding to a class a later migration deletes names that migration")
    func bindingToDeletedClass() throws {
        let fixture = try ConfigFixture(appending: "\n[[migrations]]\ntag = \"v2\"\ndeleted_classes = [\"RateLimitDO\"]\n")
        #expect(fixture.messages() == [
            "wrangler.toml: durable_objects.bindings[0].class_name: class \"RateLimitDO\" is deleted by migrations[1]"
        ])
    }

    @Test("A renamed class satisfies bindings under its new name")
    func renamedClass() throws {
        let fixture = try ConfigFixture(
            wrangler: """
                [durable_objects]
                bindings = [{ name = "RATE_LIMIT", class_name = "Limiter" }]

                [[migrations]]
                tag = "v1"
                new_classes = ["RateLimitDO"]

                [[migrations]]
                tag = "v2"
                renamed_classes = [{ from = "RateLimitDO", to = "Limiter" }]
                """)
        #expect(fixture.messages() == [])
    }

    @Test("Duplicate binding names are an error")
    func duplicateBinding() throws {
        let fixture = try ConfigFixture(
            wrangler: ConfigFixture.minimalWrangler.replacingOccurrences(
                of: "bindings = [{ name = \"RATE_LIMIT\", class_name = \"RateLimitDO\" }]",
                with: "bindings = [{ name = \"RATE_LIMIT\", class_name = \"RateLimitDO\" }, "
                    + "{ name = \"RATE_LIMIT\", class_name = \"RateLimitDO\" }]"))
        #expect(fixture.messages() == [
            "wrangler.toml: durable_objects.bindings[1].name: duplicate binding name \"RATE_LIMIT\" "
                + "(first at durable_objects.bindings[0])"
        ])
    }

    @Test("An [env] section's ENVIRONMENT var must name the section")
    func mismatchedEnvironmentVar() throws {
        let fixture = try ConfigFixture(
            wrangler: ConfigFixture.minimalWrangler.replacingOccurrences(
                of: "vars = { ENVIRONMENT = \"production\" }", with: "vars = { ENVIRONMENT = \"staging\" }"))
        #expect(fixture.messages() == [
            "wrangler.toml: env.production.vars.ENVIRONMENT: must be \"production\" in this section, got \"staging\""
        ])
    }
}
