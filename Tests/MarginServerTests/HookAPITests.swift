import Comments
import Foundation
import MarginServer
import Moderation
import Testing
import TestSupport

/// Hooks through the moderation API on both stores: admins add, list, change, test and remove
/// them; moderators get 403 before anything is looked up; secrets are in clear only in the
/// answer that made them; private destinations are refused by address; a hook added through the
/// API hears the server's own events.
@Suite struct HookAPITests {
    static let moderator = "mod@example.org"
    static let admin = "boss@example.org"

    /// Site `a` (moderated by `moderator`, holding every comment) and an admin.
    func setUp(_ server: BackendServer) async throws {
        let now = server.clock.nowMillis()
        try await server.store.addSite(Site(id: "a", name: "Site A", origins: ["http://127.0.0.1:*"], moderation: .all, createdAt: now,
                                            moderators: [Self.moderator]))
        _ = try await server.store.addAdminUser(email: Self.admin, at: now)
    }

    /// The `hook` object of an answer.
    func hook(_ answer: HTTPResult) -> [String: Any] { answer.json["hook"] as? [String: Any] ?? [:] }

    /// A webhook to `url` (allowing private addresses: the receiver is on 127.0.0.1).
    func addWebhook(_ admin: ConsoleClient, url: String, site: String? = "a", events: [String] = ["held", "comment.spam"])
        async throws -> [String: Any] {
        var body: [String: Any] = ["preset": "webhook", "url": url, "events": events, "allow_private": true]
        if let site { body["site"] = site }
        let answer = try await admin.send("POST", "/api/v1/admin/hooks", json: body)
        guard answer.status == 201 else { throw TestFailure("adding a webhook gave \(answer.status): \(answer.text)") }
        return hook(answer)
    }

    @Test(arguments: TestBackend.allCases)
    func adminsManageHooksAndSecretsAreShownOnce(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend) { server in
            try await setUp(server)
            let admin = try await ConsoleClient.signIn(server, email: Self.admin)
            let moderator = try await ConsoleClient.signIn(server, email: Self.moderator)

            // Moderators learn nothing, not even whether a hook exists.
            #expect(try await moderator.get("/api/v1/admin/hooks").errorCode == "admin_only")
            #expect(try await moderator.get("/api/v1/admin/hooks/424242").errorCode == "admin_only")
            #expect(try await moderator.send("POST", "/api/v1/admin/hooks", json: ["preset": "webhook", "url": "https://example.org/"]).errorCode
                == "admin_only")
            #expect(try await moderator.send("POST", "/api/v1/admin/hooks/1/test").errorCode == "admin_only")
            #expect(try await moderator.send("POST", "/api/v1/admin/hook-deliveries/1/retry").errorCode == "admin_only")
            #expect(try await server.client.get("/api/v1/admin/hooks").status == 401)
            // A session's change needs its CSRF token.
            let noToken = try await admin.send("POST", "/api/v1/admin/hooks", json: ["preset": "webhook"],
                                               headers: [("Cookie", admin.cookie), ("Origin", admin.origin)])
            #expect(noToken.errorCode == "csrf")

            // Added: the secret in clear, this once.
            let webhook = try await addWebhook(admin, url: "http://127.0.0.1:9/hook")
            let id = try #require((webhook["id"] as? NSNumber)?.int64Value)
            let secret = try #require(webhook["secret"] as? String)
            #expect(secret.hasPrefix("whsec_") && secret.count > 30)
            #expect(webhook["events"] as? [String] == ["comment.held", "comment.spam"])
            #expect(webhook["site"] as? String == "a" && webhook["target"] is NSNull && webhook["url"] as? String == "http://127.0.0.1:9/hook")
            #expect(webhook["trusted"] as? Bool == false && webhook["allow_private"] as? Bool == true && webhook["enabled"] as? Bool == true)
            #expect(Set(webhook.keys) == ["id", "name", "site", "preset", "url", "target", "secret", "events", "trusted", "allow_private",
                                          "enabled", "created_at", "updated_at"])

            // A chat webhook's URL is its credential: masked from the first answer on.
            let slackURL = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnop"
            let slack = try await admin.send("POST", "/api/v1/admin/hooks", json: ["preset": "slack", "url": slackURL])
            #expect(slack.status == 201, "\(slack.text)")
            #expect(hook(slack)["url"] as? String == "https://hooks.slack.com/…" && hook(slack)["secret"] is NSNull)
            #expect(hook(slack)["site"] is NSNull && hook(slack)["events"] as? [String] == ["comment.published", "comment.held"])
            #expect(!slack.text.contains("abcdefghijklmnop"))
            let slackID = try #require((hook(slack)["id"] as? NSNumber)?.int64Value)

            // An ntfy topic is a password: in clear in the answer that added it, masked after; a
            // webhook URL's query (often a token) is masked from the first answer on.
            let topic = "margin-comments-0123456789abcdef"
            let ntfy = try await admin.send("POST", "/api/v1/admin/hooks", json: [
                "preset": "ntfy", "url": "http://127.0.0.1:9", "target": topic, "allow_private": true, "site": "a"])
            #expect(ntfy.status == 201 && hook(ntfy)["target"] as? String == topic, "\(ntfy.text)")
            let ntfyID = try #require((hook(ntfy)["id"] as? NSNumber)?.int64Value)
            let ntfyRead = try await admin.get("/api/v1/admin/hooks/\(ntfyID)")
            #expect(hook(ntfyRead)["target"] as? String == "…cdef" && !ntfyRead.text.contains(topic), "\(ntfyRead.text)")
            let queried = try await addWebhook(admin, url: "http://127.0.0.1:9/in?token=query-secret")
            #expect(queried["url"] as? String == "http://127.0.0.1:9/in?…")
            let queriedID = try #require((queried["id"] as? NSNumber)?.int64Value)
            let everyHook = try await admin.get("/api/v1/admin/hooks")
            #expect(!everyHook.text.contains(topic) && !everyHook.text.contains("query-secret"), "\(everyHook.text)")
            let switched = try await admin.send("PATCH", "/api/v1/admin/hooks/\(ntfyID)", json: ["enabled": false])
            #expect(hook(switched)["target"] as? String == "…cdef" && !switched.text.contains(topic))
            for extra in [ntfyID, queriedID] {
                #expect(try await admin.send("DELETE", "/api/v1/admin/hooks/\(extra)").status == 204)
            }

            // Listed and read back masked.
            let listed = try await admin.get("/api/v1/admin/hooks")
            #expect(listed.status == 200 && !listed.text.contains(secret) && !listed.text.contains("abcdefghijklmnop"))
            let hooks = listed.json["hooks"] as? [[String: Any]] ?? []
            #expect(hooks.compactMap { ($0["id"] as? NSNumber)?.int64Value } == [id, slackID])
            #expect(hooks.first?["secret"] as? String == "whsec_…" + secret.suffix(4))
            #expect(hook(try await admin.get("/api/v1/admin/hooks/\(id)"))["secret"] as? String == "whsec_…" + secret.suffix(4))
            // By site: that site's and every site's.
            func ids(_ query: String) async throws -> [Int64] {
                ((try await admin.get("/api/v1/admin/hooks\(query)")).json["hooks"] as? [[String: Any]] ?? [])
                    .compactMap { ($0["id"] as? NSNumber)?.int64Value }
            }
            #expect(try await ids("?site=a") == [id, slackID])
            #expect(try await ids("?site=default") == [slackID])
            #expect(try await admin.get("/api/v1/admin/hooks?site=zz").errorCode == "site_not_found")

            // Changed: only what is sent; a rotated secret in clear once.
            let changed = try await admin.send("PATCH", "/api/v1/admin/hooks/\(id)", json: ["enabled": false, "site": NSNull(), "name": "Team"])
            #expect(changed.status == 200, "\(changed.text)")
            #expect(hook(changed)["enabled"] as? Bool == false && hook(changed)["site"] is NSNull && hook(changed)["name"] as? String == "Team")
            #expect(hook(changed)["events"] as? [String] == ["comment.held", "comment.spam"] && hook(changed)["secret"] as? String != secret)
            let rotated = try await admin.send("PATCH", "/api/v1/admin/hooks/\(id)", json: ["rotate_secret": true])
            let newSecret = try #require(hook(rotated)["secret"] as? String)
            #expect(newSecret.hasPrefix("whsec_") && newSecret.count > 30 && newSecret != secret)
            #expect(hook(try await admin.get("/api/v1/admin/hooks/\(id)"))["secret"] as? String == "whsec_…" + newSecret.suffix(4))

            // Removed, with a 404 after.
            #expect(try await admin.send("DELETE", "/api/v1/admin/hooks/\(slackID)").status == 204)
            #expect(try await admin.send("DELETE", "/api/v1/admin/hooks/\(slackID)").errorCode == "hook_not_found")
            #expect(try await ids("") == [id])

            // A script with an admin token needs no session or CSRF token.
            let (_, token) = try await server.store.createAdminToken(name: "hooks", random: SystemRandom(), at: server.clock.nowMillis())
            let bearer = [("Authorization", "Bearer \(token)")]
            #expect(try await server.client.get("/api/v1/admin/hooks", headers: bearer).json["hooks"] as? [Any] != nil)
            #expect(try await server.client.send("DELETE", "/api/v1/admin/hooks/\(id)", headers: bearer).status == 204)
        }
    }

    /// Failing hooks are not silent: `/metrics` and `/healthz` count the deliveries waiting and
    /// given up on, and the server stays healthy (200) however many fail.
    @Test(arguments: TestBackend.allCases)
    func failingHooksShowInMetricsAndHealthz(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend) { server in
            try await setUp(server)
            let admin = try await ConsoleClient.signIn(server, email: Self.admin)
            let healthy = try await server.client.get("/healthz")
            #expect(healthy.json.int("hooks_pending") == 0 && healthy.json.int("hooks_failed") == 0, "\(healthy.text)")

            // Given a hook whose receiver is down: a held comment's delivery waits for a retry,
            // and a test event fails for good.
            let closed = try freePort()
            let webhook = try await addWebhook(admin, url: "http://127.0.0.1:\(closed)/hook", events: ["held"])
            let id = try #require((webhook["id"] as? NSNumber)?.int64Value)
            #expect(try await server.client.postJSON("/api/v1/comments", ["site": "a", "uri": "/down/", "text": "Nobody hears this."]).status == 202)
            let tested = try await admin.send("POST", "/api/v1/admin/hooks/\(id)/test")
            #expect((tested.json["delivery"] as? [String: Any])?["state"] as? String == "failed", "\(tested.text)")

            // Then both readings say so once their two seconds are up.
            server.clock.advance(seconds: 2)
            let health = try await server.client.get("/healthz")
            #expect(health.status == 200 && health.json.int("hooks_pending") == 1 && health.json.int("hooks_failed") == 1, "\(health.text)")
            let samples = try ObservabilityTests.parse(try await server.client.get("/metrics").text)
            #expect(ObservabilityTests.value(samples, "margin_hook_deliveries_pending") == 1)
            #expect(ObservabilityTests.value(samples, "margin_hook_deliveries_failed") == 1)
        }
    }

    /// Every mistake is a 4xx naming what is wrong; unknown ids are 404 for an admin.
    @Test func badHooksAreRefusedByField() async throws {
        try await TestServer.with(backend: .sqlite) { server in
            try await setUp(server)
            let admin = try await ConsoleClient.signIn(server, email: Self.admin)
            func code(_ body: [String: Any]) async throws -> String? {
                try await admin.send("POST", "/api/v1/admin/hooks", json: body).errorCode
            }
            #expect(try await code([:]) == "invalid_preset")
            #expect(try await code(["preset": "pager", "url": "https://example.org/"]) == "invalid_preset")
            #expect(try await code(["preset": "webhook"]) == "invalid_url")
            #expect(try await code(["preset": "webhook", "url": "ftp://example.org/"]) == "invalid_url")
            #expect(try await code(["preset": "webhook", "url": "https://user:pw@example.org/"]) == "invalid_url")
            #expect(try await code(["preset": "webhook", "url": "https://example.org/", "events": ["nope"]]) == "invalid_events")
            #expect(try await code(["preset": "webhook", "url": "https://example.org/", "events": []]) == "invalid_events")
            #expect(try await code(["preset": "webhook", "url": "https://example.org/", "events": "held"]) == "invalid_events")
            #expect(try await code(["preset": "webhook", "url": "https://example.org/", "trusted": "yes"]) == "invalid_trusted")
            #expect(try await code(["preset": "webhook", "url": "https://example.org/", "site": ""]) == "invalid_site")
            #expect(try await code(["preset": "webhook", "url": "https://example.org/", "site": "zz"]) == "site_not_found")
            #expect(try await code(["preset": "telegram", "token": "123:abc"]) == "invalid_target")
            #expect(try await code(["preset": "telegram", "target": "-100123"]) == "invalid_token")
            #expect(try await code(["preset": "matrix", "url": "https://matrix.example.org", "target": "room", "token": "t"]) == "invalid_target")
            #expect(try await code(["preset": "ntfy", "target": "no spaces allowed"]) == "invalid_target")
            #expect(try await code(["preset": "webhook", "url": "https://example.org/", "name": String(repeating: "n", count: 101)]) == "invalid_name")
            let malformed = try await admin.client.send("POST", "/api/v1/admin/hooks", headers: [
                ("Cookie", admin.cookie), ("Origin", admin.origin), ("X-CSRF-Token", admin.csrf), ("Content-Type", "application/json"),
            ], body: Array("{\"preset\":".utf8))
            #expect(malformed.status == 400 && malformed.errorCode == "malformed_json")

            for path in ["/api/v1/admin/hooks/424242", "/api/v1/admin/hooks/424242/deliveries"] {
                #expect(try await admin.get(path).errorCode == "hook_not_found", "\(path)")
            }
            #expect(try await admin.send("POST", "/api/v1/admin/hooks/424242/test").errorCode == "hook_not_found")
            #expect(try await admin.send("PATCH", "/api/v1/admin/hooks/424242", json: ["enabled": true]).errorCode == "hook_not_found")
            #expect(try await admin.get("/api/v1/admin/hooks/abc").errorCode == "invalid_id")
            #expect(try await admin.get("/api/v1/admin/hooks/0/deliveries").errorCode == "invalid_id")
            #expect(try await admin.send("POST", "/api/v1/admin/hook-deliveries/424242/retry").errorCode == "not_failed")
        }
    }

    /// Loopback, private, metadata and link-local destinations are refused with the address
    /// named, also through a name; `allow_private` lets them through, and taking it away again
    /// checks the destination again.
    @Test func privateDestinationsAreRefusedByAddress() async throws {
        try await TestServer.with(backend: .sqlite) { server in
            try await setUp(server)
            let admin = try await ConsoleClient.signIn(server, email: Self.admin)
            let refused: [(url: String, address: String)] = [
                ("http://127.0.0.1/hook", "127.0.0.1"), ("http://10.1.2.3/hook", "10.1.2.3"),
                ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"), ("http://[::1]:8080/hook", "::1"),
                ("http://localhost:8080/hook", "localhost"), ("http://192.168.1.10/", "192.168.1.10"),
                ("http://[::ffff:127.0.0.1]/", "127.0.0.1"),
            ]
            for (url, address) in refused {
                let answer = try await admin.send("POST", "/api/v1/admin/hooks", json: ["preset": "webhook", "url": url])
                let message = (answer.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(answer.status == 422 && answer.errorCode == "destination_refused", "\(url): \(answer.text)")
                #expect(message.contains(address) && message.contains("allow"), "\(url): \(message)")
            }
            #expect((try await admin.get("/api/v1/admin/hooks").json["hooks"] as? [Any])?.isEmpty == true, "a refused hook was stored")
            let allowed = try await addWebhook(admin, url: "http://127.0.0.1:9/hook")
            let id = try #require((allowed["id"] as? NSNumber)?.int64Value)
            let withdrawn = try await admin.send("PATCH", "/api/v1/admin/hooks/\(id)", json: ["allow_private": false])
            #expect(withdrawn.errorCode == "destination_refused", "\(withdrawn.text)")
            #expect(hook(try await admin.get("/api/v1/admin/hooks/\(id)"))["allow_private"] as? Bool == true)
        }
    }

    /// A test event reaches the receiver signed and is listed with its answer; a failed one can
    /// be retried once; and the server's background sender delivers a real event to a hook the
    /// API added.
    @Test(arguments: TestBackend.allCases)
    func testEventsAndRealEventsReachTheReceiver(backend: TestBackend) async throws {
        let receiver = try await HookReceiver.started()
        defer { receiver.close() }
        try await TestServer.with(backend: backend) { server in
            try await setUp(server)
            let admin = try await ConsoleClient.signIn(server, email: Self.admin)
            let webhook = try await addWebhook(admin, url: receiver.url + "/margin")
            let id = try #require((webhook["id"] as? NSNumber)?.int64Value)

            let tested = try await admin.send("POST", "/api/v1/admin/hooks/\(id)/test")
            let delivery = try #require(tested.json["delivery"] as? [String: Any], "\(tested.text)")
            #expect(tested.status == 200 && delivery["state"] as? String == "delivered" && delivery.int("last_status") == 200)
            #expect(delivery["last_response"] as? String == "ok" && delivery["type"] as? String == "comment.held")
            let sample = try #require(try receiver.requests().first)
            #expect(sample.method == "POST" && sample.path == "/margin")
            #expect(sample.headers["webhook-id"] == delivery["event_id"] as? String && sample.headers["webhook-id"]?.hasPrefix("msg_") == true)
            #expect(sample.headers["webhook-signature"]?.hasPrefix("v1,") == true && sample.headers["webhook-timestamp"] != nil)
            #expect(sample.json["type"] as? String == "comment.held")

            try receiver.answer(status: 500, body: "boom")
            let failed = try #require(try await admin.send("POST", "/api/v1/admin/hooks/\(id)/test").json["delivery"] as? [String: Any])
            #expect(failed["state"] as? String != "delivered" && failed.int("last_status") == 500 && failed["last_response"] as? String == "boom")
            #expect(failed["last_error"] is String)
            let listed = try await admin.get("/api/v1/admin/hooks/\(id)/deliveries?limit=5")
            let rows = listed.json["deliveries"] as? [[String: Any]] ?? []
            #expect(rows.compactMap { $0["state"] as? String }.first == failed["state"] as? String && rows.count == 2)
            #expect(try await admin.get("/api/v1/admin/hooks/\(id)/deliveries?limit=0").errorCode == "invalid_limit")
            let failedID = try #require(failed.int("id"))
            if failed["state"] as? String == "failed" {
                #expect(try await admin.send("POST", "/api/v1/admin/hook-deliveries/\(failedID)/retry").json["retried"] as? Bool == true)
            }
            #expect(try await admin.send("POST", "/api/v1/admin/hook-deliveries/\(failedID)/retry").errorCode == "not_failed")

            // A comment held on site `a`: the background sender delivers `comment.held`.
            try receiver.answer(status: 204)
            let posted = try await server.client.postJSON("/api/v1/comments", ["site": "a", "uri": "/post/", "text": "Hold me, please."])
            let commentID = try #require((posted.json["id"] as? NSNumber)?.int64Value)
            func isAboutTheComment(_ request: HookReceiver.Request) -> Bool {
                ((request.json["data"] as? [String: Any])?["comment"] as? [String: Any])?.int("id") == Int(commentID)
            }
            let arrived = try await eventually(timeout: .seconds(30)) { try receiver.requests().contains(where: isAboutTheComment) }
            let bodies = try receiver.requests().map(\.body)
            #expect(arrived, "no comment.held delivery arrived: \(bodies)")
            // (The retried test event may arrive before or after it.)
            let event = try #require(try receiver.requests().first(where: isAboutTheComment))
            #expect(event.json["type"] as? String == "comment.held")
            let links = (event.json["data"] as? [String: Any])?["links"] as? [String: Any]
            #expect((links?["approve"] as? String)?.hasPrefix("http://127.0.0.1:\(server.port)/moderate/\(commentID)/approve?") == true)
        }
    }
}
