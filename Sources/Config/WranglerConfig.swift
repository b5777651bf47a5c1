import LimiterCore

/// The contents of `wrangler.toml`, in the shape of Cloudflare's Workers
/// configuration (https://developers.cloudflare.com/workers/wrangler/configuration/)
/// so the seed's file keeps working: durable-object bindings become limiter
/// namespaces, `[[migrations]]` are applied to each node's store in order, and
/// `[[ratelimits]]` use the rate-limiting binding form with our `algorithm`
/// and `burst` additions (DESIGN.md §3).
public struct WranglerConfig: Sendable, Hashable {
    /// `name`: the worker (here: the service) name.
    public var name: String
    /// `main`: the entry point; informational for a Swift build.
    public var main: String
    /// `compatibility_date` as `YYYY-MM-DD`.
    public var compatibilityDate: String
    /// `[durable_objects] bindings`: each binding is one namespace of limiter objects.
    public var durableObjectBindings: [DurableObjectBinding]
    /// `[[migrations]]`, in file order, which is the order they are applied.
    public var migrations: [Migration]
    /// Top-level `[vars]`: the implicit `development` environment's variables.
    public var vars: [String: String]
    /// `[env.NAME]` sections by name (development is implicit and not listed
    /// unless the file has an `[env.development]` section).
    public var environments: [String: EnvironmentSection]
    /// `[[ratelimits]]`, in file order.
    public var ratelimits: [Rule]
    /// Top-level `[monitoring]` as written; see ``monitoring(for:)`` for the
    /// values an environment runs with.
    public var monitoring: MonitoringTable

    public init(
        name: String = "ratelimit",
        main: String = "Sources/ratelimit/Entry.swift",
        compatibilityDate: String = "2024-01-22",
        durableObjectBindings: [DurableObjectBinding] = [],
        migrations: [Migration] = [],
        vars: [String: String] = [:],
        environments: [String: EnvironmentSection] = [:],
        ratelimits: [Rule] = [],
        monitoring: MonitoringTable = MonitoringTable()
    ) {
        self.name = name
        self.main = main
        self.compatibilityDate = compatibilityDate
        self.durableObjectBindings = durableObjectBindings
        self.migrations = migrations
        self.vars = vars
        self.environments = environments
        self.ratelimits = ratelimits
        self.monitoring = monitoring
    }

    /// The environment names an operator may select: `development` (always,
    /// implicitly) and every `[env.NAME]`, sorted.
    public var environmentNames: [String] {
        Array(Set(environments.keys).union(["development"])).sorted()
    }

    /// `{ name = "RATE_LIMIT", class_name = "RateLimitDO" }`.
    public struct DurableObjectBinding: Sendable, Hashable {
        /// The binding (namespace) name code refers to.
        public var name: String
        /// The durable-object class that implements it.
        public var className: String

        public init(name: String, className: String) {
            self.name = name
            self.className = className
        }
    }

    /// One `[[migrations]]` entry, as Cloudflare's durable-object migrations
    /// (https://developers.cloudflare.com/durable-objects/reference/durable-objects-migrations/).
    public struct Migration: Sendable, Hashable {
        /// Unique, applied-once identifier recorded in each node's store.
        public var tag: String
        /// `new_classes` (and `new_sqlite_classes`): classes this migration creates.
        public var newClasses: [String]
        /// `renamed_classes = [{ from = "A", to = "B" }]`.
        public var renamedClasses: [RenamedClass]
        /// `deleted_classes`: classes whose objects this migration drops.
        public var deletedClasses: [String]

        public init(
            tag: String,
            newClasses: [String] = [],
            renamedClasses: [RenamedClass] = [],
            deletedClasses: [String] = []
        ) {
            self.tag = tag
            self.newClasses = newClasses
            self.renamedClasses = renamedClasses
            self.deletedClasses = deletedClasses
        }
    }

    /// `{ from = "A", to = "B" }` inside `renamed_classes`.
    public struct RenamedClass: Sendable, Hashable {
        public var from: String
        public var to: String

        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    /// One `[env.NAME]` section.
    public struct EnvironmentSection: Sendable, Hashable {
        /// `vars`: overrides top-level `[vars]`, overridden by the process environment.
        public var vars: [String: String]
        /// `routes`: where this environment is served.
        public var routes: [Route]
        /// `[env.NAME.monitoring]`: overrides top-level `[monitoring]` key by key.
        public var monitoring: MonitoringTable

        public init(vars: [String: String] = [:], routes: [Route] = [], monitoring: MonitoringTable = MonitoringTable()) {
            self.vars = vars
            self.routes = routes
            self.monitoring = monitoring
        }
    }

    /// `{ pattern = "api.example.com/*", zone_id = "..." }`.
    public struct Route: Sendable, Hashable {
        public var pattern: String
        /// Empty when the route gave only a pattern.
        public var zoneID: String

        public init(pattern: String, zoneID: String = "") {
            self.pattern = pattern
            self.zoneID = zoneID
        }
    }
}
