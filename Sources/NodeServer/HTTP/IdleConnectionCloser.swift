import NIOCore

/// Closes a keep-alive connection that has sent nothing for the idle
/// timeout, so clients that go away without closing (or that hold sockets
/// open on purpose) cannot pile up connections on a node. Sits behind
/// NIO's `IdleStateHandler`, which raises the read-idle event.
final class IdleConnectionCloser: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
