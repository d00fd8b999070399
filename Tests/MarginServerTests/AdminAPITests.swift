@testable import Comments
import Foundation
import Testing

/// The admin API: hashed bearer tokens, streamed export, uploads to import.
@Suite struct AdminAPITests {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")

    @Test func tokensGuardExportAndImport() async throws {
        try await TestServer.with { server in
            _ = try await server.publish("exported comment 내보내기")
            let (token, secret) = try await server.store.createAdminToken(name: "test", random: SystemRandom(), at: server.clock.nowMillis())
            let stored = try await server.store.writer.read { db in try String.fetchOne(db, sql: "SELECT secret_hash FROM admin_tokens") }
            #expect(stored != nil && stored != secret && !secret.contains(stored!))

            #expect(try await server.client.get("/api/v1/admin/export").status == 401)
            #expect(try await server.client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer mgn_\(token.id)_wrong")]).status == 401)
            let auth = [("Authorization", "Bearer \(secret)")]
            let export = try await server.client.get("/api/v1/admin/export?format=margin", headers: auth)
            #expect(export.status == 200)
            #expect(export.text.hasPrefix(#"{"format":"margin","version":1}"#))
            #expect(export.text.contains("exported comment 내보내기"))
            #expect(try await server.client.get("/api/v1/admin/export?format=csv&site=default", headers: auth).text.hasPrefix("id,site,uri"))
            #expect(try await server.client.get("/api/v1/admin/export?format=yaml", headers: auth).status == 422)
            #expect(try await server.client.get("/api/v1/admin/export?site=ghost", headers: auth).status == 404)

            let upload = try Data(contentsOf: Self.data.appendingPathComponent("wordpress/isso-wordpress.xml"))
            let imported = try await server.client.send("POST", "/api/v1/admin/import?format=wordpress", headers: auth + [("Content-Type", "application/xml")], body: Array(upload))
            #expect(imported.status == 200, "\(imported.text)")
            #expect(imported.json.int("comments") == 7)
            let malformed = try Data(contentsOf: Self.data.appendingPathComponent("disqus/remark42-disqus2.xml"))
            let refused = try await server.client.send("POST", "/api/v1/admin/import?format=disqus", headers: auth, body: Array(malformed))
            #expect(refused.status == 422)
            #expect(refused.errorCode == "malformed_import")
            // A dry run spelled any other way is refused, not taken for a real import.
            let misspelled = try await server.client.send(
                "POST", "/api/v1/admin/import?format=wordpress&dry_run=yes", headers: auth, body: Array(upload))
            #expect(misspelled.status == 422)
            #expect(misspelled.errorCode == "invalid_dry_run")
            let dry = try await server.client.send("POST", "/api/v1/admin/import?format=wordpress&dry_run=true", headers: auth, body: Array(upload))
            #expect(dry.status == 200)
            #expect(dry.json["dry_run"] as? Bool == true)

            #expect(try await server.store.revokeAdminToken(id: token.id, at: server.clock.nowMillis()))
            #expect(try await server.client.get("/api/v1/admin/export", headers: auth).status == 401)
        }
    }

    /// An upload is imported the way `margin import` imports a file: into site `default` of a
    /// database left without any site, as if the server had just started (the default site is
    /// created with the comments). An upload into another site, or a dry run, creates none.
    @Test func anImportIntoADatabaseWithoutSitesSeedsTheDefaultSiteOnly() async throws {
        try await TestServer.with { server in
            let (_, secret) = try await server.store.createAdminToken(name: "test", random: SystemRandom(), at: server.clock.nowMillis())
            let auth = [("Authorization", "Bearer \(secret)")]
            _ = try await server.store.removeSite(id: "default", force: true)
            #expect(try await server.store.sites().isEmpty)
            let upload = try Data(contentsOf: Self.data.appendingPathComponent("wordpress/isso-wordpress.xml"))
            let elsewhere = try await server.client.send("POST", "/api/v1/admin/import?format=wordpress&site=blog", headers: auth, body: Array(upload))
            #expect(elsewhere.status == 404)
            #expect(try await server.store.sites().isEmpty)
            let dry = try await server.client.send("POST", "/api/v1/admin/import?format=wordpress&dry_run=1", headers: auth, body: Array(upload))
            #expect(dry.status == 200, "\(dry.text)")
            #expect(dry.json.int("comments") == 7)
            #expect(try await server.store.sites().isEmpty)
            let imported = try await server.client.send("POST", "/api/v1/admin/import?format=wordpress", headers: auth, body: Array(upload))
            #expect(imported.status == 200, "\(imported.text)")
            #expect(imported.json.int("comments") == 7)
            #expect(try await server.store.site(id: "default") != nil)
            #expect(try await server.store.commentCount(siteID: "default") == 7)
        }
    }

    @Test func guessingTokensIsRateLimited() async throws {
        try await TestServer.with { server in
            var statuses: [Int] = []
            for attempt in 0..<12 {
                statuses.append(try await server.client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer mgn_x_\(attempt)")]).status)
            }
            #expect(statuses.prefix(10).allSatisfy { $0 == 401 })
            #expect(statuses.suffix(2).allSatisfy { $0 == 429 })
        }
    }
}
