import Comments
import Foundation
import Hummingbird
import Logging
import Moderation
import SafeHTML

/// Signing in to the console without passwords: a mailed single-use link, then a session cookie;
/// signing out here or everywhere.
struct SignInRoutes: Sendable {
    let gate: ConsoleGate
    let store: any CommentStore
    let clock: any MarginClock
    let random: any RandomSource
    /// Mail settings (From, public URL); nil when the server sends no mail.
    let mail: MailSettings?
    let limiter: RateLimiter
    let logger: Logger
    /// How long moderation links live: retired signing keys verify for that long.
    var linkLifetimeMillis: Int64?

    /// Five sign-in requests per client network in fifteen minutes (answered 429 past it).
    static let clientLimit = RateLimit(windows: [.init(count: 5, seconds: 900)])

    func register(on router: Router<MarginRequestContext>) {
        router.post("api/v1/admin/sign-in", use: requestLink)
        router.get("api/v1/admin/session", use: session)
        router.post("api/v1/admin/sign-out", use: signOut)
        router.post("api/v1/admin/sign-out-everywhere", use: signOutEverywhere)
        router.get("admin/sign-in", use: confirmPage)
        router.post("admin/sign-in", use: signIn)
    }

    /// The body of `POST /api/v1/admin/sign-in`.
    struct LinkRequest: JSONRequest {
        var email: String
        init(_ json: JSONFields) throws {
            let email = try json.required("email")
            guard (try? FieldRules.email(email, required: true)) != nil else {
                throw CommentsError.invalidField(field: "email", message: "must be an email address")
            }
            self.email = ConsoleRole.normalized(email)
        }
    }

    /// `POST /api/v1/admin/sign-in {"email"}`: 202 whether or not the address may sign in, so
    /// the answer tells nobody who the moderators are; the link is mailed in the background.
    @Sendable func requestLink(_ request: Request, context: MarginRequestContext) async throws -> Response {
        if request.headers[.origin] != nil { try gate.requireOwnOrigin(request) }
        let body = try await JSONBody.decode(LinkRequest.self, from: request, context: context)
        let client = context.clientIP.map(IPAnonymizer.clientKey(of:)) ?? "unknown"
        if let wait = await limiter.take(site: "sign-in", client: "client:\(client)", limit: Self.clientLimit) {
            throw APIError(.tooManyRequests, code: "rate_limited", message: "Too many sign-in requests; wait \(wait) s.",
                           headers: [.retryAfter: String(wait)])
        }
        let job = SignInMailJob(store: store, clock: clock, random: random, mail: mail, defaultModerators: gate.defaultModerators,
                                limiter: limiter, logger: logger)
        // Off the request, so a known address answers as fast as an unknown one.
        Task { await job.send(to: body.email) }
        return try JSONBody.response(encoding: ["sent": true], status: .accepted, headers: [.cacheControl: "no-store"])
    }

    /// The answer of `GET /api/v1/admin/session`.
    struct SessionView: Encodable {
        var email: String
        var role: String
        var sites: [String]
        var csrfToken: String?
        var sessionID: String?
        var expiresAt: Int64?

        enum CodingKeys: String, CodingKey {
            case email, role, sites
            case csrfToken = "csrf_token"
            case sessionID = "session_id"
            case expiresAt = "expires_at"
        }

        /// Every key, `null` included: a client reads a missing key as a mistake, not as null.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(email, forKey: .email)
            try container.encode(role, forKey: .role)
            try container.encode(sites, forKey: .sites)
            try container.encode(csrfToken, forKey: .csrfToken)
            try container.encode(sessionID, forKey: .sessionID)
            try container.encode(expiresAt, forKey: .expiresAt)
        }
    }

    /// `GET /api/v1/admin/session`: who is signed in, their sites and the CSRF token.
    @Sendable func session(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.caller(request, context: context)
        var sites = caller.role.siteIDs ?? []
        if caller.role.isAdmin { sites = try await store.sites().map(\.id) }
        let expiresAt = caller.session.map { min($0.lastSeenAt + gate.policy.idleMillis, $0.createdAt + gate.policy.absoluteMillis) }
        let view = SessionView(email: caller.moderator, role: caller.role.isAdmin ? "admin" : "moderator", sites: sites,
                               csrfToken: caller.csrfToken, sessionID: caller.session?.id, expiresAt: expiresAt)
        return try JSONBody.response(encoding: view, headers: [.cacheControl: "no-store"])
    }

    /// `POST /api/v1/admin/sign-out`: ends this session and clears the cookie.
    @Sendable func signOut(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.changingCaller(request, context: context)
        if let session = caller.session { _ = try await store.revokeConsoleSession(id: session.id, at: clock.nowMillis()) }
        return Response(status: .noContent, headers: [.setCookie: gate.clearCookie, .cacheControl: "no-store"])
    }

    /// `POST /api/v1/admin/sign-out-everywhere`: ends every session of the signed-in address.
    @Sendable func signOutEverywhere(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.changingCaller(request, context: context)
        guard caller.session != nil else {
            throw APIError(.unprocessableContent, code: "no_session", message: "An admin token has no sessions; revoke the token instead.")
        }
        let revoked = try await store.revokeConsoleSessions(email: caller.moderator, at: clock.nowMillis(), policy: gate.policy)
        return try JSONBody.response(encoding: ["revoked": revoked], headers: [.setCookie: gate.clearCookie, .cacheControl: "no-store"])
    }

    /// Verifies the link in the request: 403 altered or unknown key, 410 expired.
    func verify(_ request: Request) async throws -> SignedLink {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        guard let link = SignInLink.parse(query) else { throw Page.error(.forbidden, "This sign-in link is incomplete or has been altered.") }
        switch LinkSigner(keys: try await store.signingKeys(), linkLifetimeMillis: linkLifetimeMillis).verify(link, now: clock.nowMillis()) {
        case .failure(.invalid): throw Page.error(.forbidden, "This sign-in link is not valid: it has been altered or its key is unknown.")
        case .failure(.expired): throw Page.error(.gone, "This sign-in link has expired. Ask for a new one at /admin/.")
        case .success: return link
        }
    }

    /// `GET /admin/sign-in?…`: one button (mail scanners follow links; only the button signs in).
    @Sendable func confirmPage(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let link = try await verify(request)
        if try await store.isLinkUsed(nonce: link.nonce) { throw Page.error(.conflict, "This sign-in link has been used. Ask for a new one at /admin/.") }
        let body = """
            <h1>Sign in to Margin</h1>
            <p>As <strong>\(escapeHTML(link.site))</strong>.</p>
            <form method="post" action="\(escapeHTML(request.uri.description))"><button type="submit">Sign in</button></form>
            <p class="note">This link works once.</p>
            """
        return Page.response(.ok, title: "Sign in", body: body)
    }

    /// `POST /admin/sign-in?…`: spends the link, starts a session, sets the cookie, 303 to the console.
    @Sendable func signIn(_ request: Request, context: MarginRequestContext) async throws -> Response {
        do { try gate.requireOwnOrigin(request) } catch { throw Page.error(.forbidden, "Sign in from \(gate.publicOrigin).") }
        let link = try await verify(request)
        let now = clock.nowMillis()
        guard try await ConsoleRole.of(email: link.site, store: store, defaultModerators: gate.defaultModerators) != nil else {
            throw Page.error(.forbidden, "This address may no longer moderate here.")
        }
        guard try await store.spendLinkNonce(link.nonce, expiresAt: link.expiresAt, at: now) else {
            throw Page.error(.conflict, "This sign-in link has been used. Ask for a new one at /admin/.")
        }
        let (session, cookie) = try await store.createConsoleSession(
            email: link.site, userAgent: request.headers[.userAgent].map { String($0.prefix(200)) }, random: random, at: now)
        logger.info("console sign-in", metadata: ["session": "\(session.id)"])
        return Response(status: .seeOther, headers: [.location: "/admin/", .setCookie: gate.setCookie(cookie), .cacheControl: "no-store"])
    }
}
