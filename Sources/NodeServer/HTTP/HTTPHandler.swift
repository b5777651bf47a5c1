import NIOCore
import NIOHTTP1

/// Aggregates one request, hands it to the responder and writes the answer.
///
/// Bodies over the cap are refused with 413 as soon as the head or the
/// accumulated body shows it, and the connection closes so an oversized
/// upload is not read to its end.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        /// A 413 was sent; the rest of the body is read and dropped so the
        /// client sees the answer instead of a reset, up to a bound.
        case refused(discarded: Int)
    }

    /// How much of a refused body is drained before the connection closes.
    private static let maxDiscard = 16 << 20

    private let responder: any HTTPResponder
    private let maxBody: Int
    private var state = State.idle

    init(responder: any HTTPResponder, maxBody: Int) {
        self.responder = responder
        self.maxBody = maxBody
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), _):
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maxBody {
                refuseTooLarge(context: context)
                return
            }
            state = .receiving(head, context.channel.allocator.buffer(capacity: 0))
        case (.body(var chunk), .receiving(let head, var body)):
            state = .idle  // Release the buffer's reference so the write below does not copy.
            if body.readableBytes + chunk.readableBytes > maxBody {
                refuseTooLarge(context: context)
                return
            }
            body.writeBuffer(&chunk)
            state = .receiving(head, body)
        case (.end, .receiving(let head, let body)):
            state = .idle
            dispatch(context: context, head: head, body: body)
        case (.body(let chunk), .refused(let discarded)):
            let total = discarded + chunk.readableBytes
            if total > Self.maxDiscard { context.close(promise: nil) } else { state = .refused(discarded: total) }
        case (.end, .refused):
            context.close(promise: nil)
        case (.body, .idle), (.end, .idle):
            break
        }
    }

    private func refuseTooLarge(context: ChannelHandlerContext) {
        state = .refused(discarded: 0)
        var response = HTTPResponse.problem(.bodyTooLarge(limit: maxBody))
        response.headers.append(("connection", "close"))
        write(context: context, response: response, keepAlive: true)
    }

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let request = HTTPRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
        let keepAlive = head.isKeepAlive
        switch responder.respond(to: request, on: context.eventLoop) {
        case .ready(let response):
            write(context: context, response: response, keepAlive: keepAlive)
        case .pending(let future):
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            future.whenComplete { result in
                let (handler, context) = bound.value
                switch result {
                case .success(let response):
                    handler.write(context: context, response: response, keepAlive: keepAlive)
                case .failure(let error):
                    let problem = (error as? APIProblem) ?? .unavailable("internal error: \(error)")
                    handler.write(context: context, response: .problem(problem), keepAlive: keepAlive)
                }
            }
        }
    }

    private func write(context: ChannelHandlerContext, response: HTTPResponse, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(4 + response.headers.count)
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.count))
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
