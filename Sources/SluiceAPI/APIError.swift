import Foundation
import Hummingbird
import SluiceCore

/// An error the API answers with: an HTTP status, a stable machine-readable code and a message
/// that says what was wrong and where. Rendered as `{"error":{"code":…,"message":…}}`.
public struct APIError: Error, HTTPResponseError {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(status: status, body: JSONText.object(["error": .raw(JSONText.object(["code": .string(code), "message": .string(message)]))]))
    }

    static func badJSON(_ detail: String) -> APIError { APIError(.badRequest, "invalid_json", "request body is not valid JSON: \(detail)") }
    static func invalid(_ message: String) -> APIError { APIError(.badRequest, "invalid_request", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
    /// 507: the write was refused because the database's volume is full; nothing was stored.
    static func storageFull(_ cause: String) -> APIError {
        APIError(HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), "storage_full",
                 "the database's disk is full: \(cause); nothing was stored, retry once space is freed")
    }
}

enum JSONResponse {
    static func make(status: HTTPResponse.Status = .ok, body: String) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(body)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }
}
