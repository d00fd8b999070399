import Logging
import PostgresNIO

// What the moderation queue's badges ask of PostgreSQL, for a whole page at once.
extension PostgresStore {
    public func approvedCommentIDs(siteID: String, emails: [String]) async throws -> [String: [Int64]] {
        let wanted = Array(Set(emails.map { $0.lowercased() }))
        if wanted.isEmpty { return [:] }
        // Two index lookups' worth per address, driven address by address: given the list at
        // once (`= ANY`, or grouped MIN/MAX), the planner, which underestimates how many
        // addresses there are, chose to scan the whole table (0.4 s at a million comments).
        let filter = PostgresFilter()
        let sql = """
            SELECT e.address, s.id FROM unnest(\(filter.bind(wanted))::text[]) AS e(address)
            CROSS JOIN LATERAL (
                SELECT id FROM comments WHERE lower(email) = e.address AND site_id = \(filter.bind(siteID)) AND status = 'approved' LIMIT 2
            ) AS s
            """
        let statement = filter.query(sql)
        return try await read { connection, logger in
            var found: [String: [Int64]] = [:]
            for try await (address, id) in try await connection.query(statement, logger: logger).decode((String, Int64).self) {
                found[address, default: []].append(id)
            }
            return found
        }
    }
}
