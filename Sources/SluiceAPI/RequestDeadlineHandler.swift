import NIOCore
import NIOHTTP1

/// The idle, header, body and write timeouts of one connection, and the HTTP/1.0 rule that a
/// connection closes after its response unless the client asked for keep-alive.
///
/// It sits between NIO's HTTP/1 decoder and Hummingbird's codec, so it sees the request heads
/// with their HTTP version (which Hummingbird's request type no longer carries) and the
/// response parts before they are encoded. What a connection is doing decides its deadline:
/// - no request in progress and no byte of the next one: `idleSeconds` after the last response
///   (or the accept), then closed;
/// - bytes of a request head arrived but not the whole head: `headerSeconds` after its first
///   byte, then a 408 and closed (a client sending a header line a byte a minute keeps no socket);
/// - a head read and its body not finished: `bodySeconds` after the end of the head, then
///   closed (a total, so a body trickled a byte at a time cannot hold the socket either);
/// - the request read and its response being written: no deadline (long polls, event streams),
///   except that in any state a channel that stays unwritable (the client reads nothing while
///   the socket buffers are full) for `writeSeconds` is closed.
///
/// Events only record a time (a few nanoseconds); one timer per connection checks the deadline.
/// It fires at most every `min(idle, header, body, write)` seconds, so any deadline that starts after
/// it was armed still lies after its next firing, and no event has to re-arm it: NIO cancels a
/// timer by a linear search of the loop's queue, which 10,000 keep-alive connections would
/// make a per-request cost. A timer that finds the connection closed lapses.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let idle: TimeAmount
    private let header: TimeAmount
    private let body: TimeAmount
    private let write: TimeAmount
    /// The longest a timer sleeps: the shortest timeout.
    private let tick: TimeAmount
    private let headerSeconds: Double

    /// Request heads read whose response has not ended.
    private var requestsOpen = 0
    private var readingBody = false
    /// Bytes of a next request arrived and its head is not parsed yet.
    private var partialHead = false
    private var headStarted = NIODeadline.now()
    /// When the head of the request whose body is being read ended.
    private var bodyStarted = NIODeadline.now()
    /// When the channel last became unwritable; nil while it is writable.
    private var unwritableSince: NIODeadline?
    private var idleSince = NIODeadline.now()
    private var timerArmed = false
    /// The last request was HTTP/1.0: its response is sent as HTTP/1.0 (so an unknown length is
    /// framed by the close, not chunked) and `keepAlive` says whether the connection stays.
    private var http10 = false
    private var keepAlive = true
    private var closeAfterResponse = false

    init(_ limits: ConnectionLimits) {
        idle = .nanoseconds(Int64(limits.idleSeconds * 1e9))
        header = .nanoseconds(Int64(limits.headerSeconds * 1e9))
        body = .nanoseconds(Int64(limits.bodySeconds * 1e9))
        write = .nanoseconds(Int64(limits.writeSeconds * 1e9))
        tick = min(idle, header, body, write)
        headerSeconds = limits.headerSeconds
    }

    /// Called by `ByteArrivalHandler` for every read from the socket, before it is decoded.
    func bytesArrived() {
        if !readingBody && !partialHead {
            partialHead = true
            headStarted = .now()
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, at: .now() + tick) }
    }

    func channelActive(context: ChannelHandlerContext) {
        idleSince = .now()
        arm(context, at: .now() + tick)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            partialHead = false
            readingBody = true
            bodyStarted = .now()
            requestsOpen += 1
            http10 = head.version.major == 1 && head.version.minor == 0
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            readingBody = false
        }
        context.fireChannelRead(data)
    }

    /// Records when the client stopped draining the socket; the timer judges how long it lasts.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            unwritableSince = nil
        } else if unwritableSince == nil {
            unwritableSince = .now()
        }
        context.fireChannelWritabilityChanged()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case var .head(head) where http10:
            // An HTTP/1.0 client keeps the connection only if it asked and the length is known.
            head.version = .http1_0
            let stays = keepAlive && head.headers.contains(name: "content-length")
            head.headers.replaceOrAdd(name: "connection", value: stays ? "keep-alive" : "close")
            closeAfterResponse = !stays
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .head, .body:
            context.write(data, promise: promise)
        case .end:
            requestsOpen -= 1
            if requestsOpen == 0 { idleSince = .now() }
            guard closeAfterResponse else { return context.write(data, promise: promise) }
            closeAfterResponse = false
            let written = context.eventLoop.makePromise(of: Void.self)
            let channel = context.channel
            written.futureResult.assumeIsolated().whenComplete { result in
                channel.close(promise: nil)
                promise?.completeWith(result)
            }
            context.writeAndFlush(data, promise: written)
        }
    }

    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        guard !timerArmed else { return }
        timerArmed = true
        context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timerArmed = false
            check(context)
        }
    }

    private func check(_ context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let now = NIODeadline.now()
        if let since = unwritableSince, now >= since + write { return context.close(promise: nil) }
        let deadline: NIODeadline
        if readingBody {
            deadline = bodyStarted + body
        } else if requestsOpen > 0 {
            return arm(context, at: now + tick)
        } else if partialHead {
            deadline = headStarted + header
            if now >= deadline { return answerTimeout(context) }
        } else {
            deadline = idleSince + idle
        }
        if now >= deadline { return context.close(promise: nil) }
        arm(context, at: min(deadline, now + tick))
    }

    /// A 408 with the API's JSON error, then the connection closes (nothing is in progress).
    private func answerTimeout(_ context: ChannelHandlerContext) {
        let message = #"{"error":{"code":"request_timeout","message":"the request head did not arrive within the header timeout of \#(headerSeconds) seconds"}}"#
        let buffer = context.channel.allocator.buffer(string: message)
        var headers = HTTPHeaders([("content-type", "application/json"), ("connection", "close")])
        headers.add(name: "content-length", value: String(buffer.readableBytes))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .requestTimeout, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        let channel = context.channel
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
    }
}

@available(*, unavailable)
extension RequestDeadlineHandler: Sendable {}

/// Tells the deadline handler that bytes came in, before the decoder holds them back as a
/// partial head: the first byte of a request starts its header timeout.
final class ByteArrivalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let deadlines: RequestDeadlineHandler

    init(_ deadlines: RequestDeadlineHandler) { self.deadlines = deadlines }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deadlines.bytesArrived()
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension ByteArrivalHandler: Sendable {}
