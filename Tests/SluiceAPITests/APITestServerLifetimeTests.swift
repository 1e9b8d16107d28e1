import Foundation
import Testing

/// The test server's own contract: a test that fails before `stop()` leaves nothing running.
@Suite struct APITestServerLifetimeTests {
    /// Before `deinit` shut the group down, a dropped server kept its port and engine threads
    /// until the test process ended (every API test stops its server on the last line, which a
    /// throw skips). Polled up to 20 s for the listener to close; no time is asserted.
    @Test func aServerDroppedWithoutStopStopsListening() async throws {
        var server: APITestServer? = try await APITestServer.start()
        let port = try #require(server?.baseURL.port)
        _ = try await RawConnection.offPool { try RawConnection(port: port) }   // listening now
        server = nil
        var closed = false
        for _ in 0..<400 where !closed {
            closed = try await RawConnection.offPool { (try? RawConnection(port: port)) == nil }
            if !closed { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(closed, "port \(port) still accepts connections after the server was dropped")
    }
}
