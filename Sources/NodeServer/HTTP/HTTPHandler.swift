import NIOCore
import NIOHTTP1

/// Aggregates one request, hands it to the responder and writes the answer
/// as one buffer (``HTTPResponse/encode(into:keepAlive:requestMethod:)``).
///
/// It sits right behind NIO's `HTTPRequestDecoder` (plain check requests
/// come straight from ``CheckRequestReader``, ahead of the decoder) and does
/// what NIO's pipelining, protocol-error and encoder handlers did for it, in
/// one place:
///
/// - Answers leave in request order. While a request waits for its answer
///   (a commit, a forwarded check), later request parts and parse errors are
///   kept and replayed once it is written, as `HTTPServerPipelineHandler`
///   does; reading from the socket pauses while any are kept.
/// - Bytes that are not HTTP/1 get a bare 400, after any answer still owed,
///   and the connection closes (`HTTPServerProtocolErrorHandler`).
///
/// Bodies over the cap are refused with 413 as soon as the head or the
/// accumulated body shows it, and the connection closes so an oversized
/// upload is not read to its end.
final class HTTPHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        /// A 413 was sent; the rest of the body is read and dropped so the
        /// client sees the answer instead of a reset, up to a bound.
        case refused(discarded: Int)
    }

    /// Inbound events that arrived while an answer was owed.
    private enum Deferred {
        case part(HTTPServerRequestPart)
        case parserError(any Error)
        /// The body of a plain check request read by `CheckRequestReader`.
        case plainCheck(ByteBuffer)
    }

    /// How much of a refused body is drained before the connection closes.
    private static let maxDiscard = 16 << 20

    private let responder: any HTTPResponder
    /// The responder's own `POST /v1/check`, when it has one.
    private let checkResponder: (any CheckResponder)?
    private let maxBody: Int
    /// Brings check answers back to this connection's event loop.
    private var answers: AnswerQueue?
    private var state = State.idle
    /// A dispatched request whose answer is not written yet.
    private var answerOwed = false
    private var deferred = CircularBuffer<Deferred>(initialCapacity: 0)
    /// A `read` held back while events are deferred.
    private var readHeld = false

    /// `answers` must belong to the channel's event loop; without one, the
    /// handler makes its own when added.
    init(responder: any HTTPResponder, maxBody: Int, answers: AnswerQueue? = nil) {
        self.responder = responder
        checkResponder = responder as? any CheckResponder
        self.maxBody = maxBody
        self.answers = answers
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if answers == nil { answers = AnswerQueue(eventLoop: context.eventLoop) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if answerOwed || !deferred.isEmpty {
            deferred.append(.part(part))
            return
        }
        receive(part, context: context)
    }

    private func receive(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch (part, state) {
        case (.head(let head), _):
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maxBody {
                refuseTooLarge(context: context, method: head.method)
                return
            }
            state = .receiving(head, context.channel.allocator.buffer(capacity: 0))
        case (.body(var chunk), .receiving(let head, var body)):
            state = .idle  // Release the buffer's reference so the write below does not copy.
            if body.readableBytes + chunk.readableBytes > maxBody {
                refuseTooLarge(context: context, method: head.method)
                return
            }
            body.writeBuffer(&chunk)
            state = .receiving(head, body)
        case (.end, .receiving(var head, let body)):
            state = .idle
            if Self.endsParsing(head) {
                // NIO's decoder stops parsing after an upgrade or CONNECT and would
                // buffer whatever follows: answer it, then close.
                head.headers.replaceOrAdd(name: "connection", value: "close")
            }
            if let checkResponder, head.method == .POST, head.uri == "/v1/check" {
                dispatchCheck(checkResponder, context: context, body: body, keepAlive: head.isKeepAlive)
            } else {
                dispatch(context: context, head: head, body: body)
            }
        case (.body(let chunk), .refused(let discarded)):
            let total = discarded + chunk.readableBytes
            if total > Self.maxDiscard { context.close(promise: nil) } else { state = .refused(discarded: total) }
        case (.end, .refused):
            context.close(promise: nil)
        case (.body, .idle), (.end, .idle):
            break
        }
    }

    private func refuseTooLarge(context: ChannelHandlerContext, method: HTTPMethod) {
        state = .refused(discarded: 0)
        var response = HTTPResponse.problem(.bodyTooLarge(limit: maxBody))
        response.headers.append(("connection", "close"))
        write(context: context, response: response, keepAlive: true, method: method)
    }

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let request = HTTPRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
        let keepAlive = head.isKeepAlive
        let method = head.method
        switch responder.respond(to: request, on: context.eventLoop) {
        case .ready(let response):
            write(context: context, response: response, keepAlive: keepAlive, method: method)
        case .pending(let future):
            answerOwed = true
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            future.whenComplete { result in
                let (handler, context) = bound.value
                let response: HTTPResponse
                switch result {
                case .success(let value):
                    response = value
                case .failure(let error):
                    response = .problem((error as? APIProblem) ?? .unavailable("internal error: \(error)"))
                }
                handler.write(context: context, response: response, keepAlive: keepAlive, method: method)
                handler.answered(context: context)
            }
        }
    }

    /// A whole keep-alive `POST /v1/check` that `CheckRequestReader` read
    /// ahead of the decoder, treated as the decoder's parts for it would be.
    /// Only called when the responder is a ``CheckResponder``.
    func receiveCheck(body: ByteBuffer, context: ChannelHandlerContext) {
        if answerOwed || !deferred.isEmpty {
            deferred.append(.plainCheck(body))
            return
        }
        dispatchCheck(checkResponder!, context: context, body: body, keepAlive: true)
    }

    /// `POST /v1/check` (exactly; other targets take the general route):
    /// the answer comes back on this event loop, from the commit thread or a
    /// peer's reply, and is encoded here rather than there.
    private func dispatchCheck(_ checks: any CheckResponder, context: ChannelHandlerContext, body: ByteBuffer, keepAlive: Bool) {
        let queue = answers!
        let destination = AnswerQueue.Destination(handler: self, context: context, keepAlive: keepAlive)
        // Owed before asking: the answer may be delivered before `check`
        // returns (a forward that fails at once, answered on this loop).
        answerOwed = true
        let reply = checks.check(body: body) { reply in queue.post(reply, to: destination) }
        if let reply {
            answerOwed = false
            write(context: context, reply: reply, keepAlive: keepAlive)
        }
    }

    /// An owed check answer, back on this event loop.
    func deliver(_ reply: CheckReply, context: ChannelHandlerContext, keepAlive: Bool) {
        write(context: context, reply: reply, keepAlive: keepAlive)
        answered(context: context)
    }

    private func write(context: ChannelHandlerContext, reply: CheckReply, keepAlive: Bool) {
        var buffer = context.channel.allocator.buffer(capacity: 320)
        reply.encode(into: &buffer, keepAlive: keepAlive)
        write(context: context, buffer: buffer, keepAlive: keepAlive)
    }

    /// The owed answer is written: replay what waited behind it, in order,
    /// until another answer is owed.
    private func answered(context: ChannelHandlerContext) {
        answerOwed = false
        while !answerOwed, let event = deferred.popFirst() {
            switch event {
            case .part(let part): receive(part, context: context)
            case .parserError(let error): fail(context: context, error: error)
            case .plainCheck(let body): dispatchCheck(checkResponder!, context: context, body: body, keepAlive: true)
            }
        }
        if deferred.isEmpty && readHeld && context.channel.isWritable {
            readHeld = false
            context.read()
        }
    }

    private func write(context: ChannelHandlerContext, response: HTTPResponse, keepAlive: Bool, method: HTTPMethod) {
        var buffer = context.channel.allocator.buffer(capacity: 192 + response.body.count)
        response.encode(into: &buffer, keepAlive: keepAlive, requestMethod: method)
        write(context: context, buffer: buffer, keepAlive: keepAlive)
    }

    private func write(context: ChannelHandlerContext, buffer: ByteBuffer, keepAlive: Bool) {
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Whether the decoder parses nothing after this request: an `Upgrade`
    /// (this server never switches protocols) or `CONNECT`.
    static func endsParsing(_ head: HTTPRequestHead) -> Bool {
        head.method == .CONNECT || head.headers.contains(name: "upgrade")
    }

    /// Pauses reading while events wait for an owed answer, and while the
    /// answers already written wait for the client to read them, so a client
    /// that pipelines, or never reads, cannot make the node buffer without bound.
    func read(context: ChannelHandlerContext) {
        if deferred.isEmpty && context.channel.isWritable { context.read() } else { readHeld = true }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && deferred.isEmpty && readHeld {
            readHeld = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, answerOwed || !deferred.isEmpty {
            deferred.append(.parserError(error))
            return
        }
        fail(context: context, error: error)
    }

    private func fail(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            var buffer = context.channel.allocator.buffer(capacity: 80)
            buffer.writeStaticString(HTTPResponse.parserErrorBytes)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deferred.removeAll()
        context.fireChannelInactive()
    }
}
