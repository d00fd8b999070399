import Comments
import HTTPTypes
import Hummingbird

/// CORS for the API: a browser may read responses only from the origins of a configured site.
/// Answers preflights itself. Writes are additionally checked against the specific site's
/// origins by the routes (the site is only known once the body is read).
struct SiteCORSMiddleware: RouterMiddleware {
    typealias Context = MarginRequestContext
    let sites: SiteDirectory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/") else { return try await next(request, context) }
        guard let origin = request.headers[.origin] else {
            // Answers to requests with an Origin carry CORS headers: a shared cache must not
            // hand this one to them.
            var response = try await next(request, context)
            response.headers.append(HTTPField(name: .vary, value: "Origin"))
            return response
        }
        let allowed = try await sites.anySiteAllows(origin: origin)
        if request.method == .options {
            guard allowed else {
                throw APIError(.forbidden, code: "origin_not_allowed", message: "Origin '\(origin)' is not allowed by any site.")
            }
            var headers = HTTPFields()
            headers[.accessControlAllowOrigin] = origin
            headers[.accessControlAllowMethods] = "GET, POST, PATCH, DELETE, OPTIONS"
            headers[.accessControlAllowHeaders] = "Content-Type, Authorization, If-None-Match"
            headers[.accessControlMaxAge] = "86400"
            headers[.vary] = "Origin"
            return Response(status: .noContent, headers: headers)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // Errors must carry CORS headers too, or the widget cannot read them; answered (and
            // logged) as everywhere else.
            response = try ErrorMiddleware<Context>.response(for: error, request: request, context: context)
        }
        if allowed {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.accessControlExposeHeaders] = "ETag, Retry-After"
        }
        // Added to what the route varies on (Accept-Encoding), not in its place.
        response.headers.append(HTTPField(name: .vary, value: "Origin"))
        return response
    }
}

/// Sites looked up for origin checks (from memory while nothing changed).
struct SiteDirectory: Sendable {
    let sites: SiteCache

    func anySiteAllows(origin: String) async throws -> Bool {
        try await sites.all().values.contains { $0.allows(origin: origin) }
    }
}
