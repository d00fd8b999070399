import Hummingbird

/// Answers 405 with an `Allow` header (RFC 9110) when a path exists but not for the request's
/// method; Hummingbird's router says 404 for both. Paths that do not exist stay 404.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// One registered route: its path template and its method.
    struct Route: Sendable {
        var path: [RouterPath.Element]
        var method: HTTPRequest.Method
    }

    let routes: [Route]

    /// The routes as the router has them once every route group is registered.
    init(routes: [Router<Context>.RouteDescription]) {
        self.routes = routes.map { Route(path: Array($0.path.components), method: $0.method) }
    }

    /// The methods some route takes at `path`, sorted; empty when no route has the path.
    func allowedMethods(at path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var matching = routes.filter { route in
            route.path.count == segments.count && zip(route.path, segments).allSatisfy { $0 ~= $1 }
        }
        // The router takes a segment a route names exactly over a parameter, and does not come
        // back (`/comments/bulk` is never `/comments/{id}`): list only the methods it would reach.
        for (index, segment) in segments.enumerated() where matching.contains(where: { $0.path[index].description == segment }) {
            matching.removeAll { $0.path[index].description != segment }
        }
        return Set(matching.map(\.method.rawValue)).sorted()
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            // Only the router's own "no route" is an HTTPError 404; handlers throw APIError.
            let allowed = allowedMethods(at: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            throw HTTPError(.methodNotAllowed, headers: [.allow: allowed.joined(separator: ", ")])
        }
    }
}
