import Foundation
import SluiceStates
import Testing
import SluiceHTTP
@testable import SluiceCore

/// The curl multi client against a real server on 127.0.0.1.
@Suite struct HTTPClientTests {
    @Test func requestsArriveAsSentAndResponsesComeBack() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = CurlMultiClient()
        defer { client.shutdown() }
        let request = HTTPRequest(url: server.baseURL + "/echo", method: "POST", headers: [("X-Test", "1"), ("Content-Type", "application/json")],
                                  body: Array(#"{"a":1}"#.utf8))
        let response = try await client.perform(request).get()
        #expect(response.status == 200)
        let echoed = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect(echoed?["method"] as? String == "POST")
        #expect(echoed?["body"] as? String == #"{"a":1}"#)
        #expect((echoed?["headers"] as? [String: String])?["x-test"] == "1")
        #expect(response.header("content-type") == "application/json")
        #expect(try await client.perform(HTTPRequest(url: server.baseURL + "/status/503")).get().status == 503)
    }

    /// Easy handles are reused: a request after a POST, HEAD or custom method must not inherit them.
    @Test func aReusedConnectionCarriesOnlyItsOwnRequest() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = CurlMultiClient(maxTotalConnections: 1)
        defer { client.shutdown() }
        func echo(_ method: String, body: String? = nil, headers: [(name: String, value: String)] = []) async throws -> [String: Any] {
            let response = try await client.perform(HTTPRequest(url: server.baseURL + "/echo", method: method, headers: headers,
                                                                body: body.map { Array($0.utf8) })).get()
            return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
        }
        let post = try await echo("POST", body: "first", headers: [("X-One", "1")])
        #expect(post["method"] as? String == "POST")
        #expect(post["body"] as? String == "first")
        let get = try await echo("GET")
        #expect(get["method"] as? String == "GET")
        #expect(get["body"] as? String == "")
        #expect((get["headers"] as? [String: String])?["x-one"] == nil)
        let head = try await client.perform(HTTPRequest(url: server.baseURL + "/ok", method: "HEAD")).get()
        #expect(head.status == 200 && head.body.isEmpty)
        let put = try await echo("PUT", body: "second")
        #expect(put["method"] as? String == "PUT")
        #expect(put["body"] as? String == "second")
        #expect(try await client.perform(HTTPRequest(url: server.baseURL + "/ok")).get().body == Array("ok".utf8))
        let unsupported = await client.perform(HTTPRequest(url: "ftp://127.0.0.1/x"))
        guard case .failure(.invalidRequest) = unsupported else { Issue.record("expected invalidRequest, got \(unsupported)"); return }
    }

    /// The output embeds a JSON body verbatim, so only strict JSON may count as JSON.
    @Test func theJSONCheckIsStrict() {
        for valid in ["0", "-1.5e+3", "\"a\\u00e9\"", " [1, {\"a\": [true, false, null]}] ", "{}", "[]", "{\"a\":{\"b\":[]}}"] {
            #expect(JSONValidator.isValid(Array(valid.utf8)), "\(valid)")
        }
        for invalid in ["", "01", "1.", "-", "[1,]", "{\"a\":1,}", "{\"a\"}", "[1 2]", "\"a", "tru", "{} {}", "\"\u{1}\"", "\"\\x\"", "[", "{\"a\":1]"] {
            #expect(!JSONValidator.isValid(Array(invalid.utf8)), "\(invalid)")
        }
    }

    /// What the check accepts, the engine's parser reads back and the printer writes as JSON
    /// again: a hostile body must not crash the one writer or poison an execution's state.
    @Test func whatTheCheckAcceptsParsesAndPrintsAgain() throws {
        let deep = String(repeating: "[", count: 511) + String(repeating: "]", count: 511)
        let tooDeep = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(JSONValidator.isValid(Array(deep.utf8)))
        #expect(!JSONValidator.isValid(Array(tooDeep.utf8)))
        #expect(!JSONValidator.isValid(Array("1e400".utf8)))
        #expect(!JSONValidator.isValid(Array("[-1e999]".utf8)))
        for body in [#""\ud800\u0041""#, #""\udc00""#, #""\ud800""#, #""\ud83d\ude00""#, #"["\ud800\ud800\udc00"]"#, deep, "1e300"] {
            #expect(JSONValidator.isValid(Array(body.utf8)), "\(body)")
            let value = try JSONParser.parse(body)
            #expect(try JSONParser.parse(value.description) == value, "\(body)")
        }
        #expect(try JSONParser.parse(#""\ud800\u0041""#) == .string("\u{FFFD}A"))
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONParser.parse(#"["\ud800\ud800\udc00"]"#) == .array([.string("\u{FFFD}\u{10000}")]))
        #expect(SluiceStates.JSON.double(.infinity).description == "null")
    }

    @Test func timeoutsResetsAndRefusedConnectionsAreTypedErrors() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = CurlMultiClient()
        defer { client.shutdown() }
        let slow = await client.perform(HTTPRequest(url: server.baseURL + "/delay?ms=1000", totalTimeoutMilliseconds: 100))
        guard case .failure(.timedOut) = slow else { Issue.record("expected a timeout, got \(slow)"); return }
        let reset = await client.perform(HTTPRequest(url: server.baseURL + "/reset"))
        guard case .failure(.connectionReset) = reset else { Issue.record("expected a reset, got \(reset)"); return }
        let refused = await client.perform(HTTPRequest(url: "http://127.0.0.1:1/"))
        guard case .failure(.connectionFailed) = refused else { Issue.record("expected refused, got \(refused)"); return }
    }

    @Test func bigBodiesAreCappedAndTheConnectionStaysUsable() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = CurlMultiClient()
        defer { client.shutdown() }
        let big = try await client.perform(HTTPRequest(url: server.baseURL + "/big?bytes=10485760", maxResponseBodyBytes: 65536)).get()
        #expect(big.status == 200)
        #expect(big.body.count == 65536)
        #expect(big.bodyTruncated)
        #expect(try await client.perform(HTTPRequest(url: server.baseURL + "/ok")).get().body == Array("ok".utf8))
        let retry = try await client.perform(HTTPRequest(url: server.baseURL + "/retry-after")).get()
        #expect(retry.status == 429)
        #expect(retry.retryAfterSeconds == 1)
    }

    @Test func aThousandSlowRequestsAreInFlightAtOnce() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = CurlMultiClient(maxTotalConnections: 2000)
        defer { client.shutdown() }
        let statuses = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<1000 {
                group.addTask { (try? await client.perform(HTTPRequest(url: server.baseURL + "/delay?ms=500")).get().status) ?? 0 }
            }
            var all: [Int] = []
            for await status in group { all.append(status) }
            return all
        }
        #expect(statuses.filter { $0 == 200 }.count == 1000)
        // They overlapped: the server saw hundreds of connections open together.
        #expect(server.maxConcurrentConnections >= 500)
    }
}

extension HTTPClientTests {
    @Test func aMethodThatIsNoTokenIsNotSent() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = CurlMultiClient()
        defer { client.shutdown() }
        for method in ["GET /x HTTP/1.1\r\nX-Injected: 1\r\n", "GE T", ""] {
            let result = await client.perform(HTTPRequest(url: "\(server.baseURL)/ok", method: method, body: []))
            guard case let .failure(error) = result, case .invalidRequest = error else {
                Issue.record("\(method.debugDescription) was sent: \(result)")
                continue
            }
        }
        #expect(server.requests.isEmpty)
    }
}
