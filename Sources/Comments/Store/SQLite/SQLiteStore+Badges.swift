import GRDB

// What the moderation queue's badges ask of SQLite, for a whole page at once.
extension SQLiteStore {
    public func approvedCommentIDs(siteID: String, emails: [String]) async throws -> [String: [Int64]] {
        let wanted = Array(Set(emails.map { $0.lowercased() }))
        if wanted.isEmpty { return [:] }
        // ASCII addresses: one lookup each in the NOCASE address index, named, because without
        // planner statistics SQLite would rather walk the site's approved comments. Others fold
        // with Swift's Unicode lowercasing (NOCASE folds ASCII only), without the index.
        let ascii = wanted.filter(\.isASCIIOnly), other = wanted.filter { !$0.isASCIIOnly }
        var statements: [(String, StatementArguments)] = []
        if !ascii.isEmpty {
            statements.append(("""
                SELECT lower(email) AS address, MIN(id) AS first, MAX(id) AS last FROM comments INDEXED BY comments_by_email
                WHERE email COLLATE NOCASE IN (\(Self.placeholders(ascii.count))) AND site_id = ? AND status = 'approved'
                GROUP BY email COLLATE NOCASE
                """, StatementArguments(ascii) + [siteID]))
        }
        if !other.isEmpty {
            statements.append(("""
                SELECT swiftLowercaseString(email) AS address, MIN(id) AS first, MAX(id) AS last FROM comments
                WHERE swiftLowercaseString(email) IN (\(Self.placeholders(other.count))) AND site_id = ? AND status = 'approved'
                GROUP BY address
                """, StatementArguments(other) + [siteID]))
        }
        let queries = statements
        return try await read { db in
            var found: [String: [Int64]] = [:]
            for (sql, arguments) in queries {
                for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
                    let first: Int64 = row["first"], last: Int64 = row["last"]
                    let address: String = row["address"]
                    found[address.lowercased(), default: []] += first == last ? [first] : [first, last]
                }
            }
            return found
        }
    }

    /// `?, ?, …` for `count` values.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
