import Foundation
import TestSupport
import Testing

/// `margin migrate`, and `margin import` / `margin export` on PostgreSQL, run as a user would:
/// an export goes into the other store and comes out as the same bytes.
@Suite struct MoveBetweenStoresTests {
    static let data = TransferCommandTests.data

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test func anExportImportsIntoPostgresAndComesOutByteIdentical() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let first = scratch.url.appendingPathComponent("first.jsonl").path
        for (format, file) in [("disqus", "disqus/isso-disqus.xml"), ("wordpress", "wordpress/wpimporter-a11y-unit-test-data.xml")] {
            let imported = try await CLI.run(["import", format, Self.data.appendingPathComponent(file).path, "--db", scratch.database])
            try #require(imported.status == 0, "\(imported.stderr)")
        }
        let exported = try await CLI.run(["export", "--db", scratch.database, "-o", first])
        try #require(exported.status == 0, "\(exported.stderr)")

        // Into an empty PostgreSQL database, and out again.
        let url = try await PostgresTestCluster.freshDatabase()
        let restored = try await CLI.run(["import", "margin", first, "--db", url, "--json"])
        try #require(restored.status == 0, "\(restored.stderr)")
        let second = scratch.url.appendingPathComponent("second.jsonl").path
        let fromPostgres = try await CLI.run(["export", "--db", url, "-o", second])
        try #require(fromPostgres.status == 0, "\(fromPostgres.stderr)")
        #expect(try bytes(second) == bytes(first))
        #expect(try bytes(first).count > 10_000)

        // The other formats read the same data from either store.
        for format in ["disqus", "csv"] {
            let fromFile = try await CLI.run(["export", "--format", format, "--db", scratch.database])
            let fromServer = try await CLI.run(["export", "--format", format, "--db", url])
            #expect(fromServer.status == 0)
            #expect(fromServer.stdout == fromFile.stdout, "\(format)")
        }

        // The same export again, into the database that now holds it: nothing is added.
        let again = try await CLI.run(["import", "margin", first, "--db", url, "--json"])
        try #require(again.status == 0, "\(again.stderr)")
        #expect(json(again.stdout)?["comments"] as? Int == 0)
        let unchanged = try await CLI.run(["export", "--db", url])
        #expect(Data(unchanged.stdout.utf8) == (try bytes(first)))

        // Another export on top, into both stores: the same comments come out of each.
        let more = Self.data.appendingPathComponent("wordpress/isso-wordpress.xml").path
        let intoFile = try await CLI.run(["import", "wordpress", more, "--db", scratch.database, "--json"])
        let intoServer = try await CLI.run(["import", "wordpress", more, "--db", url, "--json"])
        try #require(intoServer.status == 0, "\(intoServer.stderr)")
        #expect((json(intoServer.stdout)?["comments"] as? Int ?? 0) > 0)
        #expect(json(intoServer.stdout)?["comments"] as? Int == json(intoFile.stdout)?["comments"] as? Int)
        let fileNow = try await CLI.run(["export", "--format", "disqus", "--db", scratch.database])
        let serverNow = try await CLI.run(["export", "--format", "disqus", "--db", url])
        #expect(serverNow.stdout == fileNow.stdout)
    }

    func json(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    @Test func migrateMovesAnInstallationThereAndBackWithVerifiedCounts() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let imported = try await CLI.run(["import", "disqus", Self.data.appendingPathComponent("disqus/isso-disqus.xml").path, "--db", scratch.database])
        try #require(imported.status == 0, "\(imported.stderr)")
        let keys = try await CLI.run(["keys", "rotate", "--db", scratch.database])
        try #require(keys.status == 0, "\(keys.stderr)")

        let url = try await PostgresTestCluster.freshDatabase()
        let there = try await CLI.run(["migrate", "--from", scratch.database, "--to", url, "--json"])
        try #require(there.status == 0, "\(there.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(there.stdout.utf8)) as? [String: Any]
        let tables = try #require(summary?["tables"] as? [[String: Any]])
        let comments = try #require(tables.first { $0["table"] as? String == "comments" })
        #expect(comments["source"] as? Int == comments["target"] as? Int)
        #expect((comments["target"] as? Int ?? 0) > 0)
        let named = summary?["to"] as? String
        #expect(named?.contains("password") == false)

        // The signing key moved: the same list on both sides.
        let keysThere = try await CLI.run(["keys", "list", "--db", url])
        let keysHere = try await CLI.run(["keys", "list", "--db", scratch.database])
        #expect(keysThere.stdout == keysHere.stdout)

        let back = scratch.url.appendingPathComponent("back.sqlite").path
        let returned = try await CLI.run(["migrate", "--from", url, "--to", back])
        try #require(returned.status == 0, "\(returned.stderr)")
        #expect(returned.stdout.contains("every table's count matches"))
        let original = try await CLI.run(["export", "--db", scratch.database])
        let roundTrip = try await CLI.run(["export", "--db", back])
        #expect(roundTrip.stdout == original.stdout)

        // Into a store that holds comments: refused, exit 1, a sentence, nothing changed.
        let refused = try await CLI.run(["migrate", "--from", url, "--to", scratch.database])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("already holds threads or comments"))
        let unreachable = try await CLI.run(["migrate", "--from", scratch.database, "--to", "postgres://nobody@127.0.0.1:1/none?sslmode=disable"],
                                            timeout: .seconds(60))
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.hasPrefix("error: "))
    }
}

/// Thread remaps, privacy requests and backups do the same on PostgreSQL as on SQLite.
@Suite struct MaintenanceOnBothStoresTests {
    /// A Margin export with the times of the site lines and log entries blanked.
    static func withoutRunTimes(_ export: String) -> String {
        export.split(separator: "\n").map { line -> String in
            guard line.hasPrefix(#"{"type":"site""#) || line.hasPrefix(#"{"type":"log""#) else { return String(line) }
            return String(line).replacing(/"(created_at|at)":\d+/) { match in "\"\(match.1)\":0" }
        }.joined(separator: "\n")
    }

    @Test func theSameCommandsLeaveBothStoresHoldingTheSame() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let fixture = MoveBetweenStoresTests.data.appendingPathComponent("disqus/isso-disqus.xml").path
        let url = try await PostgresTestCluster.freshDatabase()
        let stores = [scratch.database, url]
        for store in stores {
            let imported = try await CLI.run(["import", "disqus", fixture, "--db", store])
            try #require(imported.status == 0, "\(imported.stderr)")
        }
        let rules = scratch.url.appendingPathComponent("rules.txt")
        try "/ /home/\n".write(to: rules, atomically: true, encoding: .utf8)

        // Each command prints the same on both stores.
        for arguments in [["threads", "remap", "--map", rules.path, "--dry-run", "--json"], ["gdpr", "export", "FOO@bar.com"],
                          ["threads", "remap", "--map", rules.path, "--json"], ["gdpr", "forget", "foo@bar.com"]] {
            let onFile = try await CLI.run(arguments + ["--db", scratch.database])
            let onServer = try await CLI.run(arguments + ["--db", url])
            #expect(onFile.status == 0 && onServer.status == 0, "\(arguments): \(onFile.stderr) \(onServer.stderr)")
            #expect(onServer.stdout == onFile.stdout, "\(arguments)")
        }
        let forgotten = try await CLI.run(["gdpr", "export", "foo@bar.com", "--db", url])
        #expect((try JSONSerialization.jsonObject(with: Data(forgotten.stdout.utf8)) as? [Any])?.isEmpty == true)

        // And what they did is the same: the Margin exports match, log entries included, once
        // the moments the commands ran at (the default site's creation, the log's times) are set aside.
        let fromFile = try await CLI.run(["export", "--db", scratch.database])
        let fromServer = try await CLI.run(["export", "--db", url])
        #expect(Self.withoutRunTimes(fromServer.stdout) == Self.withoutRunTimes(fromFile.stdout))
        #expect(fromServer.stdout.contains("\"uri\":\"/home/\""))
        #expect(fromServer.stdout.contains("gdpr-forget"))

        // A backup of PostgreSQL is a SQLite file holding the same.
        let backup = scratch.url.appendingPathComponent("backup.sqlite").path
        let backedUp = try await CLI.run(["backup", backup, "--db", url])
        #expect(backedUp.status == 0, "\(backedUp.stderr)")
        #expect(!backedUp.stdout.contains("@127.0.0.1") || !backedUp.stdout.contains("password"))
        #expect(try await CLI.run(["export", "--db", backup]).stdout == fromServer.stdout)
        let again = try await CLI.run(["backup", backup, "--db", url])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))
    }
}
