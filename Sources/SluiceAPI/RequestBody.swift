import Foundation
import Hummingbird
import NIOCore
import SluiceCore

/// A request's JSON object body, read with the size cap, with typed accessors whose errors
/// name the offending field as a JSON pointer.
struct RequestBody {
    let object: [String: Any]

    static func read(_ request: Request, limit: Int) async throws -> RequestBody {
        let buffer = try await collect(request, limit: limit)
        let data = Data(buffer.readableBytesView)
        if data.isEmpty { return RequestBody(object: [:]) }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw APIError.badJSON(Self.describe(error))
        }
        guard let object = value as? [String: Any] else { throw APIError.invalid("request body must be a JSON object") }
        return RequestBody(object: object)
    }

    /// The whole body, at most `limit` bytes: more is a 413. A body that ends before its
    /// `Content-Length` (the client half-closed or went away mid-body) is a 400, since nothing
    /// was too large: the request was cut.
    static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "request body exceeds \(limit) bytes")
        } catch {
            let announced = request.headers[.contentLength].map { " (Content-Length: \($0))" } ?? ""
            throw APIError(.badRequest, "truncated_body", "the request body ended before all of it arrived\(announced)")
        }
    }

    /// Refuses fields the endpoint does not know, naming the first.
    func allowOnly(_ fields: Set<String>) throws {
        if let unknown = object.keys.sorted().first(where: { !fields.contains($0) }) {
            throw APIError.invalid("unknown field at /\(unknown); allowed: \(fields.sorted().joined(separator: ", "))")
        }
    }

    func string(_ key: String, required: Bool = false) throws -> String? {
        guard let value = object[key], !(value is NSNull) else {
            if required { throw APIError.invalid("missing required field /\(key)") }
            return nil
        }
        guard let string = value as? String else { throw APIError.invalid("/\(key) must be a string") }
        return string
    }

    func int(_ key: String) throws -> Int? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard !isJSONBoolean(value), let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded() else {
            throw APIError.invalid("/\(key) must be an integer")
        }
        return number.intValue
    }

    /// A JSON value re-serialised as text (the engine stores JSON text).
    func json(_ key: String, default fallback: String) throws -> String {
        guard let value = object[key] else { return fallback }
        guard JSONSerialization.isValidJSONObject([value]) else { throw APIError.invalid("/\(key) is not JSON") }
        let data = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private static func describe(_ error: Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
    }
}

/// RFC 3339 timestamps for API output.
enum Timestamp {
    static func render(_ seconds: Double?) -> JSONText.Value {
        guard let seconds else { return .null }
        let date = Date(timeIntervalSince1970: seconds)
        return .string(date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)))
    }

    static func parse(_ text: String) -> Double? {
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) {
            return date.timeIntervalSince1970
        }
        if let date = try? Date(text, strategy: .iso8601) { return date.timeIntervalSince1970 }
        return nil
    }
}

/// True for a JSON `true`/`false` from JSONSerialization. On Linux every NSNumber answers
/// `is Bool` (0 and 1 included), so booleans are told apart by their Objective-C type code.
func isJSONBoolean(_ value: Any) -> Bool {
    if let number = value as? NSNumber { return String(cString: number.objCType) == "c" }
    return value is Bool
}
