import Testing

@testable import Config

@Suite("cluster/<env>.toml topology")
struct TopologyTests {
    @Test("A topology loads with paths resolved against the directory holding wrangler.toml")
    func loadsAndResolvesPaths() throws {
        let fixture = try ConfigFixture(cluster: ["development": ConfigFixture.threeNodeTopology()])
        let config = try fixture.load()
        let topology = try #require(config.topology)

        #expect(config.baseDirectory == ConfigLoader.resolve(fixture.directory, against: "/"))
        #expect(topology.replicas == 2)
        #expect(topology.certsDir == config.baseDirectory + "/cluster/certs/test")
        #expect(topology.coordinator == Endpoint(host: "127.0.0.1", httpPort: 8700, peerPort: 7700))
        #expect(topology.nodes.map(\.id) == ["n1", "n2", "n3"])
        #expect(try config.node(id: "n2") == NodeSpec(
            id: "n2", host: "127.0.0.1", httpPort: 8702, peerPort: 7702,
            dataDir: config.baseDirectory + "/cluster/data/test/n2"))
    }

    @Test("A relative wrangler path is resolved against the current directory")
    func relativeWranglerPath() throws {
        #expect(ConfigLoader.resolve("a/./b/../wrangler.toml", against: "/srv/app") == "/srv/app/a/wrangler.toml")
        #expect(ConfigLoader.parentDirectory(of: "/srv/app/wrangler.toml") == "/srv/app")
        #expect(ConfigLoader.resolve("/abs/data", against: "/srv/app") == "/abs/data")
    }

    @Test("Without cluster/<env>.toml the topology is nil and node lookup explains why")
    func missingTopology() throws {
        let config = try ConfigFixture().load()
        #expect(config.topology == nil)
        #expect(throws: ConfigError.self) { try config.node(id: "n1") }
        do throws(ConfigError) {
            _ = try config.node(id: "n1")
        } catch {
            #expect(error.code == .unknownNode)
            #expect(error.message.hasPrefix("cluster/development.toml: file not found"))
        }
    }

    @Test("Looking up a node that is not there lists the ones that are")
    func unknownNode() throws {
        let config = try ConfigFixture(cluster: ["development": ConfigFixture.threeNodeTopology()]).load()
        do throws(ConfigError) {
            _ = try config.node(id: "n9")
            Issue.record("n9 should not exist")
        } catch {
            #expect(error.message == "cluster/development.toml: nodes: no node \"n9\" (has: n1, n2, n3)")
        }
    }

    @Test("Each environment reads its own topology file")
    func perEnvironmentFile() throws {
        let fixture = try ConfigFixture(cluster: [
            "development": ConfigFixture.threeNodeTopology(basePort: 8700),
            "staging": ConfigFixture.threeNodeTopology(basePort: 8710),
        ])
        let staging = try fixture.load(environment: "staging", process: ConfigFixture.secrets)
        #expect(staging.topology?.nodes.first?.httpPort == 8711)
        #expect(try fixture.load(environment: "production", process: ConfigFixture.secrets).topology == nil)
    }

    @Test("Duplicate node ids are an error pointing at the first")
    func duplicateNodeID() throws {
        let text = ConfigFixture.threeNodeTopology().replacingOccurrences(of: "id = \"n3\"", with: "id = \"n1\"")
        let fixture = try ConfigFixture(cluster: ["development": text])
        #expect(fixture.messages() == [
            "cluster/development.toml: nodes[2].id: duplicate node id \"n1\" (first at nodes[0])"
        ])
        #expect(fixture.problems().first?.code == .duplicateNode)
    }

    @Test("A port used twice on one host is an error naming both keys")
    func duplicatePort() throws {
        let text = ConfigFixture.threeNodeTopology().replacingOccurrences(of: "peer_port = 7703", with: "peer_port = 7701")
        let fixture = try ConfigFixture(cluster: ["development": text])
        #expect(fixture.messages() == [
            "cluster/development.toml: nodes[2].peer_port: 127.0.0.1:7701 is already used by nodes[0].peer_port"
        ])
        #expect(fixture.problems().first?.code == .duplicatePort)
    }

    @Test("The same port on different hosts is fine")
    func samePortOtherHost() throws {
        let text = ConfigFixture.threeNodeTopology()
            .replacingOccurrences(of: "peer_port = 7703", with: "peer_port = 7701")
            .replacingOccurrences(of: "host = \"127.0.0.1\"\nhttp_port = 8703", with: "host = \"10.0.0.3\"\nhttp_port = 8703")
        let fixture = try ConfigFixture(cluster: ["development": text])
        #expect(fixture.messages() == [])
    }

    @Test("Ports outside 1...65535 are errors", arguments: ["0", "65536", "-1"])
    func portRange(port: String) throws {
        let text = ConfigFixture.threeNodeTopology().replacingOccurrences(of: "peer_port = 7703", with: "peer_port = \(port)")
        let fixture = try ConfigFixture(cluster: ["development": text])
        #expect(fixture.messages() == [
            "cluster/development.toml: nodes[2].peer_port: port must be in 1...65535, got \(port)"
        ])
        #expect(fixture.problems().first?.code == .outOfRange)
    }

    @Test("Node ids must match [a-z0-9-]+", arguments: ["N1", "n_1", "", "n/1"])
    func invalidNodeID(id: String) throws {
        let text = ConfigFixture.threeNodeTopology().replacingOccurrences(of: "id = \"n2\"", with: "id = \"\(id)\"")
        let fixture = try ConfigFixture(cluster: ["development": text])
        #expect(fixture.messages() == [
            "cluster/development.toml: nodes[1].id: node ids must match [a-z0-9-]+, got \"\(id)\""
        ])
        #expect(fixture.problems().first?.code == .invalidNodeID)
    }

    @Test("\"coordinator\" is not a node id: it is the coordinator's identity")
    func reservedNodeID() throws {
        let text = ConfigFixture.threeNodeTopology().replacingOccurrences(of: "id = \"n2\"", with: "id = \"coordinator\"")
        let fixture = try ConfigFixture(cluster: ["development": text])
        #expect(fixture.messages() == [
            "cluster/development.toml: nodes[1].id: \"coordinator\" is reserved for the [coordinator]'s identity"
        ])
    }

    @Test("A misspelt key anywhere in the topology is an error suggesting the real one, not a silent default")
    func unknownKeys() throws {
        let text = ConfigFixture.threeNodeTopology()
            .replacingOccurrences(of: "replicas = 2", with: "replica = 2")
            .replacingOccurrences(of: "data_dir = \"cluster/data/test/n3\"", with: "dat_dir = \"cluster/data/test/n3\"")
            .replacingOccurrences(of: "http_port = 8700", with: "http_prot = 8700")
        let fixture = try ConfigFixture(cluster: ["development": text])
        let messages = fixture.messages()
        #expect(messages.contains("cluster/development.toml: replica: unknown key, did you mean \"replicas\"?"), "\(messages)")
        #expect(messages.contains("cluster/development.toml: nodes[2].dat_dir: unknown key, did you mean \"data_dir\"?"), "\(messages)")
        #expect(messages.contains("cluster/development.toml: coordinator.http_prot: unknown key, did you mean \"http_port\"?"), "\(messages)")
        #expect(fixture.problems().contains { $0.code == .unknownKey })
    }

    @Test("An empty data_dir or certs_dir is an error naming it, not the project directory")
    func emptyPaths() throws {
        let text = ConfigFixture.threeNodeTopology()
            .replacingOccurrences(of: "certs_dir = \"cluster/certs/test\"", with: "certs_dir = \"\"")
            .replacingOccurrences(of: "data_dir = \"cluster/data/test/n2\"", with: "data_dir = \" \"")
        let fixture = try ConfigFixture(cluster: ["development": text])
        #expect(fixture.messages() == [
            "cluster/development.toml: certs_dir: must not be empty",
            "cluster/development.toml: nodes[1].data_dir: must not be empty",
        ])
    }

    @Test("replicas must be 1 or 2", arguments: ["0", "3"])
    func replicasRange(replicas: String) throws {
        let text = ConfigFixture.threeNodeTopology().replacingOccurrences(of: "replicas = 2", with: "replicas = \(replicas)")
        let fixture = try ConfigFixture(cluster: ["development": text])
        #expect(fixture.messages() == [
            "cluster/development.toml: replicas: must be 1 (single copy) or 2 (owner and one replica), got \(replicas)"
        ])
        #expect(fixture.problems().first?.code == .invalidReplicas)
    }

    @Test("Two nodes sharing a data directory is an error, since they would share one log")
    func sharedDataDir() throws {
        let text = ConfigFixture.threeNodeTopology().replacingOccurrences(
            of: "cluster/data/test/n2", with: "cluster/data/test/n1")
        let fixture = try ConfigFixture(cluster: ["development": text])
        let message = try #require(fixture.messages().first)
        #expect(message.hasPrefix("cluster/development.toml: nodes[1].data_dir: "))
        #expect(message.hasSuffix("is already used by nodes[0]"))
    }

    @Test("Missing fields, wrong types and syntax errors name the topology file")
    func fileErrors() throws {
        let missing = try ConfigFixture(cluster: ["development": "replicas = 1\n[[nodes]]\nid = \"n1\"\nhttp_port = \"8701\"\n"])
        #expect(missing.messages() == [
            "cluster/development.toml: nodes[0].http_port: expected integer, got string \"8701\"",
            "cluster/development.toml: nodes[0].peer_port: required integer is missing",
        ])
        let empty = try ConfigFixture(cluster: ["development": "replicas = 1\n"])
        #expect(empty.messages() == ["cluster/development.toml: nodes: at least one [[nodes]] entry is required"])
        let broken = try ConfigFixture(cluster: ["development": "replicas = 1\n[[nodes]\n"])
        #expect(broken.problems().map(\.code) == [.syntax])
        #expect(broken.messages().first?.hasPrefix("cluster/development.toml: line 2") == true)
    }

    @Test("Problems in wrangler.toml and the topology are reported together")
    func collectsAcrossFiles() throws {
        let text = ConfigFixture.threeNodeTopology().replacingOccurrences(of: "replicas = 2", with: "replicas = 9")
        let fixture = try ConfigFixture(appending: ratelimit(limit: "-1"), cluster: ["development": text])
        #expect(fixture.problems().map(\.file) == ["wrangler.toml", "cluster/development.toml"])
    }

    @Test("on_unavailable is deny unless the topology says allow")
    func onUnavailableDefaultAndAllow() throws {
        let plain = try ConfigFixture(cluster: ["development": ConfigFixture.threeNodeTopology()]).load()
        #expect(plain.topology?.onUnavailable == .deny)
        let open = try ConfigFixture(cluster: ["development": "on_unavailable = \"allow\"\n" + ConfigFixture.threeNodeTopology()]).load()
        #expect(open.topology?.onUnavailable == .allow)
        let closed = try ConfigFixture(cluster: ["development": "on_unavailable = \"deny\"\n" + ConfigFixture.threeNodeTopology()]).load()
        #expect(closed.topology?.onUnavailable == .deny)
    }

    @Test("on_unavailable other than \"deny\" or \"allow\" is an error naming the key and file",
          arguments: [("\"open\"", "must be \"deny\" or \"allow\", got \"open\""),
                      ("\"DENY\"", "must be \"deny\" or \"allow\", got \"DENY\""),
                      ("true", "expected string, got boolean true")])
    func onUnavailableInvalid(value: String, detail: String) throws {
        let fixture = try ConfigFixture(cluster: ["development": "on_unavailable = \(value)\n" + ConfigFixture.threeNodeTopology()])
        #expect(fixture.messages() == ["cluster/development.toml: on_unavailable: \(detail)"])
    }

    @Test("forward_window_us is 500 unless the topology sets it, and 0 is allowed")
    func forwardWindowDefaultAndSet() throws {
        let plain = try ConfigFixture(cluster: ["development": ConfigFixture.threeNodeTopology()]).load()
        #expect(plain.topology?.forwardWindowMicros == 500)
        let off = try ConfigFixture(cluster: ["development": "forward_window_us = 0\n" + ConfigFixture.threeNodeTopology()]).load()
        #expect(off.topology?.forwardWindowMicros == 0)
        let long = try ConfigFixture(cluster: ["development": "forward_window_us = 2000\n" + ConfigFixture.threeNodeTopology()]).load()
        #expect(long.topology?.forwardWindowMicros == 2000)
        #expect(long.describe().contains("  forward_window_us: 2000"))
    }

    @Test("forward_window_us outside 0...10000 or not an integer is an error naming the key and file",
          arguments: [("-1", "must be in 0...10000, got -1"),
                      ("10001", "must be in 0...10000, got 10001"),
                      ("\"500us\"", "expected integer, got string \"500us\"")])
    func forwardWindowInvalid(value: String, detail: String) throws {
        let fixture = try ConfigFixture(cluster: ["development": "forward_window_us = \(value)\n" + ConfigFixture.threeNodeTopology()])
        #expect(fixture.messages() == ["cluster/development.toml: forward_window_us: \(detail)"])
    }
}
