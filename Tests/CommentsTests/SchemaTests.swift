import Foundation
import GRDB
import Testing
@testable import Comments

/// `schema.sql` must describe exactly what the migrations build.
@Suite struct SchemaTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every schema object's SQL with white space folded, keyed by type and name.
    static func objects(_ db: Database) throws -> [String: String] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT type, name, sql FROM sqlite_master
            WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
            """)
        var result: [String: String] = [:]
        for row in rows {
            let sql: String = row["sql"]
            result["\(row["type"] as String) \(row["name"] as String)"] = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        return result
    }

    @Test func schemaFileMatchesMigrations() throws {
        let migrated = try DatabaseQueue()
        try SQLiteStore.migrator.migrate(migrated)
        let fromFile = try DatabaseQueue()
        let schema = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("schema.sql"), encoding: .utf8)
        try fromFile.write { try $0.execute(sql: schema) }
        let expected = try migrated.read(Self.objects)
        let actual = try fromFile.read(Self.objects)
        #expect(expected.count >= 9)
        #expect(Set(actual.keys) == Set(expected.keys))
        for (name, sql) in expected {
            #expect(actual[name] == sql, "schema.sql differs from the migrations for \(name)")
        }
    }

    @Test func fileDatabaseUsesWALForeignKeysAndBusyTimeout() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("schema-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("m.sqlite").path)
        let (journal, foreignKeys, busyTimeout) = try store.writer.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
             try Int.fetchOne(db, sql: "PRAGMA busy_timeout"))
        }
        #expect(journal == "wal")
        #expect(foreignKeys == 1)
        #expect(busyTimeout ?? 0 >= 5000)
    }
}

/// The spam filter's questions about a new comment are answered through indexes, never by
/// reading every comment of the site; the author's history from the index alone.
@Suite struct SpamFactQueryPlanTests {
    @Test func spamFactsUseIndexes() async throws {
        let store = try SQLiteStore()
        let plans = try await store.writer.read { db -> [String] in
            let queries = [
                "SELECT COUNT(*) FROM comments WHERE email = 'a@b.c' COLLATE NOCASE AND status = 'approved' AND site_id = 's' AND id != 0",
                "SELECT COUNT(*) FROM comments WHERE site_id = 's' AND author = 'x' AND ip = 'y' AND status = 'approved' AND id != 0",
                "SELECT COUNT(*) FROM comments WHERE site_id = 's' AND body_digest = 1 AND created_at >= 5 AND body = 'x' AND id != 0",
            ]
            return try queries.map { sql in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined(separator: " ")
            }
        }
        // Covering: an author's whole history is counted without reading a single comment row.
        #expect(plans[0].contains("COVERING INDEX comments_by_email"), "\(plans[0])")
        #expect(plans[1].contains("COVERING INDEX comments_by_author"), "\(plans[1])")
        #expect(plans[2].contains("comments_by_body"), "\(plans[2])")
    }
}
