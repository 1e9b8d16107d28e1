import Foundation
import Testing
import SluiceHTTP
@testable import SluiceCore

/// `sluice server` (API and triggers) and `sluice worker` (pools only) as two real processes on
/// one database file, as Mender and CCAT split them.
@Suite struct ProcessSplitTests {
    @Test func aServerTakesSubmitsAndASeparateWorkerRunsThem() throws {
        let file = TestDatabase()
        let store = try file.store()
        let server = Process()
        server.executableURL = SluiceProcess.binary
        server.arguments = ["server", "--db", file.path, "--listen", "127.0.0.1:0"]
        let errors = Pipe()
        server.standardError = errors
        try server.run()
        defer { kill(server.processIdentifier, SIGTERM); server.waitUntilExit() }
        // The server says where it listens on stderr.
        var said = ""
        let deadline = Date().addingTimeInterval(20)
        while !said.contains("listening on"), Date() < deadline {
            said += String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
        }
        let port = try #require(said.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })

        let client = CurlMultiClient()
        defer { client.shutdown() }
        for i in 0..<20 {
            let done = DispatchSemaphore(value: 0)
            client.perform(HTTPRequest(url: "http://127.0.0.1:\(port)/v1/executions", method: "POST",
                                       body: Array(#"{"definition":"noop","idempotencyKey":"k\#(i)"}"#.utf8))) { _ in done.signal() }
            done.wait()
        }
        #expect(try store.count(.pending) == 20)   // the server runs no workers
        let worker = try SluiceProcess.start(["worker", "--db", file.path, "--queues", "default", "--concurrency", "4"])
        defer { worker.kill(SIGTERM) }
        #expect(try eventually(timeout: 20) { try store.count(.succeeded) == 20 })
        let components = Set(try store.heartbeats().map(\.component))
        #expect(components.isSuperset(of: ["server.completer", "worker.pool:default", "worker.dispatcher"]))
    }
}
