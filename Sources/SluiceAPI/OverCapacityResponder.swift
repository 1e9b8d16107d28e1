import NIOCore
import Synchronization

/// Counts the API's open connections across event loops, so a new one can be told it is over
/// the cap. Relaxed ordering: the cap is a bound on resources, not a lock.
final class ConnectionCounter: Sendable {
    private let open = Atomic<Int>(0)

    /// Counts a new connection and returns how many are open with it.
    func opened() -> Int { open.wrappingAdd(1, ordering: .relaxed).newValue }
    func closed() { open.wrappingSubtract(1, ordering: .relaxed) }
    var current: Int { open.load(ordering: .relaxed) }
}

/// Answers a connection past the cap with a 503 (the API's JSON error, `Connection: close`,
/// `Retry-After: 1`) and closes it, instead of letting it wait unanswered.
///
/// It sits in front of the HTTP decoder and swallows whatever the client sends. The answer
/// goes out at once; the server then closes its sending side and reads until the client closes
/// (or a second passes): closing with the client's request unread would make the kernel reset
/// the connection, and a reset can discard the 503 before the client reads it.
final class OverCapacityResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let cap: Int
    private var answered = false

    init(cap: Int) { self.cap = cap }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { answer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        answer(context)
        context.fireChannelActive()
    }

    /// The request is not read: a server at its cap does no work for it.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
    }

    private func answer(_ context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        let body = #"{"error":{"code":"too_many_connections","message":"the server holds its cap of \#(cap) connections; retry later"}}"#
        let text = "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n"
            + "connection: close\r\nretry-after: 1\r\n\r\n" + body
        let written = context.eventLoop.makePromise(of: Void.self)
        let channel = context.channel
        written.futureResult.whenComplete { _ in channel.close(mode: .output, promise: nil) }
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(string: text)), promise: written)
        context.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
    }
}

@available(*, unavailable)
extension OverCapacityResponder: Sendable {}
