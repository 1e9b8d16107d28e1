import Foundation
import SluiceAPI
import Testing

/// The HTTP server against slow, idle, old and cut-off clients, over real sockets.
@Suite struct ServerLimitsTests {
    private static let queues = "GET /v1/queues HTTP/1.1\r\nHost: t\r\n\r\n"

    private func port(_ server: APITestServer) -> Int { server.baseURL.port ?? 0 }

    @Test func aConnectionPastTheCapGetsA503AndTheOthersAreStillServed() async throws {
        let server = try await APITestServer.start(limits: ConnectionLimits(maxConnections: 3))
        let port = port(server)
        let held = try await RawConnection.offPool {
            try (0..<3).map { _ in
                let connection = try RawConnection(port: port)
                try connection.send(Self.queues)
                return (connection, connection.readResponse())
            }
        }
        for (_, reply) in held { #expect(reply?.hasPrefix("HTTP/1.1 200") == true, "\(reply ?? "no reply")") }
        let extra = try await RawConnection.offPool {
            let connection = try RawConnection(port: port)
            try connection.send(Self.queues)
            return connection.readToEnd()
        }
        #expect(extra.closed)
        #expect(extra.text.hasPrefix("HTTP/1.1 503"), "\(extra.text)")
        #expect(extra.text.lowercased().contains("connection: close"))
        #expect(extra.text.contains(#""code":"too_many_connections""#))
        let again = try await RawConnection.offPool {
            try held[0].0.send(Self.queues)
            return held[0].0.readResponse()
        }
        #expect(again?.hasPrefix("HTTP/1.1 200") == true, "a connection under the cap is still served")
        // Once one closes, a new client is served again (the count drops when the close is seen).
        let freed = held[1].0
        let served = try await RawConnection.offPool {
            freed.shutdownWrite()
            _ = freed.readToEnd()
            for _ in 0..<100 {
                let connection = try RawConnection(port: port)
                try connection.send(Self.queues)
                if let reply = connection.readResponse(), reply.hasPrefix("HTTP/1.1 200") { return true }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return false
        }
        #expect(served)
        await server.stop()
    }

    @Test func aHalfSentHeadIsAnswered408AndClosedAfterTheHeaderTimeout() async throws {
        let server = try await APITestServer.start(limits: ConnectionLimits(idleSeconds: 60, headerSeconds: 1, bodySeconds: 60))
        let port = port(server)
        let reply = try await RawConnection.offPool {
            let connection = try RawConnection(port: port)
            try connection.send("GET /v1/queues HTT")
            return connection.readToEnd()
        }
        #expect(reply.closed, "the server still holds a connection whose head never ended")
        #expect(reply.text.hasPrefix("HTTP/1.1 408"), "\(reply.text)")
        #expect(reply.text.contains(#""code":"request_timeout""#))
        await server.stop()
    }

    @Test func aStalledBodyIsClosedAfterTheBodyTimeout() async throws {
        let server = try await APITestServer.start(limits: ConnectionLimits(idleSeconds: 60, headerSeconds: 60, bodySeconds: 1))
        let port = port(server)
        let reply = try await RawConnection.offPool {
            let connection = try RawConnection(port: port)
            try connection.send("POST /v1/executions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"defin")
            return connection.readToEnd()
        }
        #expect(reply.closed, "the server still holds a connection whose body stalled")
        await server.stop()
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeout() async throws {
        let server = try await APITestServer.start(limits: ConnectionLimits(idleSeconds: 1, headerSeconds: 60, bodySeconds: 60))
        let port = port(server)
        let (first, rest) = try await RawConnection.offPool {
            let connection = try RawConnection(port: port)
            try connection.send(Self.queues)
            return (connection.readResponse(), connection.readToEnd())
        }
        #expect(first?.hasPrefix("HTTP/1.1 200") == true)
        #expect(rest.closed && rest.text.isEmpty, "an idle keep-alive connection is closed quietly")
        let silent = try await RawConnection.offPool { try RawConnection(port: port).readToEnd() }
        #expect(silent.closed, "a connection that never sends is closed too")
        await server.stop()
    }

    @Test func http10IsClosedAfterItsResponseUnlessItAsksForKeepAlive() async throws {
        let server = try await APITestServer.start()
        let port = port(server)
        let reply = try await RawConnection.offPool {
            let connection = try RawConnection(port: port)
            try connection.send("GET /v1/queues HTTP/1.0\r\n\r\n")
            return connection.readToEnd()
        }
        #expect(reply.closed, "an HTTP/1.0 connection stayed open after its response")
        #expect(reply.text.hasPrefix("HTTP/1.0 200"), "\(reply.text)")
        #expect(reply.text.lowercased().contains("connection: close"))
        #expect(reply.text.contains(#""queues":"#))
        let kept = try await RawConnection.offPool {
            let connection = try RawConnection(port: port)
            let request = "GET /v1/queues HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
            try connection.send(request)
            let first = connection.readResponse()
            try connection.send(request)
            return (first, connection.readResponse())
        }
        #expect(kept.0?.lowercased().contains("connection: keep-alive") == true, "\(kept.0 ?? "no reply")")
        #expect(kept.1?.hasPrefix("HTTP/1.0 200") == true, "a keep-alive HTTP/1.0 connection serves a second request")
        await server.stop()
    }

    @Test func aTruncatedBodyIsA400NotA413() async throws {
        let server = try await APITestServer.start()
        let port = port(server)
        let reply = try await RawConnection.offPool {
            let connection = try RawConnection(port: port)
            try connection.send("POST /v1/executions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"definition\"")
            connection.shutdownWrite()
            return connection.readToEnd()
        }
        #expect(reply.text.hasPrefix("HTTP/1.1 400"), "\(reply.text)")
        #expect(reply.text.contains(#""code":"truncated_body""#))
        await server.stop()
    }

    @Test func pathParametersArePercentDecoded() async throws {
        let server = try await APITestServer.start()
        let machine = #"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#
        #expect(try await server.request("POST", "/v1/definitions?name=my-def", body: machine).status == 201)
        let fetched = try await server.request("GET", "/v1/definitions/my%2Ddef")
        #expect(fetched.status == 200)
        #expect(fetched.json["name"] as? String == "my-def")
        let version = try await server.request("GET", "/v1/definitions/my%2ddef/%31")
        #expect(version.status == 200)
        let port = port(server)
        let malformed = try await RawConnection.offPool {
            let connection = try RawConnection(port: port)
            try connection.send("GET /v1/definitions/my%zzdef HTTP/1.1\r\nHost: t\r\n\r\n")  // URLSession would escape the %
            return connection.readResponse()
        }
        #expect(malformed?.hasPrefix("HTTP/1.1 400") == true, "\(malformed ?? "no reply")")
        #expect(malformed?.contains("path parameter name is not valid percent-encoding") == true)
        let nul = try await server.request("GET", "/v1/executions/a%00b")
        #expect(nul.status == 400)
        await server.stop()
    }

    /// Every 401 the token gives and every 400 a path parameter or a body can give is declared,
    /// and the live 401s match the declared schema.
    @Test func everyOperationDeclaresThe401And400ItCanGive() async throws {
        let spec = try OpenAPISpec(yaml: APIServer.openAPI)
        let paths = try #require(spec.root["paths"] as? [String: [String: Any]])
        let server = try await APITestServer.start(token: "s3cret")
        var unauthorized = 0
        for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
            for (method, value) in item {
                let operation = try #require(value as? [String: Any])
                let responses = try #require(operation["responses"] as? [String: Any])
                if path.contains("{") { #expect(responses["400"] != nil, "\(method) \(path): a malformed path parameter is a 400") }
                if operation["requestBody"] != nil {
                    #expect(responses["400"] != nil && responses["413"] != nil, "\(method) \(path): a bad, cut or large body is a 400 or 413")
                }
                guard !["/v1/health", "/v1/openapi.yaml"].contains(path) else { continue }
                #expect(responses["401"] != nil, "\(method) \(path) does not declare its 401")
                let reply = try await server.request(method.uppercased(), path.replacing(#/\{[a-zA-Z]+\}/#, with: "x"))
                #expect(reply.status == 401, "\(method) \(path)")
                if let schema = spec.responseSchema(path: path, method: method, status: 401) {
                    let body = try JSONSerialization.jsonObject(with: reply.body)
                    #expect(spec.validate(body, against: schema, at: "").isEmpty)
                    unauthorized += 1
                }
            }
        }
        #expect(unauthorized >= 18)
        await server.stop()
    }

    @Test func aMethodAPathDoesNotHaveIs405WithAllow() async throws {
        let server = try await APITestServer.start()
        let port = port(server)
        let trace = try await RawConnection.offPool {
            let connection = try RawConnection(port: port)
            try connection.send("TRACE /v1/health HTTP/1.1\r\nHost: t\r\n\r\n")
            return connection.readResponse()
        }
        #expect(trace?.hasPrefix("HTTP/1.1 405") == true, "\(trace ?? "no reply")")
        #expect(trace?.lowercased().contains("allow: get\r\n") == true)
        #expect(trace?.contains(#""code":"method_not_allowed""#) == true)
        let delete = try await server.request("DELETE", "/v1/executions/abc")
        #expect(delete.status == 405)
        #expect(delete.errorCode == "method_not_allowed")
        let put = try await server.request("PUT", "/v1/executions")
        #expect(put.status == 405)
        let unknown = try await server.request("GET", "/v1/nothing-here")
        #expect(unknown.status == 404)
        #expect(unknown.errorCode == "not_found")
        await server.stop()
    }
}
