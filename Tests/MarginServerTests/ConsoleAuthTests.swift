import Comments
import Foundation
import MarginServer
import Moderation
import ModerationTestSupport
import Testing
import TestSupport

/// Who may use the moderation API, on both stores: sign-in links, sessions, CSRF, admin tokens
/// and which sites each person sees.
@Suite struct ConsoleAuthTests {
    static let moderator = "mod@example.org"
    static let admin = "boss@example.org"

    /// Sites `a` and `b`, `moderator` moderating `a` only, `admin` an admin; a held comment on each.
    func twoSites(_ server: BackendServer) async throws -> (a: Int64, b: Int64) {
        let now = server.clock.nowMillis()
        for id in ["a", "b"] {
            try await server.store.addSite(Site(id: id, name: id.uppercased(), origins: ["http://127.0.0.1:*"], moderation: .all, createdAt: now,
                                                moderators: id == "a" ? [Self.moderator] : ["other@example.org"]))
        }
        _ = try await server.store.addAdminUser(email: Self.admin, at: now)
        var ids: [Int64] = []
        for id in ["a", "b"] {
            let answer = try await server.client.postJSON("/api/v1/comments", ["site": id, "uri": "/post/", "text": "Held on \(id)"])
            ids.append(try #require((answer.json["id"] as? NSNumber)?.int64Value, "post gave \(answer.status): \(answer.text)"))
        }
        return (ids[0], ids[1])
    }

    func ids(_ answer: HTTPResult) -> [Int64] {
        (answer.json["comments"] as? [[String: Any]] ?? []).compactMap { ($0["id"] as? NSNumber)?.int64Value }
    }

    @Test(arguments: TestBackend.allCases)
    func aSignInLinkIsMailedToModeratorsOnlyAndWorksOnce(backend: TestBackend) async throws {
        let sink = try await SMTPSink.started()
        defer { sink.close() }
        try await TestServer.with(backend: backend, mailTransport: SMTPTransport(configuration: sink.configuration()), configure: {
            $0.moderators = [Self.moderator]
            $0.mailFrom = "margin@example.org"
        }) { server in
            // Given a moderator (the server's default) and an address that is nobody
            // When both ask for a sign-in link
            let known = try await server.client.postJSON("/api/v1/admin/sign-in", ["email": "Mod@Example.org"])
            let unknown = try await server.client.postJSON("/api/v1/admin/sign-in", ["email": "stranger@example.org"])
            // Then both get the same answer, and only the moderator gets mail
            #expect(known.status == 202 && unknown.status == 202)
            #expect(known.text == unknown.text)
            let mail = try #require(try await sink.waitForMessages(count: 1, timeout: .seconds(20)).first)
            #expect(mail.recipients == [Self.moderator])
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await sink.waitForMessages(count: 1).count == 1)
            let url = try #require(mail.body.split(whereSeparator: \.isWhitespace).first { $0.contains("/admin/sign-in?") })
            let path = String(url.drop { $0 != "/" }.dropFirst(2).drop { $0 != "/" })
            // When the link is opened, nothing happens until its button is pressed
            let page = try await server.client.get(path)
            #expect(page.status == 200 && page.text.contains("<form method=\"post\""))
            let origin = [("Origin", "http://127.0.0.1:\(server.port)")]
            let signedIn = try await server.client.send("POST", path, headers: origin)
            #expect(signedIn.status == 303 && signedIn.header("Location") == "/admin/")
            let cookie = try #require(signedIn.header("Set-Cookie"))
            #expect(cookie.hasPrefix("margin_session=mgs_"))
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/") && !cookie.contains("Secure"))
            let session = try await server.client.get("/api/v1/admin/session", headers: [("Cookie", String(cookie.split(separator: ";")[0]))])
            #expect(session.json["email"] as? String == Self.moderator && session.json["role"] as? String == "moderator")
            // And the link works once
            #expect(try await server.client.send("POST", path, headers: origin).status == 409)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func alteredExpiredAndForeignSignInsAreRefused(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend, configure: { $0.moderators = [Self.moderator] }) { server in
            let origin = [("Origin", "http://127.0.0.1:\(server.port)")]
            let path = try await ConsoleClient.signInPath(server, email: Self.moderator)
            // An altered address, a foreign Origin, no Origin: refused, and the link is not spent
            #expect(try await server.client.send("POST", path.replacingOccurrences(of: "mod%40", with: "boss%40"), headers: origin).status == 403)
            #expect(try await server.client.send("POST", path, headers: [("Origin", "https://evil.example")]).status == 403)
            #expect(try await server.client.send("POST", path).status == 403)
            #expect(try await server.client.send("POST", path, headers: origin).status == 303)
            // A link fifteen minutes old has expired
            let late = try await ConsoleClient.signInPath(server, email: Self.moderator)
            server.clock.advance(seconds: 15 * 60 + 1)
            #expect(try await server.client.send("POST", late, headers: origin).status == 410)
            // A link for an address that may not moderate signs nobody in
            let stranger = try await ConsoleClient.signInPath(server, email: "stranger@example.org")
            #expect(try await server.client.send("POST", stranger, headers: origin).status == 403)
        }
    }

    @Test func anHTTPSPublicURLMakesTheCookieSecureAndHostOnly() async throws {
        try await TestServer.with(backend: .sqlite, configure: {
            $0.moderators = [Self.moderator]
            $0.publicURL = "https://comments.example.org"
        }) { server in
            let base = "https://comments.example.org"
            _ = try await server.store.addSigningKeyIfNoneExist(LinkSigner.makeKey(random: SystemRandom(), at: server.clock.nowMillis()))
            let link = try #require(SignInLink.make(email: Self.moderator, publicURL: base, signer: LinkSigner(keys: try await server.store.signingKeys()),
                                                    now: server.clock.nowMillis(), random: SystemRandom()))
            let answer = try await server.client.send("POST", String(link.dropFirst(base.count)), headers: [("Origin", base)])
            let cookie = try #require(answer.header("Set-Cookie"))
            #expect(cookie.hasPrefix("__Host-margin_session=mgs_") && cookie.contains("; Secure") && cookie.contains("Path=/"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func idleExpiredSignedOutAndRevokedSessionsEnd(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend, configure: { $0.moderators = [Self.moderator] }) { server in
            // Given a session left idle for longer than two hours
            let idle = try await ConsoleClient.signIn(server, email: Self.moderator)
            server.clock.advance(seconds: 2 * 3600 + 60)
            let expired = try await idle.get("/api/v1/admin/comments")
            #expect(expired.status == 401 && expired.errorCode == "invalid_session")
            // Given a busy session: it still ends twelve hours after sign-in
            let busy = try await ConsoleClient.signIn(server, email: Self.moderator)
            for _ in 0..<6 {
                server.clock.advance(seconds: 3600 + 59 * 60)
                #expect(try await busy.get("/api/v1/admin/comments").status == 200)
            }
            server.clock.advance(seconds: 7 * 60)
            #expect(try await busy.get("/api/v1/admin/comments").status == 401)
            // Sign-out ends this session; sign-out-everywhere ends every session of the address
            let first = try await ConsoleClient.signIn(server, email: Self.moderator)
            let second = try await ConsoleClient.signIn(server, email: Self.moderator)
            let third = try await ConsoleClient.signIn(server, email: Self.moderator)
            let out = try await first.send("POST", "/api/v1/admin/sign-out")
            #expect(out.status == 204 && out.header("Set-Cookie")?.contains("Max-Age=0") == true)
            #expect(try await first.get("/api/v1/admin/session").status == 401)
            #expect(try await second.get("/api/v1/admin/session").status == 200)
            let everywhere = try await second.send("POST", "/api/v1/admin/sign-out-everywhere")
            #expect(everywhere.json.int("revoked") == 2)
            #expect(try await second.get("/api/v1/admin/session").status == 401)
            #expect(try await third.get("/api/v1/admin/session").status == 401)
            // And `margin admin sessions revoke` (the store's revoke) ends one at once
            let fourth = try await ConsoleClient.signIn(server, email: Self.moderator)
            let id = try #require(try await fourth.get("/api/v1/admin/session").json["session_id"] as? String)
            #expect(try await server.store.revokeConsoleSession(id: id, at: server.clock.nowMillis()))
            #expect(try await fourth.get("/api/v1/admin/session").status == 401)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aChangeNeedsTheSessionsOriginAndCSRFToken(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend) { server in
            let (a, _) = try await twoSites(server)
            let console = try await ConsoleClient.signIn(server, email: Self.moderator)
            let path = "/api/v1/admin/comments/\(a)/approve"
            let attempts: [[(String, String)]] = [
                [("Cookie", console.cookie), ("X-CSRF-Token", console.csrf)],
                [("Cookie", console.cookie), ("Origin", "https://evil.example"), ("X-CSRF-Token", console.csrf)],
                [("Cookie", console.cookie), ("Origin", "http://127.0.0.1:1"), ("X-CSRF-Token", console.csrf)],
                [("Cookie", console.cookie), ("Origin", console.origin)],
                [("Cookie", console.cookie), ("Origin", console.origin), ("X-CSRF-Token", String(console.csrf.reversed()))],
            ]
            for headers in attempts {
                let refused = try await console.send("POST", path, headers: headers)
                #expect(refused.status == 403 && refused.errorCode == "csrf", "\(headers.map(\.0))")
            }
            #expect(try await server.store.comment(id: a)?.status == .pending)
            // No cookie at all is 401, whatever else is sent
            let anonymous = try await console.send("POST", path, headers: [("Origin", console.origin), ("X-CSRF-Token", console.csrf)])
            #expect(anonymous.status == 401)
            #expect(try await console.send("POST", path).status == 200)
            #expect(try await server.store.comment(id: a)?.status == .approved)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aModeratorOfOneSiteSeesNothingOfAnother(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend) { server in
            let (a, b) = try await twoSites(server)
            let console = try await ConsoleClient.signIn(server, email: Self.moderator)
            // The other site's comment is as absent as one that never existed
            for path in ["/api/v1/admin/comments/\(b)", "/api/v1/admin/comments?site=b", "/api/v1/admin/sites/b", "/api/v1/admin/stats?site=b",
                         "/api/v1/admin/log?site=b"] {
                #expect(try await console.get(path).status == 404, "\(path)")
            }
            #expect(try await console.send("POST", "/api/v1/admin/comments/\(b)/approve").status == 404)
            #expect(try await console.send("PATCH", "/api/v1/admin/comments/\(b)", json: ["body": "mine now"]).status == 404)
            let bulk = try await console.send("POST", "/api/v1/admin/comments/bulk", json: ["ids": [a, b], "action": "spam"])
            let results = try #require(bulk.json["results"] as? [[String: Any]])
            #expect(results.map { $0["status"] as? String } == ["spam", nil])
            #expect(try await server.store.comment(id: b)?.status == .pending)
            // Nor does it show up in the log, the statistics, a thread filter or an author's history
            _ = try await server.store.moderate(ModerationDecision(commentID: b, action: .spam, actor: .cli, at: server.clock.nowMillis()),
                                                features: nil, mail: nil)
            let log = try await console.get("/api/v1/admin/log")
            #expect((log.json["entries"] as? [[String: Any]])?.allSatisfy { $0["site"] as? String == "a" } == true)
            // (Only a's comment, spammed above, counts: b's is spam too now.)
            #expect((try await console.get("/api/v1/admin/stats").json["statuses"] as? [String: Any])?["spam"] as? Int == 1)
            let bThread = try #require(try await server.store.comment(id: b)?.threadID)
            #expect(ids(try await console.get("/api/v1/admin/comments?thread=\(bThread)&status=all")).isEmpty)
            let sameAuthor = try await server.client.postJSON("/api/v1/comments", ["site": "a", "uri": "/post/", "text": "Mine too", "email": "both@example.org"])
            _ = try await server.client.postJSON("/api/v1/comments", ["site": "b", "uri": "/post/", "text": "On b", "email": "both@example.org"])
            let mine = try #require((sameAuthor.json["id"] as? NSNumber)?.int64Value)
            let history = try await console.get("/api/v1/admin/comments/\(mine)").json["history"] as? [[String: Any]]
            #expect(history?.allSatisfy { $0["site"] as? String == "a" } == true)
            // The queue and the site list hold only their own site
            let queue = try await console.get("/api/v1/admin/comments?status=all")
            #expect((queue.json["comments"] as? [[String: Any]])?.map { $0["site"] as? String } == ["a", "a"])
            let sites = try await console.get("/api/v1/admin/sites")
            #expect((sites.json["sites"] as? [[String: Any]])?.map { $0["id"] as? String } == ["a"])
            // Settings, imports and exports are for admins
            let patch = try await console.send("PATCH", "/api/v1/admin/sites/a", json: ["moderation": "none"])
            #expect(patch.status == 403 && patch.errorCode == "admin_only")
            #expect(try await console.get("/api/v1/admin/export").status == 403)
            // An admin sees and changes both
            let admin = try await ConsoleClient.signIn(server, email: Self.admin)
            #expect(try await admin.get("/api/v1/admin/comments/\(b)").status == 200)
            #expect(try await admin.send("PATCH", "/api/v1/admin/sites/b", json: ["moderation": "auto"]).json["moderation"] as? String == "auto")
            #expect(try await server.store.site(id: "b")?.moderation == .auto)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anAdminTokenWorksWithoutCSRFUntilRevoked(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend) { server in
            let (a, b) = try await twoSites(server)
            let (token, secret) = try await server.store.createAdminToken(name: "script", random: SystemRandom(), at: server.clock.nowMillis())
            let bearer = [("Authorization", "Bearer \(secret)")]
            let listed = try await server.client.get("/api/v1/admin/comments?status=pending", headers: bearer)
            #expect((listed.json["comments"] as? [[String: Any]])?.count == 2)
            #expect(try await server.client.send("POST", "/api/v1/admin/comments/\(a)/spam", headers: bearer).status == 200)
            #expect(try await server.store.moderationLog(commentID: a, limit: 1).first?.moderator == "token:script")
            _ = try await server.store.revokeAdminToken(id: token.id, at: server.clock.nowMillis())
            let revoked = try await server.client.send("POST", "/api/v1/admin/comments/\(b)/spam", headers: bearer)
            #expect(revoked.status == 401 && revoked.errorCode == "invalid_admin_token")
            #expect(try await server.store.comment(id: b)?.status == .pending)
        }
    }

    @Test func aSessionMadeOnOneNodeWorksOnAnother() async throws {
        // Given two nodes on one PostgreSQL database
        let url = try await PostgresTestCluster.freshDatabase()
        try await TestServer.with(backend: .postgres, postgresURL: url, configure: { $0.moderators = [Self.moderator] }) { first in
            try await TestServer.with(backend: .postgres, postgresURL: url, configure: { $0.moderators = [Self.moderator] }) { second in
                let held = try await first.client.postJSON("/api/v1/comments", ["site": "default", "uri": "/post/", "text": "Seen on both"])
                let id = try #require((held.json["id"] as? NSNumber)?.int64Value)
                // When a moderator signs in on the first
                let console = try await ConsoleClient.signIn(first, email: Self.moderator)
                // Then the second knows the session, its CSRF token and its decisions
                let session = try await second.client.get("/api/v1/admin/session", headers: [("Cookie", console.cookie)])
                #expect(session.status == 200 && session.json["csrf_token"] as? String == console.csrf)
                let decided = try await second.client.send("POST", "/api/v1/admin/comments/\(id)/spam", headers: [
                    ("Cookie", console.cookie), ("Origin", "http://127.0.0.1:\(second.port)"), ("X-CSRF-Token", console.csrf)])
                #expect(decided.status == 200)
                // And signing out on the second ends it on the first
                _ = try await second.client.send("POST", "/api/v1/admin/sign-out", headers: [
                    ("Cookie", console.cookie), ("Origin", "http://127.0.0.1:\(second.port)"), ("X-CSRF-Token", console.csrf)])
                #expect(try await console.get("/api/v1/admin/session").status == 401)
            }
        }
    }

    @Test func signInRequestsAreRateLimitedPerClient() async throws {
        try await TestServer.with(backend: .sqlite) { server in
            var statuses: [Int] = []
            for index in 0..<6 {
                statuses.append(try await server.client.postJSON("/api/v1/admin/sign-in", ["email": "someone\(index)@example.org"]).status)
            }
            #expect(statuses == [202, 202, 202, 202, 202, 429])
            let invalid = try await server.client.postJSON("/api/v1/admin/sign-in", ["email": "not an address"])
            #expect(invalid.status == 422)
        }
    }
}
