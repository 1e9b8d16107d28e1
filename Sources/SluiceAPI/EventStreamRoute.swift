import Foundation
import Hummingbird
import SluiceCore

/// `GET /v1/executions/{id}/events`: server-sent events with the execution's live status.
/// An `execution` event carries the execution (same JSON as GET) each time its status, attempt
/// count or history grows; the stream ends after the event that shows it finished. Changes are
/// read from the database, so they are seen whichever process makes them.
struct EventStreamRoute {
    let engine: Engine
    /// How often the database is looked at while nothing changes.
    var interval: Duration = .milliseconds(50)
    /// Comment lines keep proxies from closing an idle stream.
    var keepAlive: Duration = .seconds(15)

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/executions/:id/events") { _, context in try stream(context.pathParameter("id")) }
    }

    func stream(_ id: String) throws -> Response {
        guard try engine.store.execution(uid: id) != nil else { throw APIError.notFound("no execution \(id)") }
        let store = engine.store
        let interval = interval
        let keepAlive = keepAlive
        let body = ResponseBody { writer in
            var last: (ExecutionStatus, Int, Int)?
            var quiet = Duration.zero
            while !Task.isCancelled {
                guard let record = try store.execution(uid: id) else { break }
                let historyCount = try store.historyCount(uid: id)
                let fingerprint = (record.status, record.attempts, historyCount)
                if last == nil || last! != fingerprint {
                    last = fingerprint
                    quiet = .zero
                    try await writer.write(ByteBuffer(string: "event: execution\ndata: \(ExecutionJSON.render(record))\n\n"))
                    if record.status.isFinished { break }
                } else if quiet >= keepAlive {
                    quiet = .zero
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                }
                try await Task.sleep(for: interval)
                quiet += interval
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}
