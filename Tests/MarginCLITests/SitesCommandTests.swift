import Foundation
import TestSupport
import Testing

/// `margin sites …` against a temporary database.
@Suite struct SitesCommandTests {
    @Test func addListUpdateRemove() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        let added = try await CLI.run(["sites", "add", "blog", "--name", "My Blog", "--origin", "https://blog.example.org",
                                       "--origin", "https://www.blog.example.org/", "--moderation", "auto"] + db)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("Added site 'blog'"))

        let table = try await CLI.run(["sites", "list"] + db)
        #expect(table.status == 0)
        #expect(table.stdout.contains("ID"))
        #expect(table.stdout.contains("My Blog"))
        #expect(table.stdout.contains("https://www.blog.example.org"))

        let json = try await CLI.run(["sites", "list", "--json"] + db)
        let sites = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let blog = try #require(sites.first { $0["id"] as? String == "blog" })
        #expect(blog["origins"] as? [String] == ["https://blog.example.org", "https://www.blog.example.org"])
        #expect(blog["moderation"] as? String == "auto")
        #expect(blog["comments"] as? Int == 0)
        #expect(blog["avatars"] as? String == "identicon")

        let updated = try await CLI.run(["sites", "update", "blog", "--moderation", "all", "--origin", "http://localhost:*", "--require-email", "true", "--avatars", "gravatar"] + db)
        #expect(updated.status == 0, "\(updated.stderr)")
        let after = try await CLI.run(["sites", "list", "--json"] + db)
        let updatedBlog = try #require((try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [[String: Any]])?.first { $0["id"] as? String == "blog" })
        #expect(updatedBlog["moderation"] as? String == "all")
        #expect(updatedBlog["origins"] as? [String] == ["http://localhost:*"])
        #expect(updatedBlog["require_email"] as? Bool == true)
        #expect(updatedBlog["avatars"] as? String == "gravatar")

        let removed = try await CLI.run(["sites", "remove", "blog"] + db)
        #expect(removed.status == 0)
        #expect(!(try await CLI.run(["sites", "list"] + db)).stdout.contains("My Blog"))
    }

    /// A new database has the default site whichever command creates it, not only after
    /// `margin serve` ran once.
    @Test func theDefaultSiteCanBeChangedOnABrandNewFile() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let updated = try await CLI.run(["sites", "update", "default", "--moderation", "all", "--db", scratch.database])
        #expect(updated.status == 0, "\(updated.stderr)")
        let listed = try await CLI.run(["sites", "list", "--json", "--db", scratch.database])
        let sites = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(sites.map { $0["id"] as? String } == ["default"])
        #expect(sites.first?["moderation"] as? String == "all")
        #expect(sites.first?["origins"] as? [String] == ["http://localhost:*", "http://127.0.0.1:*"])
    }

    @Test func theDefaultSiteCanBeChangedOnABrandNewPostgresDatabase() async throws {
        let url = try await PostgresTestCluster.freshDatabase()
        let updated = try await CLI.run(["sites", "update", "default", "--moderation", "all", "--db", url])
        #expect(updated.status == 0, "\(updated.stderr)")
        let listed = try await CLI.run(["sites", "list", "--json", "--db", url])
        let sites = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(sites.map { $0["id"] as? String } == ["default"])
        #expect(sites.first?["moderation"] as? String == "all")
    }

    @Test func removeRefusesASiteWithCommentsUnlessForced() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        // Given two sites that hold imported comments
        let export = TransferCommandTests.data.appendingPathComponent("disqus/isso-disqus.xml").path
        for site in ["blog", "other"] {
            #expect(try await CLI.run(["sites", "add", site] + db).status == 0)
            let imported = try await CLI.run(["import", "disqus", export, "--site", site] + db)
            try #require(imported.status == 0, "\(imported.stderr)")
        }
        /// Comments per site, read from the file by `sqlite3`.
        func counts() async throws -> [String: Int] {
            let rows = try await Tool.rows(scratch.database, "SELECT t.site_id AS site, COUNT(*) AS n FROM comments c JOIN threads t ON t.id = c.thread_id GROUP BY t.site_id")
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["site"] as! String, $0["n"] as! Int) })
        }
        let before = try await counts()
        try #require((before["blog"] ?? 0) > 0 && before["blog"] == before["other"])

        // When the site is removed without --force, it is refused in words and nothing changes
        let refused = try await CLI.run(["sites", "remove", "blog"] + db)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("comments"), "\(refused.stderr)")
        #expect(try await counts() == before)

        // When it is removed with --force, the site and its comments are gone, and only those
        let forced = try await CLI.run(["sites", "remove", "blog", "--force"] + db)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try await counts() == ["other": before["other"]!])
        #expect(try await Tool.rows(scratch.database, "SELECT id FROM sites WHERE id = 'blog'").isEmpty)
        #expect(try await Tool.rows(scratch.database, "SELECT id FROM threads WHERE site_id = 'blog'").isEmpty)
    }

    @Test func mistakesExitNonZeroWithAMessageAndChangeNothing() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        _ = try await CLI.run(["sites", "add", "blog", "--origin", "https://blog.example.org"] + db)
        let duplicate = try await CLI.run(["sites", "add", "blog"] + db)
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr.contains("already exists"))
        let unknown = try await CLI.run(["sites", "remove", "ghost"] + db)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("No site with id 'ghost'"))
        let badOrigin = try await CLI.run(["sites", "add", "x", "--origin", "blog.example.org"] + db)
        #expect(badOrigin.status != 0)
        #expect(badOrigin.stderr.contains("origin"))
        let badID = try await CLI.run(["sites", "add", "bad id!"] + db)
        #expect(badID.status != 0)
        let badMode = try await CLI.run(["sites", "update", "blog", "--moderation", "sometimes"] + db)
        #expect(badMode.status != 0)
        let badAvatars = try await CLI.run(["sites", "update", "blog", "--avatars", "libravatar"] + db)
        #expect(badAvatars.status != 0)
        #expect(badAvatars.stderr.contains("identicon"))
        let list = try await CLI.run(["sites", "list", "--json"] + db)
        #expect(list.stdout.contains("\"blog\"") && !list.stdout.contains("\"x\""))
    }
}
