import Comments
import Foundation
import Moderation
import Testing
import TestSupport

/// A browser signed in to the console: its session cookie, the public origin it sends, and the
/// CSRF token the session answer gave it.
struct ConsoleClient {
    let client: HTTPClient
    let cookie: String
    let csrf: String
    var origin: String { "http://127.0.0.1:\(client.port)" }

    /// Signs `email` in as a browser does: follows a fresh sign-in link's button, keeps the cookie.
    static func signIn(_ server: BackendServer, email: String) async throws -> ConsoleClient {
        let link = try await signInPath(server, email: email)
        let answer = try await server.client.send("POST", link, headers: [("Origin", "http://127.0.0.1:\(server.port)")])
        guard answer.status == 303, let setCookie = answer.header("Set-Cookie"),
              let pair = setCookie.split(separator: ";").first
        else { throw TestFailure("sign-in gave \(answer.status): \(answer.text)") }
        let cookie = String(pair)
        let session = try await server.client.get("/api/v1/admin/session", headers: [("Cookie", cookie)])
        guard let csrf = session.json["csrf_token"] as? String else { throw TestFailure("session gave \(session.status): \(session.text)") }
        return ConsoleClient(client: server.client, cookie: cookie, csrf: csrf)
    }

    /// The path and query of a new sign-in link for `email`, as `margin admin login-link` prints it.
    static func signInPath(_ server: BackendServer, email: String) async throws -> String {
        _ = try await server.store.addSigningKeyIfNoneExist(LinkSigner.makeKey(random: SystemRandom(), at: server.clock.nowMillis()))
        let base = "http://127.0.0.1:\(server.port)"
        guard let link = SignInLink.make(email: email, publicURL: base, signer: LinkSigner(keys: try await server.store.signingKeys()),
                                         now: server.clock.nowMillis(), random: SystemRandom())
        else { throw TestFailure("no signing key") }
        return String(link.dropFirst(base.count))
    }

    func get(_ path: String) async throws -> HTTPResult {
        try await client.get(path, headers: [("Cookie", cookie)])
    }

    /// A changing request as the console sends it: cookie, origin, CSRF token, JSON body.
    func send(_ method: String, _ path: String, json: Any? = nil, headers extra: [(String, String)]? = nil) async throws -> HTTPResult {
        let headers = extra ?? [("Cookie", cookie), ("Origin", origin), ("X-CSRF-Token", csrf)]
        guard let json else { return try await client.send(method, path, headers: headers) }
        return try await client.postJSON(path, json, method: method, headers: headers)
    }
}
