import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import NodeServer
import Synchronization
import TestSupport
import Testing

/// The plain-request reader must be invisible: any byte stream, cut into
/// any reads, gets the same answers with it as through NIO's decoder alone.
@Suite("The plain check request reader answers exactly as the decoder path")
struct CheckRequestReaderTests {
    /// Echoes what it was given: for checks the body (answered at once, or
    /// later for bodies starting with "later"), for other routes the method,
    /// target, fields and body.
    final class Echo: HTTPResponder, CheckResponder {
        let waiting = Mutex<[@Sendable () -> Void]>([])

        func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> HTTPResult {
            let fields = request.headers.map { "\($0.name)=\($0.value)" }.joined(separator: ";")
            let text = "\(request.method) \(request.path) \(request.query.sorted { $0.key < $1.key }) [\(fields)] \(String(buffer: request.body))"
            return .ready(.json(Array(text.utf8)))
        }

        func check(body: ByteBuffer, committed: @escaping @Sendable (CheckReply) -> Void) -> CheckReply? {
            let text = String(buffer: body)
            let reply = CheckReply.response(.json(Array("check \(text)".utf8)))
            guard text.hasPrefix("later") else { return reply }
            waiting.withLock { $0.append { committed(reply) } }
            return nil
        }

        func commitAll() {
            for answer in waiting.withLock({ waiting in defer { waiting = [] }; return waiting }) { answer() }
        }
    }

    static let maxBody = 64

    func pipeline(reader: Bool, echo: Echo) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let handler = HTTPHandler(responder: echo, maxBody: Self.maxBody)
        if reader { try channel.pipeline.syncOperations.addHandler(CheckRequestReader(handler: handler, maxBody: Self.maxBody)) }
        try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)), handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return channel
    }

    /// One request: half the time plain but for at most one bend, otherwise
    /// bent at random in several ways.
    func randomRequest(_ random: inout SplitMix64) -> String {
        let nearlyPlain = random.below(2) == 0
        func maybe(_ odds: Int) -> Bool { nearlyPlain ? random.below(odds * 4) == 0 : random.below(odds) == 0 }
        let bodies = ["{\"key\":\"k1\"}", "", "later-a", "later-b", "x y", String(repeating: "z", count: Self.maxBody),
                      String(repeating: "w", count: Self.maxBody + 1)]
        var body = random.pick(bodies)
        let line = maybe(2)
            ? random.pick(["POST /v1/check HTTP/1.0", "GET /v1/check HTTP/1.1", "POST /v1/check?x=1 HTTP/1.1",
                           "POST /v1/check/batch HTTP/1.1", "post /v1/check HTTP/1.1", "POST  /v1/check HTTP/1.1",
                           "POST /v1/check HTTP/1.1 ", "HEAD /v1/check HTTP/1.1"])
            : "POST /v1/check HTTP/1.1"
        var fields = [(random.pick(["Host", "host", "HOST"]), random.pick(["x", "127.0.0.1:8701", ""]))]
        for _ in 0..<random.below(4) {
            fields.append(maybe(2)
                ? random.pick([("Connection", "close"), ("Connection", "keep-alive"), ("X-Other", "1"), ("Expect", "100-continue"),
                               ("Accept", "a\u{7f}b"), ("Accept", "é"), ("Bad Name", "1"), ("Transfer-Encoding", "identity"),
                               ("Upgrade", "h2c"), ("Keep-Alive", "5")])
                : random.pick([("Content-Type", "application/json"), ("User-Agent", "wrk"), ("Accept", "*/*"),
                               ("accept-encoding", "gzip,  br"), ("Accept", " padded \t"), ("Accept", "")]))
        }
        let length = body.utf8.count
        switch maybe(2) ? random.below(5) : 5 {
        case 0: break  // No length.
        case 1: fields.append(("Content-Length", "0\(length)"))
        case 2: fields += [("Content-Length", "\(length)"), ("Content-Length", "\(length)")]
        case 3: fields.append(("Content-Length", "\(length + 1)"))
        case 4:
            fields.append(("Transfer-Encoding", "chunked"))
            body = length == 0 ? "0\r\n\r\n" : String(length, radix: 16) + "\r\n" + body + "\r\n0\r\n\r\n"
        default: fields.append((random.pick(["Content-Length", "content-length"]), "\(length)"))
        }
        fields.shuffle(using: &random)
        let lines = [line] + fields.map { name, value in name + (maybe(3) ? random.pick([":", ":\t", " : "]) : ": ") + value }
        let end = maybe(10) ? "\n" : "\r\n"
        return lines.joined(separator: end) + end + end + body
    }

    @Test("random request streams in random reads: same bytes out, same connection state")
    func sameAnswers() throws {
        var random = SplitMix64(seed: 1)
        for round in 0..<1500 {
            var stream = (0..<(1 + random.below(5))).map { _ in randomRequest(&random) }.joined()
            if random.below(10) == 0 { stream += random.pick(["garbage\r\n\r\n", "GET / HTTP/1.1\r\n", "\u{0}"]) }
            let bytes = Array(stream.utf8)
            var cuts: [Int] = []
            var at = 0
            while at < bytes.count {
                at += random.below(3) == 0 ? 1 + random.below(bytes.count) : bytes.count
                cuts.append(min(at, bytes.count))
            }
            var outputs: [String] = []
            var active: [Bool] = []
            for reader in [false, true] {
                let echo = Echo()
                let channel = try pipeline(reader: reader, echo: echo)
                var text = ""
                var start = 0
                for cut in cuts {
                    _ = try? channel.writeInbound(ByteBuffer(bytes: bytes[start..<cut]))
                    start = cut
                    for _ in 0..<3 {
                        echo.commitAll()
                        channel.embeddedEventLoop.run()
                    }
                    while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
                }
                outputs.append(text)
                active.append(channel.isActive)
                _ = try? channel.finish()
            }
            #expect(outputs[0] == outputs[1], "round \(round): \(stream.debugDescription)")
            #expect(active[0] == active[1], "round \(round): \(stream.debugDescription)")
        }
    }

    @Test("wrk's request is plain", arguments: [
        "POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1:8701\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        "POST /v1/check HTTP/1.1\r\nhost: x\r\nUser-Agent: sdk\r\nAccept: */*\r\nAccept-Encoding: gzip\r\ncontent-length: 0\r\n\r\n",
    ])
    func plain(_ request: String) {
        let found = CheckRequestReader.plainCheck(in: ByteBuffer(string: request + "next"), maxBody: 1 << 20)
        #expect(found?.length == request.utf8.count)
    }
}
