import Foundation
import Hummingbird
import SluiceCore

/// `/v1/queues` (depth, running, pause, resume) and `/v1/health` (heartbeats).
struct QueueAndHealthRoutes {
    let engine: Engine

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/queues") { _, _ in try queues() }
        router.post("/v1/queues/:name/pause") { _, context in try setPaused(context.pathParameter("name"), true) }
        router.post("/v1/queues/:name/resume") { _, context in try setPaused(context.pathParameter("name"), false) }
        router.get("/v1/health") { _, _ in try health() }
    }

    func queues() throws -> Response {
        let items = try engine.store.queues().map(render)
        return JSONResponse.make(body: JSONText.object(["queues": .raw("[" + items.joined(separator: ",") + "]")]))
    }

    /// The name follows the submit's rule (`Names.queueProblem`): pausing a name no execution
    /// can be queued under would only store a row nobody reads.
    func setPaused(_ name: String, _ paused: Bool) throws -> Response {
        if let problem = Names.queueProblem(name) { throw APIError.invalid("queue \(name): \(problem)") }
        try engine.setPaused(queue: name, paused: paused)
        guard let queue = try engine.store.queues().first(where: { $0.name == name }) else { throw APIError.notFound("no queue \(name)") }
        return JSONResponse.make(body: render(queue))
    }

    func health() throws -> Response {
        let now = Date().timeIntervalSince1970
        let beats = try engine.store.heartbeats()
        let stale = beats.contains { $0.isStale(now: now) }
        let items = beats.map { beat in
            JSONText.object(["component": .string(beat.component), "owner": .string(beat.owner),
                             "beatAt": Timestamp.render(beat.beatAt), "ageSeconds": .number((now - beat.beatAt) * 1000 / 1000),
                             "ttlSeconds": .number(beat.ttl), "stale": .bool(beat.isStale(now: now)),
                             "info": beat.info.map { .string($0) } ?? .null])
        }
        return JSONResponse.make(status: stale ? .serviceUnavailable : .ok,
                                 body: JSONText.object(["status": .string(stale ? "degraded" : "ok"),
                                                        "components": .raw("[" + items.joined(separator: ",") + "]")]))
    }

    private func render(_ queue: QueueInfo) -> String {
        JSONText.object(["name": .string(queue.name), "paused": .bool(queue.paused), "ready": .int(queue.ready),
                         "scheduled": .int(queue.scheduled), "running": .int(queue.running)])
    }
}
