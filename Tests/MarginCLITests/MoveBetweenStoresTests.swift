import Foundation
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
        let url = try await PostgresForNodes.freshDatabase()
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

        // A second import into a PostgreSQL database that holds comments is refused in words.
        let again = try await CLI.run(["import", "margin", first, "--db", url])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already holds comments"))
        let unchanged = try await CLI.run(["export", "--db", url])
        #expect(Data(unchanged.stdout.utf8) == (try bytes(first)))
    }

    @Test func migrateMovesAnInstallationThereAndBackWithVerifiedCounts() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let imported = try await CLI.run(["import", "disqus", Self.data.appendingPathComponent("disqus/isso-disqus.xml").path, "--db", scratch.database])
        try #require(imported.status == 0, "\(imported.stderr)")
        let keys = try await CLI.run(["keys", "rotate", "--db", scratch.database])
        try #require(keys.status == 0, "\(keys.stderr)")

        let url = try await PostgresForNodes.freshDatabase()
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
