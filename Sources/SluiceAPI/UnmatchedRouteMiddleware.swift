import Hummingbird

/// Answers the requests no route matched, in the API's JSON error form: a path the API has
/// under other methods gets 405 with `Allow` (TRACE, OPTIONS, DELETE, HEAD on a GET-only
/// path…), any other path a 404. Added after every route, so Hummingbird puts it only in front
/// of its not-found responder: matched requests never pass through it.
struct UnmatchedRouteMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each route's path split into segments (nil: a parameter, matching any one segment),
    /// with the methods it has.
    let routes: [(segments: [String?], methods: [String])]

    init(routes: [Router<Context>.RouteDescription]) {
        var table: [String: [String]] = [:]
        var order: [String] = []
        for route in routes {
            let path = route.path.description
            if table[path] == nil { order.append(path) }
            table[path, default: []].append(route.method.rawValue)
        }
        self.routes = order.map { path in
            (Self.segments(path).map { $0.hasPrefix("{") || $0.hasPrefix(":") ? nil : $0 }, table[path]!.sorted())
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let segments = Self.segments(request.uri.path)
            let allowed = Set(routes.filter { route in
                route.segments.count == segments.count && zip(route.segments, segments).allSatisfy { $0 == nil || $0 == $1 }
            }.flatMap(\.methods)).sorted()
            if allowed.isEmpty { throw APIError.notFound("no route \(request.method.rawValue) \(request.uri.path)") }
            throw MethodNotAllowed(method: request.method.rawValue, path: request.uri.path, allowed: allowed)
        }
    }

    private static func segments(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init)
    }
}

/// 405 with the methods the path has in `Allow`, and the API's JSON error body.
struct MethodNotAllowed: Error, HTTPResponseError {
    let method: String
    let path: String
    let allowed: [String]

    var status: HTTPResponse.Status { .methodNotAllowed }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try APIError(status, "method_not_allowed", "\(method) is not allowed on \(path); allowed: \(allowed.joined(separator: ", "))")
            .response(from: request, context: context)
        response.headers[.allow] = allowed.joined(separator: ", ")
        return response
    }
}
