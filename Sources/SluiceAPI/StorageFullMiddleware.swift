import Hummingbird
import SluiceCore

/// Turns a write refused for a full disk into a 507 with a JSON error naming the cause, in
/// front of every route. Before, such a request got an empty 500, and each one logged a line:
/// 1,952 submits in a few seconds. The log line is written once per interval for the whole
/// process (`ThrottledLog`, kind `storage-full`, shared with the completer). Nothing of a
/// refused request was stored, so the client may retry once space is freed.
struct StorageFullMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            guard let cause = StorageFull.cause(of: error) else { throw error }
            ThrottledLog.standard.report("storage-full", "\(request.method.rawValue) \(request.uri.path) refused: the database's disk is full: \(error)")
            throw APIError.storageFull(cause)
        }
    }
}
