import Comments
import Foundation
import MarginServer
import Moderation
import Testing
import TestSupport

/// The site-scoped blocklist through the moderation API on both stores: a moderator sees and
/// changes their sites' entries (and sees the global ones), only admins touch the global ones,
/// and an entry of one site leaves the other sites' readers alone.
@Suite struct ConsoleBlocklistTests {
    static let moderator = "mod@example.org"
    static let admin = "boss@example.org"

    /// Sites `a` (moderated by `moderator`) and `b`, publishing at once, and an admin.
    func twoSites(_ server: BackendServer) async throws {
        let now = server.clock.nowMillis()
        for id in ["a", "b"] {
            try await server.store.addSite(Site(id: id, name: id.uppercased(), origins: ["http://127.0.0.1:*"], moderation: .none, createdAt: now,
                                                moderators: id == "a" ? [Self.moderator] : ["other@example.org"]))
        }
        _ = try await server.store.addAdminUser(email: Self.admin, at: now)
    }

    /// Posts to `site` from `client`; the answer.
    func post(_ server: BackendServer, site: String, _ text: String, client: String = "203.0.113.7") async throws -> HTTPResult {
        try await server.client.postJSON("/api/v1/comments", ["site": site, "uri": "/post/", "text": text], headers: [("X-Forwarded-For", client)])
    }

    func entries(_ answer: HTTPResult) -> [String] {
        (answer.json["entries"] as? [[String: Any]] ?? []).map { entry in
            "\(entry["kind"] as? String ?? "?") \(entry["value"] as? String ?? "?") \(entry["site"] is NSNull ? "all" : entry["site"] as? String ?? "missing")"
        }
    }

    @Test(arguments: TestBackend.allCases)
    func moderatorsChangeTheirSitesEntriesAndAdminsTheGlobalOnes(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend, configure: { $0.trustedProxies = [IPNetwork("127.0.0.1/32")!] }) { server in
            try await twoSites(server)
            let moderator = try await ConsoleClient.signIn(server, email: Self.moderator)
            let admin = try await ConsoleClient.signIn(server, email: Self.admin)

            // A moderator names one of their sites; another site is as unknown as a missing one.
            #expect(try await moderator.send("POST", "/api/v1/admin/blocklist", json: ["kind": "word", "value": "casino"]).errorCode == "invalid_site")
            #expect(try await moderator.send("POST", "/api/v1/admin/blocklist", json: ["kind": "word", "value": "casino", "site": "b"]).errorCode
                == "site_not_found")
            #expect(try await moderator.send("POST", "/api/v1/admin/blocklist", json: ["kind": "word", "value": "casino", "site": "zz"]).errorCode
                == "site_not_found")
            #expect(try await moderator.send("POST", "/api/v1/admin/blocklist", json: ["kind": "word", "value": "casino", "site": 7]).status == 422)
            #expect(try await admin.send("POST", "/api/v1/admin/blocklist", json: ["kind": "word", "value": "casino", "site": ""]).errorCode == "invalid_site")
            let added = try await moderator.send("POST", "/api/v1/admin/blocklist", json: ["kind": "word", "value": "Casino", "site": "a"])
            #expect(added.status == 201 && added.json["site"] as? String == "a" && added.json["value"] as? String == "casino")
            // An admin blocks on every site (site null, and present) or on one.
            let global = try await admin.send("POST", "/api/v1/admin/blocklist", json: ["kind": "ip", "value": "198.51.100.0/24"])
            #expect(global.status == 201 && global.json["site"] is NSNull)
            #expect(try await admin.send("POST", "/api/v1/admin/blocklist", json: ["kind": "ip", "value": "192.0.2.0/24", "site": "b"]).status == 201)
            #expect(try await admin.send("POST", "/api/v1/admin/blocklist", json: ["kind": "word", "value": "poker", "site": "zz"]).errorCode
                == "site_not_found")

            // Who sees what.
            #expect(entries(try await moderator.get("/api/v1/admin/blocklist")) == ["ip 198.51.100.0/24 all", "word casino a"])
            #expect(try await moderator.get("/api/v1/admin/blocklist?site=b").errorCode == "site_not_found")
            #expect(entries(try await admin.get("/api/v1/admin/blocklist"))
                == ["ip 192.0.2.0/24 b", "ip 198.51.100.0/24 all", "word casino a"])
            #expect(entries(try await admin.get("/api/v1/admin/blocklist?site=b")) == ["ip 192.0.2.0/24 b", "ip 198.51.100.0/24 all"])

            // Each site's readers meet its own entries and the global ones only.
            #expect(try await post(server, site: "b", "Visit the casino").status == 201)
            let onA = try await post(server, site: "a", "Visit the casino")
            let spamID = try #require((onA.json["id"] as? NSNumber)?.int64Value)
            #expect(try await server.store.comment(id: spamID)?.status == .spam)
            #expect(try await post(server, site: "b", "Hello", client: "192.0.2.5").errorCode == "blocked")
            #expect(try await post(server, site: "a", "Hello", client: "192.0.2.5").status == 201)
            #expect(try await post(server, site: "a", "Hello", client: "198.51.100.5").errorCode == "blocked")

            // Removing: the global entry is the admins'; a site's entry its moderators'.
            #expect(try await moderator.send("DELETE", "/api/v1/admin/blocklist?kind=ip&value=198.51.100.0%2F24").errorCode == "admin_only")
            #expect(try await moderator.send("DELETE", "/api/v1/admin/blocklist?kind=ip&value=192.0.2.0%2F24&site=b").errorCode == "site_not_found")
            #expect(try await moderator.send("DELETE", "/api/v1/admin/blocklist?kind=word&value=casino").errorCode == "admin_only")
            #expect(try await moderator.send("DELETE", "/api/v1/admin/blocklist?kind=word&value=casino&site=a").status == 204)
            #expect(try await moderator.send("DELETE", "/api/v1/admin/blocklist?kind=word&value=casino&site=a").errorCode == "not_found")
            #expect(try await admin.send("DELETE", "/api/v1/admin/blocklist?kind=ip&value=192.0.2.0%2F24").errorCode == "not_found",
                    "not an entry for every site")
            #expect(try await admin.send("DELETE", "/api/v1/admin/blocklist?kind=ip&value=192.0.2.0%2F24&site=b").status == 204)
            #expect(try await admin.send("DELETE", "/api/v1/admin/blocklist?kind=ip&value=198.51.100.0%2F24").status == 204)
            #expect(entries(try await admin.get("/api/v1/admin/blocklist")).isEmpty)
            #expect(try await post(server, site: "b", "Hello again", client: "192.0.2.5").status == 201)
        }
    }

    /// `restore` of a comment no person decided on changes nothing: 409 `nothing_to_restore`.
    @Test(arguments: TestBackend.allCases)
    func restoringWhatNoPersonDecidedIsAConflict(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend) { server in
            try await twoSites(server)
            let admin = try await ConsoleClient.signIn(server, email: Self.admin)
            let answer = try await post(server, site: "a", "Never decided")
            let id = try #require((answer.json["id"] as? NSNumber)?.int64Value)
            let restored = try await admin.send("POST", "/api/v1/admin/comments/\(id)/restore")
            #expect(restored.status == 409 && restored.errorCode == "nothing_to_restore")
            #expect((restored.json["error"] as? [String: Any])?["message"] as? String == "Comment \(id) has no decision to undo.")
            #expect(try await server.store.comment(id: id)?.status == .approved)
            #expect(try await admin.send("POST", "/api/v1/admin/comments/\(id)/reject").status == 200)
            #expect((try await admin.send("POST", "/api/v1/admin/comments/\(id)/restore").json["comment"] as? [String: Any])?["status"] as? String
                == "approved")
        }
    }
}
