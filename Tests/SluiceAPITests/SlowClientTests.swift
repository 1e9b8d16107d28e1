import Foundation
import SluiceAPI
import Testing

/// Clients that hold a connection by being slow on purpose but never quite stalling: a body
/// trickled in a byte at a time, a response never read. Real sockets against a real server.
@Suite struct SlowClientTests {
    private func port(_ server: APITestServer) -> Int { server.baseURL.port ?? 0 }

    /// A byte every 200 ms never stalls for the 1 s body timeout; the body's total deadline
    /// (1 s from the end of the head) still closes the connection long before its 100 bytes.
    @Test func aBodyTrickledSteadilyIsClosedAfterTheBodyDeadline() async throws {
        let server = try await APITestServer.start(limits: ConnectionLimits(idleSeconds: 60, headerSeconds: 60, bodySeconds: 1))
        let port = port(server)
        let sentBeforeClose = try await RawConnection.offPool { () -> Int? in
            // The 200 ms receive timeout paces the bytes and notices the close at once.
            let connection = try RawConnection(port: port, receiveTimeout: 0.2)
            try connection.send("POST /v1/executions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
            for sent in 0..<60 {
                do { try connection.send(" ") } catch { return sent }
                if connection.readToEnd().closed { return sent + 1 }
            }
            return nil
        }
        #expect(sentBeforeClose != nil, "the server still reads a body trickled for 12 s past a 1 s body timeout")
        await server.stop()
    }

    /// 1,000 pipelined GETs of the 21 KB OpenAPI document are 21 MB, more than the socket
    /// buffers hold: a client that reads none of it leaves the channel unwritable and is closed
    /// after the 1 s write timeout; a client reading the same meanwhile gets every response.
    @Test func aClientThatNeverReadsIsClosedAfterTheWriteTimeoutAndAReaderIsServed() async throws {
        let server = try await APITestServer.start(limits: ConnectionLimits(idleSeconds: 2, headerSeconds: 60, bodySeconds: 60, writeSeconds: 1))
        let port = port(server)
        let count = 1_000
        let requests = String(repeating: "GET /v1/openapi.yaml HTTP/1.1\r\nHost: t\r\n\r\n", count: count)
        let deaf = try RawConnection(port: port)
        try deaf.send(requests)
        let reader = try await RawConnection.offPool {
            let connection = try RawConnection(port: port)
            try connection.send(requests)
            return connection.readToEnd()
        }
        let unread = try await RawConnection.offPool {
            Thread.sleep(forTimeInterval: 3)  // past the write timeout, not reading
            return deaf.readToEnd()
        }
        func responses(_ text: String) -> Int { text.components(separatedBy: "HTTP/1.1 200").count - 1 }
        #expect(responses(reader.text) == count, "a client that reads gets every response")
        #expect(unread.closed)
        #expect(responses(unread.text) < count, "the server kept writing to a client that read nothing for 3 s")
        await server.stop()
    }
}
