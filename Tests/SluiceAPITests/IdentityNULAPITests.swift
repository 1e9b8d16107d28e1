import Foundation
import Testing
import SluiceCore

/// A NUL inside a submitted name or key is not a terminator (issue 21): `noop\u0000xyz` is no
/// definition, two keys that differ after a NUL are two executions, and a namespace with a
/// NUL (a control character) is refused rather than cut.
@Suite struct IdentityNULAPITests {
    @Test func aNULNeverSplitsASubmittedIdentity() async throws {
        let server = try await APITestServer.start()
        let notADefinition = try await server.request("POST", "/v1/executions", body: #"{"definition": "noop\u0000xyz"}"#)
        #expect(notADefinition.status == 404)
        #expect(notADefinition.errorCode == "not_found")

        let first = try await server.request("POST", "/v1/executions", body: #"{"definition": "noop", "idempotencyKey": "k\u0000A"}"#)
        let second = try await server.request("POST", "/v1/executions", body: #"{"definition": "noop", "idempotencyKey": "k\u0000B"}"#)
        let again = try await server.request("POST", "/v1/executions", body: #"{"definition": "noop", "idempotencyKey": "k\u0000A"}"#)
        #expect(first.status == 201 && second.status == 201)
        #expect(again.status == 200)
        #expect(first.json["id"] as? String != nil)
        #expect(first.json["id"] as? String != second.json["id"] as? String)
        #expect(first.json["id"] as? String == again.json["id"] as? String)

        let namespaced = try await server.request("POST", "/v1/executions", body: #"{"definition": "noop", "namespace": "team\u0000x"}"#)
        #expect(namespaced.status == 400)
        #expect(namespaced.errorCode == "invalid_request")
        #expect(String(decoding: namespaced.body, as: UTF8.self).contains("/namespace"))
        await server.stop()
    }
}
