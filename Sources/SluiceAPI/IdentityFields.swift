import Foundation
import SluiceCore

/// A submit's namespace and idempotency key. Both are stored and compared whole (strings are
/// bound to SQLite by their byte count, so a NUL no longer cuts them); what each may hold is
/// decided by what it is:
/// - a namespace is a name: it is listed, filtered on, and becomes part of activity queue
///   names (`activity:NAMESPACE--NAME`), so control characters (NUL, line breaks) are refused;
/// - an idempotency key is an opaque token the client chose: any string, compared byte for byte.
extension RequestBody {
    func namespace() throws -> String? {
        guard let namespace = try string("namespace") else { return nil }
        if namespace.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw APIError.invalid("/namespace: a namespace may not contain control characters (NUL, line breaks, tabs)")
        }
        return namespace
    }

    func idempotencyKey() throws -> String? { try string("idempotencyKey") }
}
