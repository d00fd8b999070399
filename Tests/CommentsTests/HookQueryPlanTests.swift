import GRDB
import Testing
@testable import Comments

/// The hook outbox is read through indexes: every node asks for due deliveries every second,
/// every new comment asks which hooks hear it, and every deletion looks up its comment's
/// deliveries, however many have piled up. The plans are those of the store's own statements.
@Suite struct HookQueryPlanTests {
    @Test func hookQueriesUseIndexes() async throws {
        let store = try SQLiteStore()
        let statements: [(sql: String, arguments: StatementArguments)] = [
            (SQLiteStore.dueHookDeliveriesSQL, [5, 5, 8]),
            (SQLiteStore.hearingHooksSQL, ["s", Hook.hearingPattern(.held)]),
            (SQLiteStore.dropHookDeliveriesSQL, [5]),
            (SQLiteStore.hookDeliveriesSQL, [1, 50]),
            (SQLiteStore.commentHookDeliveriesSQL, [5]),
        ]
        let plans = try await store.writer.read { db -> [String] in
            try statements.map { statement in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + statement.sql, arguments: statement.arguments)
                    .map { $0["detail"] as String }.joined(separator: " ")
            }
        }
        // The due scan reads only the undelivered rows, already in order, and each one's hook by its key.
        #expect(plans[0].contains("INDEX hook_deliveries_due") && !plans[0].contains("TEMP B-TREE"), "\(plans[0])")
        #expect(plans[0].contains("SEARCH hooks USING INTEGER PRIMARY KEY"), "\(plans[0])")
        #expect(plans[1].contains("INDEX hooks_by_site_id"), "\(plans[1])")
        #expect(plans[2].contains("INDEX hook_deliveries_by_comment"), "\(plans[2])")
        #expect(plans[3].contains("INDEX hook_deliveries_by_hook") && !plans[3].contains("TEMP B-TREE"), "\(plans[3])")
        #expect(plans[4].contains("INDEX hook_deliveries_by_comment"), "\(plans[4])")
    }
}
