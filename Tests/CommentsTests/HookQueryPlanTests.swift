import GRDB
import Testing
@testable import Comments

/// The hook outbox is read through indexes: every node asks for due deliveries every second,
/// and every new comment asks which hooks hear it, however many deliveries have piled up.
@Suite struct HookQueryPlanTests {
    @Test func hookQueriesUseIndexes() async throws {
        let store = try SQLiteStore()
        let plans = try await store.writer.read { db -> [String] in
            let queries = [
                """
                SELECT * FROM hook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= 5
                    AND (claimed_until IS NULL OR claimed_until <= 5) ORDER BY next_attempt_at, id LIMIT 8
                """,
                "SELECT id, trusted FROM hooks WHERE enabled AND (site_id IS NULL OR site_id = 's') AND events LIKE '%,comment.held,%' ORDER BY id",
                "DELETE FROM hook_deliveries WHERE comment_id = 5",
                "SELECT * FROM hook_deliveries WHERE hook_id = 1 ORDER BY id DESC LIMIT 50",
            ]
            return try queries.map { sql in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined(separator: " ")
            }
        }
        // The due scan reads only the undelivered rows, already in order.
        #expect(plans[0].contains("INDEX hook_deliveries_due") && !plans[0].contains("TEMP B-TREE"), "\(plans[0])")
        #expect(plans[1].contains("INDEX hooks_by_site_id"), "\(plans[1])")
        #expect(plans[2].contains("INDEX hook_deliveries_by_comment"), "\(plans[2])")
        #expect(plans[3].contains("INDEX hook_deliveries_by_hook") && !plans[3].contains("TEMP B-TREE"), "\(plans[3])")
    }
}
