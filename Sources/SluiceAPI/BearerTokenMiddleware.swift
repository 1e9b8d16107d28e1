import Hummingbird

/// Requires `Authorization: Bearer <token>` on every request, compared in constant time so the
/// response time does not reveal how much of a guess was right.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    init(token: String) { self.token = Array(token.utf8) }

    /// Liveness probes and the API description need no token.
    static var openPaths: Set<String> { ["/v1/health", "/v1/openapi.yaml", "/status", "/api/v1/health"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.openPaths.contains(request.uri.path) { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), Self.constantTimeEquals(Array(header.utf8.dropFirst(prefix.utf8.count)), token) else {
            throw APIError(.unauthorized, "unauthorized", "missing or wrong bearer token")
        }
        return try await next(request, context)
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
