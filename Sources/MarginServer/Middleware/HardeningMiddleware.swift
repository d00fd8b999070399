import Comments
import HTTPTypes
import Hummingbird
import NIOCore

/// The per-request abuse limits, in one layer because the GET path is hot: a request target over
/// `maxURLBytes` is 414, a declared body over `maxBodyBytes` is 413 before anything reads it (the
/// admin import has its own limit), and the client's address comes from `X-Forwarded-For` only
/// through a trusted proxy. Only header lookups; nothing is parsed unless a trusted proxy is
/// configured.
struct HardeningMiddleware: RouterMiddleware {
    typealias Context = MarginRequestContext
    let maxURLBytes: Int
    let maxBodyBytes: Int
    let clientAddress: ClientAddress?

    init(configuration: ServerConfiguration) {
        maxURLBytes = configuration.maxURLBytes
        maxBodyBytes = configuration.maxBodyBytes
        clientAddress = configuration.trustedProxies.isEmpty ? nil : ClientAddress(trustedProxies: configuration.trustedProxies)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let target = request.head.path, target.utf8.count > maxURLBytes {
            throw APIError(.uriTooLong, code: "uri_too_long", message: "The request address is longer than \(maxURLBytes) bytes.")
        }
        if let length = request.headers[.contentLength], let bytes = Int(length), bytes > maxBodyBytes,
           request.uri.path != AdminRoutes.importPath {
            throw NIOTooManyBytesError(maxBytes: maxBodyBytes)
        }
        var context = context
        context.maxUploadSize = maxBodyBytes
        if let clientAddress, let peer = context.remoteAddress?.ipAddress {
            let forwarded = request.headers[values: .xForwardedFor]
            if !forwarded.isEmpty { context.forwardedClientIP = clientAddress.resolve(peer: peer, forwardedFor: forwarded) }
        }
        return try await next(request, context)
    }
}

/// Puts the security headers on every answer, errors included: it sits outside `ErrorMiddleware`,
/// so what that middleware (or the CORS layer) turns an error into passes here too.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        SecurityHeaders.apply(to: &response.headers)
        return response
    }
}

/// The security headers of every answer: one place decides them.
enum SecurityHeaders {
    /// For an HTML page that names none of its own: nothing but this origin's styles and images,
    /// no script, and no framing by anyone.
    static let defaultPagePolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// `nosniff` on everything; on HTML without its own policy, the default one and no referrer.
    static func apply(to headers: inout HTTPFields) {
        // One pass and appends only: the subscript setter searches and removes first, and this
        // runs on every answer of the hot GET path.
        var hasTypeOptions = false, hasPolicy = false, hasReferrerPolicy = false, isHTML = false
        for field in headers {
            switch field.name {
            case .xContentTypeOptions: hasTypeOptions = true
            case .contentSecurityPolicy: hasPolicy = true
            case .referrerPolicy: hasReferrerPolicy = true
            case .contentType: isHTML = field.value.hasPrefix("text/html")
            default: break
            }
        }
        if !hasTypeOptions { headers.append(HTTPField(name: .xContentTypeOptions, value: "nosniff")) }
        if isHTML && !hasPolicy {
            headers.append(HTTPField(name: .contentSecurityPolicy, value: defaultPagePolicy))
            if !hasReferrerPolicy { headers.append(HTTPField(name: .referrerPolicy, value: "no-referrer")) }
        }
    }
}

extension HTTPField.Name {
    /// The addresses a request passed through, client first (set by proxies).
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    /// What a page sends as `Referer` when a link on it is followed.
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
