import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1 child channel with the API's connection limits in front: a connection
/// past the cap gets `OverCapacityResponder` (a 503) instead of being served, every other one
/// gets the idle, header, body and write timeouts and the HTTP/1.0 close rule (`RequestDeadlineHandler`).
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let limits: ConnectionLimits
    let counter: ConnectionCounter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let open = counter.opened()
        let counter = counter
        channel.closeFuture.whenComplete { _ in counter.closed() }
        let limits = limits
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            if open > limits.maxConnections {
                try pipeline.addHandler(OverCapacityResponder(cap: limits.maxConnections), position: .first)
            } else {
                let deadlines = RequestDeadlineHandler(limits)
                let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
                try pipeline.addHandler(deadlines, position: .after(decoder))
                try pipeline.addHandler(ByteArrivalHandler(deadlines), position: .first)
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
