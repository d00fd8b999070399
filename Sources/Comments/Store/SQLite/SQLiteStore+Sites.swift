import GRDB

// Sites on SQLite.
extension SQLiteStore {
    public func sites() async throws -> [Site] {
        try await read { db in try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM sites ORDER BY id")).map(Site.init(row:)) }
    }

    public func site(id: String) async throws -> Site? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sites WHERE id = ?", arguments: [id]).map(Site.init(row:))
        }
    }

    public func addSite(_ site: Site) async throws {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [site.id]) == true {
                throw CommentsError.siteExists(site.id)
            }
            try Self.insertSite(site, db)
        }
    }

    public func addSiteIfNoneExist(_ site: Site) async throws -> Bool {
        try await write { db in try Self.insertSiteIfNoneExist(site, db) }
    }

    /// Inserts `site` in the caller's transaction when the database has no site at all; whether it did.
    static func insertSiteIfNoneExist(_ site: Site, _ db: Database) throws -> Bool {
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sites") == 0 else { return false }
        try insertSite(site, db)
        return true
    }

    /// Inserts `site` in the caller's transaction.
    static func insertSite(_ site: Site, _ db: Database) throws {
        try db.execute(
            sql: """
            INSERT INTO sites (id, name, origins, moderation, require_author, require_email, created_at, rate_limit, moderators, avatars,
                vote_rate_limit)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            arguments: [site.id, site.name, JSONText.encode(site.origins), site.moderation.rawValue,
                        site.requireAuthor, site.requireEmail, site.createdAt, site.rateLimit?.description,
                        JSONText.encode(site.moderators), site.avatars.rawValue, site.voteRateLimit?.description])
    }

    public func updateSite(_ site: Site) async throws {
        try await write { db in
            try db.execute(
                sql: """
                UPDATE sites SET name = ?, origins = ?, moderation = ?, require_author = ?, require_email = ?,
                    rate_limit = ?, moderators = ?, avatars = ?, vote_rate_limit = ?
                WHERE id = ?
                """,
                arguments: [site.name, JSONText.encode(site.origins), site.moderation.rawValue,
                            site.requireAuthor, site.requireEmail, site.rateLimit?.description,
                            JSONText.encode(site.moderators), site.avatars.rawValue, site.voteRateLimit?.description, site.id])
            if db.changesCount == 0 { throw CommentsError.siteNotFound(site.id) }
        }
    }

    public func removeSite(id: String, force: Bool) async throws -> Int {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [id]) == true else {
                throw CommentsError.siteNotFound(id)
            }
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM comments WHERE site_id = ?", arguments: [id]) ?? 0
            if count > 0 && !force { throw CommentsError.siteHasComments(id, count: count) }
            try db.execute(sql: "DELETE FROM sites WHERE id = ?", arguments: [id])
            // Its hooks went with it (ON DELETE CASCADE); every-site hooks' deliveries about its comments go too.
            try db.execute(sql: "DELETE FROM hook_deliveries WHERE site_id = ?", arguments: [id])
            return count
        }
    }
}
