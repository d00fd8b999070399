import Comments
import Foundation
import HTTPTypes
import Hummingbird
import Moderation

/// Authenticates every moderation API request: an admin bearer token, or the console's session
/// cookie; a changing request by cookie also needs the public URL's `Origin` and the session's
/// CSRF token. Failed token attempts are rate-limited per client network.
struct ConsoleGate: Sendable {
    let store: any CommentStore
    let clock: any MarginClock
    let failures: RateLimiter
    /// The public base URL: its origin is the only one changing requests may come from; https
    /// makes the cookie `Secure` and `__Host-`.
    let publicURL: String
    /// Moderators of sites that name none (`mail.moderators`).
    let defaultModerators: [String]
    var policy: SessionPolicy = .standard

    /// The header a changing request repeats the session's CSRF token in.
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    /// Whether the public URL is https (then the cookie is `Secure` with the `__Host-` prefix).
    var isSecure: Bool { publicURL.lowercased().hasPrefix("https://") }

    /// The session cookie's name.
    var cookieName: String { isSecure ? "__Host-margin_session" : "margin_session" }

    /// The public URL's origin, `scheme://host[:port]`, lowercased, default port dropped.
    var publicOrigin: String { Self.origin(of: publicURL) ?? publicURL.lowercased() }

    /// `scheme://host[:port]` of a URL, lowercased, without a default port; nil for anything else.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = components.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
            return "\(scheme)://\(bracketed):\(port)"
        }
        return "\(scheme)://\(bracketed)"
    }

    /// The caller of a request that only reads: 401 unless a valid token or session.
    func caller(_ request: Request, context: MarginRequestContext) async throws -> ConsoleCaller {
        // Only a bearer token: a proxy's Basic authentication in front of /admin/ must not hide the cookie.
        if let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer") || sessionCookie(request) == nil {
            return try await tokenCaller(request, context: context)
        }
        guard let presented = sessionCookie(request) else { throw Self.noCredentials }
        let now = clock.nowMillis()
        guard let session = try await store.verifyConsoleSession(presented, at: now, policy: policy),
              let role = try await ConsoleRole.of(email: session.email, store: store, defaultModerators: defaultModerators)
        else { throw Self.invalidSession }
        return ConsoleCaller(moderator: session.email, role: role, session: session, csrfToken: CSRFToken.derive(fromSession: presented))
    }

    /// The caller of a request that changes something: as `caller`, and by cookie only with
    /// this server's `Origin` and the session's CSRF token (403 otherwise).
    func changingCaller(_ request: Request, context: MarginRequestContext) async throws -> ConsoleCaller {
        let caller = try await caller(request, context: context)
        guard let expected = caller.csrfToken else { return caller }
        try requireOwnOrigin(request)
        let presented = request.headers[Self.csrfHeader] ?? ""
        guard CommentService.constantTimeEquals(Array(presented.utf8), Array(expected.utf8)) else {
            throw APIError(.forbidden, code: "csrf", message: "Send the session's CSRF token in X-CSRF-Token (GET /api/v1/admin/session).")
        }
        return caller
    }

    /// 403 unless the request's `Origin` is the public URL's.
    func requireOwnOrigin(_ request: Request) throws {
        guard let origin = request.headers[.origin], Self.origin(of: origin) == publicOrigin else {
            throw APIError(.forbidden, code: "csrf", message: "Changes are accepted only from \(publicOrigin) (the Origin header).")
        }
    }

    /// Neither a token nor a session: the code the admin API has always answered.
    static let noCredentials = APIError(
        .unauthorized, code: "invalid_admin_token", message: "Sign in at /admin/, or send an admin token (margin admin token create).",
        headers: [.wwwAuthenticate: "Bearer"])
    /// A session cookie that is unknown, expired or revoked, or whose address may no longer moderate.
    static let invalidSession = APIError(
        .unauthorized, code: "invalid_session", message: "The session has ended; sign in again at /admin/.",
        headers: [.wwwAuthenticate: "Bearer"])

    /// An admin token's caller: 401 without a valid one, 429 after too many failures. A client
    /// network over the failure limit is refused before its token is even looked at.
    func tokenCaller(_ request: Request, context: MarginRequestContext) async throws -> ConsoleCaller {
        let client = context.clientIP.map(IPAnonymizer.clientKey(of:)) ?? "unknown"
        if let wait = failures.wait(site: "admin", client: client, limit: AdminRoutes.failureLimit) {
            throw AdminRoutes.tooManyFailures(wait)
        }
        let presented = CommentsRoutes.bearer(request) ?? ""
        if !presented.isEmpty, let token = try await store.verifyAdminToken(presented, at: clock.nowMillis()) {
            return ConsoleCaller(moderator: "token:\(token.name)", role: .admin, session: nil, csrfToken: nil)
        }
        if let wait = await failures.take(site: "admin", client: client, limit: AdminRoutes.failureLimit) {
            throw AdminRoutes.tooManyFailures(wait)
        }
        throw APIError(.unauthorized, code: "invalid_admin_token", message: "An admin token is required (margin admin token create).",
                       headers: [.wwwAuthenticate: "Bearer"])
    }

    /// The session cookie's value, if the request carries one.
    func sessionCookie(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == cookieName {
                    let value = parts[1].trimmingCharacters(in: .whitespaces)
                    return value.isEmpty ? nil : value
                }
            }
        }
        return nil
    }

    /// `Set-Cookie` for a new session.
    func setCookie(_ value: String) -> String {
        "\(cookieName)=\(value); Path=/; Max-Age=\(policy.absoluteMillis / 1000); HttpOnly; SameSite=Strict\(isSecure ? "; Secure" : "")"
    }

    /// `Set-Cookie` that ends the session cookie in the browser.
    var clearCookie: String {
        "\(cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict\(isSecure ? "; Secure" : "")"
    }
}
