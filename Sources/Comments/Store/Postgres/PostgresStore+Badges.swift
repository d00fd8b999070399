import Logging
import PostgresNIO

// What the moderation queue's badges ask of PostgreSQL, for a whole page at once.
extension PostgresStore {
    public func approvedCommentIDs(siteID: String, emails: [String]) async throws -> [String: [Int64]] {
        let wanted = Array(Set(emails.map { $0.lowercased() }))
        if wanted.isEmpty { return [:] }
        // Grouped, not ordered: an ORDER BY … LIMIT here tempted the planner into walking the
        // site's time order with a poor estimate of how many comments one address has.
        let filter = PostgresFilter()
        let sql = """
            SELECT lower(email), MIN(id), MAX(id) FROM comments
            WHERE lower(email) = ANY(\(filter.bind(wanted))) AND site_id = \(filter.bind(siteID)) AND status = 'approved'
            GROUP BY lower(email)
            """
        let statement = filter.query(sql)
        return try await read { connection, logger in
            var found: [String: [Int64]] = [:]
            for try await (address, first, last) in try await connection.query(statement, logger: logger).decode((String, Int64, Int64).self) {
                found[address, default: []] += first == last ? [first] : [first, last]
            }
            return found
        }
    }
}
