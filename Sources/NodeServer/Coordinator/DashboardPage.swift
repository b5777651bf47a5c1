/// The page the coordinator serves at `GET /dashboard` (DESIGN §8): the
/// seed's "Rate Limiting" dashboard as one self-contained HTML document.
///
/// Users may be offline, so nothing is loaded from elsewhere: the CSS and the
/// script are inline, and the charts are inline SVG drawn by the script. The
/// script polls the open `GET /api/summary` every 2 s (one request at a
/// time) and draws the four seed metrics per version (requests/s, blocked/s,
/// p95 ms, errors/s), the members, the rollout with its judged steps and the
/// firing alerts. Every value from the summary is set as text, never parsed
/// as HTML. Stable hooks for tests and scrapers: `#dashboard[data-updated]`
/// (the summary's `at_ms` after each successful refresh), `#chart-requests`
/// and its siblings (`data-points`, one `path.series[data-version]` per
/// version), `#members tbody tr[data-status]`, `#rollout [data-field]`,
/// `#steps li[data-outcome]`, `#alerts tr[data-alert]`, and `#error`, shown
/// while the summary cannot be fetched.
enum DashboardPage {
    static let html: String = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Rate Limiting</title>
    <style>
      :root {
        --bg: #f5f6f8; --panel: #ffffff; --ink: #1d2330; --muted: #5f6b7a; --line: #e2e6eb; --grid: #eef1f4;
        --stable: #2563eb; --canary: #e8590c; --ok: #2b8a3e; --warn: #d97706; --bad: #c92a2a;
      }
      * { box-sizing: border-box; }
      body { margin: 0; background: var(--bg); color: var(--ink);
             font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
      code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
      h1 { margin: 0; font-size: 20px; }
      h2 { margin: 0; font-size: 15px; }
      .topbar { display: flex; align-items: center; gap: 12px; padding: 12px 24px;
                background: var(--panel); border-bottom: 1px solid var(--line); }
      .topbar .env { padding: 2px 10px; border-radius: 999px; background: #e7f0ff; color: #1c4fbf; font-weight: 600; }
      .topbar #updated { margin-left: auto; color: var(--muted); }
      #error { margin: 12px 24px 0; padding: 10px 14px; border-radius: 6px;
               background: #fff0f0; border: 1px solid #f2b8b8; color: var(--bad); font-weight: 500; }
      main { display: grid; grid-template-columns: minmax(0, 1fr) 410px; gap: 14px; padding: 14px 24px 24px; align-items: start; }
      .column { display: grid; gap: 14px; min-width: 0; }
      @media (max-width: 1100px) { main { grid-template-columns: minmax(0, 1fr); } }
      main.stale .chart svg, main.stale .tiles { opacity: 0.55; }
      .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
      .panel-head { display: flex; align-items: baseline; gap: 10px; margin-bottom: 8px; }
      .panel-head .note { color: var(--muted); font-size: 12.5px; }
      .tiles { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 14px; }
      .tile { padding: 8px 14px; }
      .tile .label { color: var(--muted); font-size: 12.5px; }
      .tile .value { font-size: 20px; font-weight: 600; white-space: nowrap; }
      .tile .value small { font-size: 13px; font-weight: 400; color: var(--muted); margin-left: 3px; }
      #legend { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 22px; }
      #legend .title { color: var(--muted); }
      .legend-item { display: inline-flex; align-items: center; gap: 7px; }
      .swatch { width: 18px; height: 4px; border-radius: 2px; display: inline-block; }
      .charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 14px; }
      .chart { padding: 10px 14px 6px; }
      .chart .panel-head { margin-bottom: 0; }
      .chart h2 { white-space: nowrap; }
      .chart .latest { margin-left: auto; display: flex; gap: 12px; white-space: nowrap; font-variant-numeric: tabular-nums; }
      .chart .dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 4px; }
      .chart .metric { color: var(--muted); font-size: 12px; }
      .chart svg { display: block; width: 100%; height: 200px; }
      .chart text { font-size: 11px; fill: var(--muted); }
      .chart .grid { stroke: var(--grid); }
      .chart .axis { stroke: #c7ced6; }
      .chart .series { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
      table { width: 100%; border-collapse: collapse; }
      th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12.5px; border-bottom: 1px solid var(--line); padding: 4px 6px; }
      td { padding: 5px 6px; border-bottom: 1px solid var(--grid); vertical-align: middle; }
      th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
      .share { display: flex; align-items: center; gap: 8px; justify-content: flex-end; white-space: nowrap; }
      .bar { width: 70px; height: 6px; background: var(--grid); border-radius: 3px; overflow: hidden; }
      .bar > span { display: block; height: 100%; background: var(--stable); }
      .bar.wide { width: 100%; height: 8px; }
      .bar.wide > span { background: var(--canary); }
      .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600;
               background: #eef1f4; color: var(--muted); }
      .badge.alive, .badge.passed, .badge.completed { background: #e6f6ea; color: var(--ok); }
      .badge.suspect, .badge.extended, .badge.warning, .badge.canary { background: #fff3e0; color: #b45309; }
      .badge.dead, .badge.failed, .badge.critical, .badge.rolled-back { background: #ffe9e9; color: var(--bad); }
      .badge.stable { background: #e7f0ff; color: #1c4fbf; }
      dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 5px 14px; margin: 0 0 10px; }
      dl.facts dt { color: var(--muted); }
      dl.facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
      #steps { list-style: none; margin: 0; padding: 0; display: grid; gap: 6px; }
      #steps li { border-left: 3px solid var(--line); padding: 2px 0 2px 10px; }
      #steps li[data-outcome="passed"] { border-color: var(--ok); }
      #steps li[data-outcome="extended"] { border-color: var(--warn); }
      #steps li[data-outcome="failed"] { border-color: var(--bad); }
      #steps .summary { color: var(--muted); font-size: 12.5px; margin-left: 4px; }
      .ending { margin: 10px 0 0; font-weight: 500; }
      .none { color: var(--muted); margin: 4px 0; }
      .alert-row td { vertical-align: top; }
      .since { color: var(--muted); font-size: 12.5px; }
    </style>
    </head>
    <body>
    <header class="topbar">
      <h1>Rate Limiting</h1>
      <span class="env" id="environment">…</span>
      <span id="updated">Waiting for the first update…</span>
    </header>
    <div id="error" role="alert" hidden></div>
    <main id="dashboard">
      <div class="column">
        <section class="tiles" id="totals" aria-label="Cluster-wide figures over the alert window">
          <div class="panel tile" data-total="requests_per_s"><div class="label">Requests</div><div class="value">–</div></div>
          <div class="panel tile" data-total="blocked_per_s"><div class="label">Blocked</div><div class="value">–</div></div>
          <div class="panel tile" data-total="block_rate"><div class="label">Block rate</div><div class="value">–</div></div>
          <div class="panel tile" data-total="p95_ms"><div class="label">Latency p95</div><div class="value">–</div></div>
          <div class="panel tile" data-total="errors_per_s"><div class="label">Errors</div><div class="value">–</div></div>
        </section>
        <section class="panel" id="legend" aria-label="Versions"><span class="title">Versions</span></section>
        <section class="charts">
          <section class="panel chart" id="chart-requests" data-metric="requests_per_s" data-unit="req/s">
            <div class="panel-head"><h2>Requests per second</h2><div class="latest"></div></div>
            <code class="metric">rate_limit.requests.total</code>
            <svg role="img" aria-label="Requests per second by version"></svg>
          </section>
          <section class="panel chart" id="chart-blocked" data-metric="blocked_per_s" data-unit="blocked/s">
            <div class="panel-head"><h2>Blocked per second</h2><div class="latest"></div></div>
            <code class="metric">rate_limit.requests.blocked</code>
            <svg role="img" aria-label="Blocked requests per second by version"></svg>
          </section>
          <section class="panel chart" id="chart-latency" data-metric="p95_ms" data-unit="ms">
            <div class="panel-head"><h2>Latency p95 (ms)</h2><div class="latest"></div></div>
            <code class="metric">rate_limit.latency.p95</code>
            <svg role="img" aria-label="95th percentile decision latency in milliseconds by version"></svg>
          </section>
          <section class="panel chart" id="chart-errors" data-metric="errors_per_s" data-unit="errors/s">
            <div class="panel-head"><h2>Errors per second</h2><div class="latest"></div></div>
            <code class="metric">rate_limit.errors.total</code>
            <svg role="img" aria-label="Errors per second by version"></svg>
          </section>
        </section>
      </div>
      <div class="column">
        <section class="panel" id="rollout">
          <div class="panel-head"><h2>Rollout</h2><span class="note" id="rollout-note"></span></div>
          <dl class="facts">
            <dt>Stable</dt><dd data-field="stable">–</dd>
            <dt>Canary</dt><dd data-field="canary">–</dd>
            <dt>Canary share</dt><dd data-field="percent">–</dd>
            <dt>State</dt><dd data-field="state">–</dd>
          </dl>
          <ol id="steps"></ol>
          <p class="ending" id="ending" hidden></p>
        </section>
        <section class="panel" id="alerts">
          <div class="panel-head"><h2>Alerts</h2><span class="note" id="alerts-note"></span></div>
          <div id="alerts-body"><p class="none">Waiting for the first update…</p></div>
        </section>
        <section class="panel" id="members">
          <div class="panel-head"><h2>Members</h2><span class="note" id="members-note"></span></div>
          <table>
            <thead><tr><th>Member</th><th>Role</th><th>Status</th><th class="num">Ring share</th></tr></thead>
            <tbody></tbody>
          </table>
        </section>
      </div>
    </main>
    <script>
    "use strict";
    // Polls /api/summary every 2 s and redraws from it; everything is drawn
    // here (inline SVG), so the page works with no network beyond its origin.
    const POLL_MS = 2000;
    const FETCH_TIMEOUT_MS = 5000;
    // Charts span at least this long, so a young cluster's lines do not stretch across the axis.
    const MIN_WINDOW_MS = 60000;
    const SVG_NS = "http://www.w3.org/2000/svg";
    const OTHER_COLORS = ["#7c3aed", "#0f766e", "#be185d", "#64748b", "#a16207"];

    let last = null;          // the latest summary drawn
    let lastSuccess = null;   // when it was fetched (browser clock)

    // ---- small DOM helpers (text always set as text, never parsed as HTML) ----
    function el(tag, attributes, ...children) {
      const node = document.createElement(tag);
      for (const [name, value] of Object.entries(attributes || {})) {
        if (value !== null && value !== undefined) node.setAttribute(name, value);
      }
      for (const child of children) {
        if (child !== null && child !== undefined) node.append(child);
      }
      return node;
    }
    function svg(tag, attributes, text) {
      const node = document.createElementNS(SVG_NS, tag);
      for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
      if (text !== undefined) node.textContent = text;
      return node;
    }
    function byId(id) { return document.getElementById(id); }

    // ---- formatting ----
    function number(value) {
      if (value === null || value === undefined || !Number.isFinite(value)) return "–";
      const size = Math.abs(value);
      const digits = size >= 100 ? 0 : size >= 10 ? 1 : size >= 1 ? 2 : size === 0 ? 0 : 3;
      return value.toLocaleString("en-US", { maximumFractionDigits: digits });
    }
    function percent(fraction) {
      return fraction === null || fraction === undefined ? "–" : number(fraction * 100) + " %";
    }
    function clock(ms) { return new Date(ms).toLocaleTimeString("en-GB", { hour12: false }); }
    function duration(ms) {
      const seconds = Math.max(0, Math.round(ms / 1000));
      if (seconds < 60) return seconds + " s";
      const minutes = Math.floor(seconds / 60);
      if (minutes < 60) return minutes + " min " + (seconds % 60) + " s";
      return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
    }
    // A step's verdict line is "10%: samples 527, error rate 0, ...: pass (why)";
    // the figures are shown, the whole line is the tooltip.
    function stepFigures(summary) {
      const match = /^\d+%: (.*?): \w+ \(.*\)$/.exec(summary);
      return match ? match[1] : summary;
    }
    // The rollout state is the coordinator's description; its epoch-ms instants read as clock times.
    function readableState(text) { return String(text).replace(/\b1\d{12}\b/g, (ms) => clock(Number(ms))); }

    // ---- versions: stable, canary, and older ones still in the series ----
    function versionsOf(summary) {
      const deployment = summary.deployment || {};
      const seen = new Set();
      for (const point of summary.series || []) for (const id of Object.keys(point.versions || {})) seen.add(id);
      const ordered = [];
      if (deployment.stable) ordered.push({ id: deployment.stable, role: "stable", color: "var(--stable)" });
      if (deployment.canary) ordered.push({ id: deployment.canary, role: "canary", color: "var(--canary)" });
      let next = 0;
      for (const id of [...seen].sort()) {
        if (id === deployment.stable || id === deployment.canary) continue;
        ordered.push({ id, role: "previous", color: OTHER_COLORS[next++ % OTHER_COLORS.length] });
      }
      return ordered;
    }

    function renderLegend(summary, versions) {
      const legend = byId("legend");
      const items = versions.map((version) => {
        const label = version.role === "canary" ? "canary " + (summary.deployment.percent ?? 0) + " %" : version.role;
        return el("span", { class: "legend-item", "data-version": version.id, "data-role": version.role },
          el("span", { class: "swatch", style: "background:" + version.color }),
          el("code", {}, version.id), el("span", { class: "badge " + version.role }, label));
      });
      legend.replaceChildren(el("span", { class: "title" }, "Versions"), ...items);
    }

    // ---- charts ----
    function niceScale(max) {
      if (!(max > 0)) return { top: 1, step: 0.25 };
      const raw = max / 4;
      const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
      const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
      return { top: Math.ceil(max / step - 1e-9) * step, step };
    }
    function timeStep(spanMs, maxTicks) {
      const steps = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((s) => s * 1000);
      return steps.find((s) => spanMs / s <= maxTicks) || steps[steps.length - 1];
    }

    function renderChart(section, summary, versions) {
      const key = section.dataset.metric;
      const unit = section.dataset.unit;
      const plot = section.querySelector("svg");
      const box = plot.getBoundingClientRect();
      const width = Math.max(280, Math.round(box.width));
      const height = Math.max(120, Math.round(box.height));
      const margin = { left: 56, right: 14, top: 10, bottom: 24 };
      const innerWidth = width - margin.left - margin.right;
      const innerHeight = height - margin.top - margin.bottom;
      plot.setAttribute("viewBox", "0 0 " + width + " " + height);

      const series = summary.series || [];
      const end = series.length ? series[series.length - 1].at_ms : summary.at_ms;
      const start = Math.min(series.length ? series[0].at_ms : end, end - MIN_WINDOW_MS);
      let max = 0;
      for (const point of series) {
        for (const figures of Object.values(point.versions || {})) {
          const value = figures[key];
          if (Number.isFinite(value)) max = Math.max(max, value);
        }
      }
      const scale = niceScale(max);
      const x = (ms) => margin.left + ((ms - start) / Math.max(1, end - start)) * innerWidth;
      const y = (value) => margin.top + innerHeight - (value / scale.top) * innerHeight;

      const nodes = [];
      for (let tick = 0; tick <= scale.top + scale.step / 2; tick += scale.step) {
        nodes.push(svg("line", { class: "grid", x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick) }));
        nodes.push(svg("text", { x: margin.left - 6, y: y(tick) + 4, "text-anchor": "end" }, number(tick)));
      }
      const stepMs = timeStep(end - start, Math.max(2, Math.floor(innerWidth / 75)));
      for (let tick = Math.ceil(start / stepMs) * stepMs; tick <= end; tick += stepMs) {
        nodes.push(svg("line", { class: "axis", x1: x(tick), x2: x(tick), y1: margin.top + innerHeight, y2: margin.top + innerHeight + 4 }));
        nodes.push(svg("text", { x: x(tick), y: height - 6, "text-anchor": "middle" }, clock(tick)));
      }
      nodes.push(svg("line", { class: "axis", x1: margin.left, x2: width - margin.right,
                               y1: margin.top + innerHeight, y2: margin.top + innerHeight }));
      nodes.push(svg("text", { transform: "translate(12 " + (margin.top + innerHeight / 2) + ") rotate(-90)",
                               "text-anchor": "middle" }, unit));

      // One path per version; a missing or null figure breaks the line, and a
      // point with no neighbour is drawn as a dot.
      let drawn = 0;
      const latest = [];
      for (const version of versions) {
        const segments = [];
        let segment = [];
        for (const point of series) {
          const figures = point.versions ? point.versions[version.id] : null;
          const value = figures ? figures[key] : null;
          if (!Number.isFinite(value)) { segment = []; continue; }
          if (segment.length === 0) segments.push(segment);
          segment.push([x(point.at_ms).toFixed(1), y(value).toFixed(1), value]);
          drawn += 1;
        }
        const lines = segments.filter((run) => run.length > 1);
        if (lines.length) {
          const d = lines.map((run) => "M" + run.map((xy) => xy[0] + " " + xy[1]).join(" L")).join(" ");
          nodes.push(svg("path", { class: "series " + version.role, d, style: "stroke:" + version.color,
                                   "data-version": version.id, "data-role": version.role }));
        }
        for (const single of segments.filter((run) => run.length === 1)) {
          nodes.push(svg("circle", { class: "point " + version.role, cx: single[0][0], cy: single[0][1], r: 3, style: "fill:" + version.color,
                                     "data-version": version.id }));
        }
        const newestPoint = series.length ? series[series.length - 1].versions || {} : {};
        if (newestPoint[version.id]) {
          const newest = newestPoint[version.id][key];
          latest.push(el("span", { title: version.id + " (" + version.role + "), latest, " + unit },
            el("span", { class: "dot", style: "background:" + version.color }), number(newest)));
        }
      }
      if (drawn === 0) {
        nodes.push(svg("text", { x: margin.left + innerWidth / 2, y: margin.top + innerHeight / 2, "text-anchor": "middle" },
                       "No data yet: waiting for scrapes"));
      }
      plot.replaceChildren(...nodes);
      section.dataset.points = String(drawn);
      section.querySelector(".latest").replaceChildren(...latest);
    }

    // ---- totals, members, rollout, alerts ----
    function renderTotals(totals) {
      const units = { requests_per_s: "req/s", blocked_per_s: "blocked/s", errors_per_s: "errors/s", p95_ms: "ms" };
      for (const tile of document.querySelectorAll("#totals [data-total]")) {
        const key = tile.dataset.total;
        const value = (totals || {})[key];
        const text = key === "block_rate" ? percent(value) : number(value);
        const valueNode = tile.querySelector(".value");
        valueNode.replaceChildren(text);
        if (units[key] && text !== "–") valueNode.append(el("small", {}, units[key]));
      }
    }

    function renderMembers(members) {
      const rows = members.map((member) => {
        const owns = member.role === "node";
        const share = Number.isFinite(member.ring_share) ? member.ring_share : 0;
        return el("tr", { "data-member": member.id, "data-status": member.status },
          el("td", {}, el("code", {}, member.id)),
          el("td", {}, member.role),
          el("td", {}, el("span", { class: "badge " + member.status }, member.status)),
          el("td", { class: "num" }, owns
            ? el("div", { class: "share" }, percent(share),
                el("div", { class: "bar" }, el("span", { style: "width:" + Math.min(100, share * 100).toFixed(1) + "%" })))
            : "–"));
      });
      byId("members").querySelector("tbody").replaceChildren(...rows);
      const nodes = members.filter((member) => member.role === "node");
      const alive = nodes.filter((member) => member.status === "alive").length;
      byId("members-note").textContent = alive + " of " + nodes.length + " nodes alive";
    }

    function renderRollout(deployment, rollout) {
      const box = byId("rollout");
      const field = (name) => box.querySelector('[data-field="' + name + '"]');
      field("stable").replaceChildren(el("code", {}, deployment.stable || "–"), " ", el("span", { class: "badge stable" }, "stable"));
      field("canary").replaceChildren(deployment.canary
        ? el("span", {}, el("code", {}, deployment.canary), " ", el("span", { class: "badge canary" }, "canary"))
        : el("span", { class: "none" }, "none"));
      const share = deployment.canary ? deployment.percent || 0 : 0;
      field("percent").replaceChildren(el("div", { class: "share" }, share + " %",
        el("div", { class: "bar wide" }, el("span", { style: "width:" + Math.min(100, share) + "%" }))));
      field("state").replaceChildren(readableState(rollout ? rollout.state : "idle"));
      byId("rollout-note").textContent = "epoch " + (deployment.epoch ?? "–");

      const steps = (rollout && rollout.steps) || [];
      byId("steps").replaceChildren(...steps.map((step) =>
        el("li", { "data-outcome": step.outcome, "data-percent": step.percent },
          el("span", { class: "badge" }, step.percent + " %"), " ",
          el("span", { class: "badge " + step.outcome }, step.outcome),
          el("span", { class: "summary", title: step.summary }, stepFigures(step.summary)))));
      if (steps.length === 0) {
        byId("steps").replaceChildren(el("li", { class: "none" },
          rollout && rollout.version ? "No step judged yet" : "No gradual rollout yet"));
      }
      const ending = byId("ending");
      const end = rollout && rollout.ending;
      ending.hidden = !end;
      if (end) {
        ending.dataset.outcome = end.outcome;
        ending.textContent =
          end.outcome === "completed" ? "Completed: " + end.version + " is stable" :
          end.outcome === "rolled-back" ? "Rolled back at " + end.percent + " %: " + end.reason :
          end.outcome === "aborted" ? "Aborted at " + end.percent + " %" : end.outcome;
      }
    }

    function renderAlerts(alerts, now) {
      byId("alerts-note").textContent = alerts.length ? alerts.length + " firing" : "";
      if (alerts.length === 0) {
        byId("alerts-body").replaceChildren(el("p", { class: "none", "data-empty": "" }, "No alerts firing"));
        return;
      }
      const rows = alerts.map((alert) =>
        el("tr", { class: "alert-row", "data-alert": alert.alert, "data-severity": alert.severity },
          el("td", {}, el("span", { class: "badge " + alert.severity }, alert.severity)),
          el("td", {}, el("strong", {}, alert.alert),
            el("div", { class: "since" }, "since " + clock(alert.since_ms) + " (" + duration(now - alert.since_ms) + ")")),
          el("td", { class: "num" }, number(alert.value) + " > " + number(alert.threshold))));
      byId("alerts-body").replaceChildren(el("table", {},
        el("thead", {}, el("tr", {}, el("th", {}, "Severity"), el("th", {}, "Alert"), el("th", { class: "num" }, "Value"))),
        el("tbody", {}, ...rows)));
    }

    function render(summary) {
      last = summary;
      const versions = versionsOf(summary);
      byId("environment").textContent = summary.environment;
      renderTotals(summary.totals);
      renderLegend(summary, versions);
      for (const section of document.querySelectorAll(".chart")) renderChart(section, summary, versions);
      renderMembers(summary.members || []);
      renderRollout(summary.deployment || {}, summary.rollout);
      renderAlerts(summary.alerts || [], summary.at_ms);
      byId("updated").replaceChildren("Updated ", el("time", { datetime: new Date(summary.at_ms).toISOString() }, clock(summary.at_ms)),
        " · scrapes every " + summary.scrape_interval_s + " s");
      byId("dashboard").dataset.updated = String(summary.at_ms);
    }

    // Shows `problem` above the page (null hides it); the last data stays, dimmed.
    function showProblem(problem) {
      const banner = byId("error");
      byId("dashboard").classList.toggle("stale", problem !== null);
      document.body.dataset.state = problem === null ? "ok" : "error";
      banner.hidden = problem === null;
      if (problem !== null) {
        banner.textContent = problem + " Retrying every " + POLL_MS / 1000 + " s. " +
          (lastSuccess === null ? "No data received yet." : "Showing data from " + clock(lastSuccess) + ".");
      }
    }

    async function fetchSummary() {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
      try {
        const response = await fetch("/api/summary", { cache: "no-store", signal: controller.signal });
        if (!response.ok) throw new Error("HTTP " + response.status);
        return await response.json();
      } finally {
        clearTimeout(timer);
      }
    }

    // One poll at a time: the next is scheduled when this one has finished.
    async function refresh() {
      try {
        const summary = await fetchSummary();
        lastSuccess = Date.now();
        showProblem(null);
        try {
          render(summary);
        } catch (error) {
          showProblem("Cannot show /api/summary (" + error.message + ").");
        }
      } catch (error) {
        const reason = error.name === "AbortError" ? "no answer within " + FETCH_TIMEOUT_MS / 1000 + " s" : error.message;
        showProblem("Cannot fetch /api/summary (" + reason + ").");
      } finally {
        setTimeout(refresh, POLL_MS);
      }
    }

    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        if (last) for (const section of document.querySelectorAll(".chart")) renderChart(section, last, versionsOf(last));
      }, 150);
    });
    refresh();
    </script>
    </body>
    </html>
    """#
}
