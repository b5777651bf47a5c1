import Foundation
import JSONCore
import NodeServer
import TestSupport
import Testing

/// The coordinator's `GET /dashboard` (DESIGN §8) in a real browser: three
/// nodes and a coordinator on loopback, checks sent from the test, a canary
/// rolled out, and the page loaded in headless Chromium, which runs its
/// script against the live `/api/summary`.
@Suite("Dashboard: the coordinator's page in a headless browser", .serialized)
struct DashboardTests {
    /// The canary the test rolls out: the default rules with API ten times
    /// looser, so its steps pass and it stays in service while the page is read.
    static let canaryRules = NodeProcessCluster.defaultRules.replacingOccurrences(
        of: "simple = { limit = 100, period = 60 }", with: "simple = { limit = 1000, period = 60 }")

    /// What the browser was shown, and the summary the test read just before.
    struct Seen {
        var summary: JSONValue
        var dom: String
        var screenshot: HeadlessChromium.PNGSummary
    }

    @Test("the page is self-contained and, in a browser, shows live data: members alive, stable and canary, the judged step, a line per version, the update time")
    func dashboardShowsLiveClusterData() async throws {
        let started = ContinuousClock.now
        let cluster = try NodeProcessCluster(nodeCount: 3, coordinator: true)
        let browser = try HeadlessChromium(directory: cluster.directory)
        try await cluster.startWithCoordinator()
        let stable = try await cluster.deployment(on: "n1").stable

        // Given the page as served: one HTML document, nothing to load from elsewhere.
        let page = try await cluster.coordinatorRequest(.GET, "/dashboard", token: nil)
        #expect(page.status == 200, "\(page.status) \(page.text.prefix(500))")
        #expect(page.header("content-type") == "text/html; charset=utf-8")
        for reference in ["<script src", "<link", "<img", "<iframe", "@import", "url("] {
            #expect(!page.text.contains(reference), "the page loads something with \(reference)")
        }

        // When a canary is rolled out under load and its first step judged,
        let url = "http://127.0.0.1:\(cluster.coordinatorPort)/dashboard"
        // 30 keys: some reach API's limit of 100 a minute, so the blocked chart has a line above 0.
        let load = CheckLoad(cluster: cluster, keyPrefix: "dashboard", keyCount: 30)
        let (seen, tally) = try await load.during { () async throws -> Seen in
            try cluster.writeRules(Self.canaryRules)
            // 10 s a step: the page is read while the canary serves.
            let deploy = try cluster.launch(["deploy", "--gradual", "--duration", "50s", "--message", "dashboard test"])
            let summary = try await Self.firstJudgedStep(cluster, deploy: deploy)
            // then the browser, polling /api/summary for 8 s of virtual time, shows it.
            let dom = try await browser.dumpDOM(url)
            let screenshot = try await browser.screenshot(url, to: cluster.directory + "/dashboard.png")
            return Seen(summary: summary, dom: dom, screenshot: screenshot)
        }
        let canary = try #require(seen.summary[member: "deployment"]?[member: "canary"]?.string, "\(seen.summary)")
        let firstStep = try #require(seen.summary[member: "rollout"]?[member: "steps"]?.array?.first, "\(seen.summary)")
        let dom = seen.dom
        let context = "\(tally)\n\(dom.prefix(20_000))"

        // Title, and the update time set from a summary no older than the test's.
        #expect(dom.contains("<title>Rate Limiting</title>") && dom.contains("<h1>Rate Limiting</h1>"), "\(context)")
        let updated = try #require(dom.firstMatch(of: #/<main id="dashboard"[^>]* data-updated="(\d+)"/#).flatMap { Int64($0.1) },
                                   "no data-updated on #dashboard: \(context)")
        #expect(updated >= seen.summary[member: "at_ms"]?.int ?? .max, "\(updated) vs \(seen.summary[member: "at_ms"] as Any)")
        #expect(dom.contains(#"<body data-state="ok">"#) && dom.contains(#"<div id="error" role="alert" hidden="">"#),
                "the error banner shows: \(context)")

        // Members: every node alive, with its share of the ring.
        let members = Self.element("members", in: dom)
        let alive = Set(members.matches(of: #/<tr data-member="(n\d+)" data-status="alive">/#).map { String($0.1) })
        #expect(alive == ["n1", "n2", "n3"], "\(members)")
        #expect(members.matches(of: #/\d+(\.\d+)? %/#).count >= 3, "no ring shares: \(members)")

        // The rollout: stable, canary, and the judged step with its verdict.
        let rollout = Self.element("rollout", in: dom)
        #expect(rollout.contains(#"data-field="stable"><code>\#(stable)</code>"#), "\(rollout)")
        #expect(rollout.contains("<code>\(canary)</code>") && canary != stable, "\(rollout)")
        let outcome = firstStep[member: "outcome"]?.string ?? "?"
        #expect(rollout.contains(#"<li data-outcome="\#(outcome)" data-percent="10">"#), "\(rollout)")
        #expect(rollout.contains("10%: samples "), "no verdict summary: \(rollout)")

        // Charts: a line per version, stable and canary told apart in the legend.
        let legend = Self.element("legend", in: dom)
        #expect(legend.contains(#"data-version="\#(stable)" data-role="stable""#)
            && legend.contains(#"data-version="\#(canary)" data-role="canary""#), "\(legend)")
        for chart in ["chart-requests", "chart-blocked", "chart-latency", "chart-errors"] {
            let section = Self.element(chart, in: dom)
            let points = section.firstMatch(of: #/data-points="(\d+)"/#).flatMap { Int($0.1) } ?? 0
            #expect(points >= 4, "\(chart) drew \(points) points: \(section.prefix(3000))")
        }
        let requests = Self.element("chart-requests", in: dom)
        let lines = requests.matches(of: #/<path class="series (\w+)" d="(M[^"]+)"[^>]* data-version="(v-[0-9a-f]+)"/#)
        let lineVersions = Set(lines.filter { $0.2.contains(" L") }.map { String($0.3) })
        #expect(lineVersions.isSuperset(of: [stable, canary]), "lines for \(lineVersions): \(requests.prefix(3000))")
        #expect(requests.contains(">req/s</text>"), "no unit on the requests axis")

        // Alerts: the list was drawn (none firing, or each firing alert's row).
        let alerts = Self.element("alerts", in: dom)
        #expect(alerts.contains("No alerts firing") || alerts.contains("data-alert="), "\(alerts)")

        // The screenshot: the whole window, and far more drawn than a blank page.
        let blank = try await browser.screenshot("about:blank", to: cluster.directory + "/blank.png", virtualTimeMs: 500)
        #expect(seen.screenshot.width == 1280 && seen.screenshot.height == 900, "\(seen.screenshot)")
        #expect(seen.screenshot.byteCount > max(20_000, blank.byteCount * 4), "\(seen.screenshot) vs blank \(blank)")

        // Offline (opened from a file, /api/summary unreachable) the page
        // still lays itself out and says it cannot fetch the summary.
        let file = cluster.directory + "/dashboard-offline.html"
        try page.text.write(toFile: file, atomically: true, encoding: .utf8)
        let offline = try await browser.dumpDOM("file://" + file, virtualTimeMs: 3000)
        #expect(offline.contains(#"<body data-state="error">"#) && offline.contains("Cannot fetch /api/summary"), "\(offline.prefix(5000))")
        let skeleton = try await browser.screenshot("file://" + file, to: cluster.directory + "/offline.png", virtualTimeMs: 3000)
        #expect(seen.screenshot.byteCount > skeleton.byteCount * 6 / 5, "live \(seen.screenshot) vs no data \(skeleton)")

        if let keep = ProcessInfo.processInfo.environment["DASHBOARD_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: cluster.directory + "/dashboard.png", toPath: keep)
        }
        print("dashboard test: \(tally); screenshot \(seen.screenshot), blank \(blank), offline \(skeleton); took \(ContinuousClock.now - started)")
        await cluster.stopAll()
    }

    /// The summary once the gradual rollout's first step is judged and the
    /// canary still serves; fails early if `deploy` exits before that.
    static func firstJudgedStep(_ cluster: NodeProcessCluster, deploy: TestProcess) async throws -> JSONValue {
        var judged: JSONValue?
        try await cluster.eventually(within: .seconds(40), "the rollout's first step judged, the canary serving") {
            guard let summary = try? await cluster.coordinatorRequest(.GET, "/api/summary", token: nil).json else { return false }
            if !deploy.isRunning, summary[member: "deployment"]?[member: "canary"]?.string == nil {
                throw TestFailure("deploy ended before the page was read:\n\(deploy.output)\n\(summary)")
            }
            guard summary[member: "rollout"]?[member: "steps"]?.array?.isEmpty == false,
                  summary[member: "deployment"]?[member: "canary"]?.string != nil else { return false }
            judged = summary
            return true
        }
        return judged!
    }

    /// The `<section id="ID">` element's markup in `dom`, up to its end
    /// (the page's sections do not nest inside the ones read here).
    static func element(_ id: String, in dom: String) -> Substring {
        guard let start = dom.range(of: #"id="\#(id)""#) else { return "" }
        let rest = dom[start.lowerBound...]
        return rest[..<(rest.range(of: "</section>")?.upperBound ?? rest.endIndex)]
    }
}
