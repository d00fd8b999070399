import PostgresNIO

// Sites on PostgreSQL, each in one transaction.
extension PostgresStore {
    public func sites() async throws -> [Site] {
        try await fetchSites("SELECT \(unescaped: Self.siteColumns) FROM sites ORDER BY id")
    }

    public func site(id: String) async throws -> Site? {
        try await fetchSites("SELECT \(unescaped: Self.siteColumns) FROM sites WHERE id = \(id)").first
    }

    public func addSite(_ site: Site) async throws {
        try await transaction { connection, logger in
            do {
                _ = try await connection.query(Self.insertSite(site), logger: logger)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" { // unique_violation
                throw CommentsError.siteExists(site.id)
            }
        }
    }

    public func addSiteIfNoneExist(_ site: Site) async throws -> Bool {
        try await transaction { connection, logger in
            // Two nodes starting on an empty database must not both add the default.
            try await connection.query(PostgresQuery("LOCK TABLE sites IN EXCLUSIVE MODE"), logger: logger)
            let count = try await Self.values(connection.query(PostgresQuery("SELECT COUNT(*) FROM sites"), logger: logger), as: Int64.self).first ?? 0
            guard count == 0 else { return false }
            try await connection.query(Self.insertSite(site), logger: logger)
            return true
        }
    }

    public func updateSite(_ site: Site) async throws {
        let changed = try await transaction { connection, logger in
            let rows = try await Self.values(connection.query(PostgresQuery("""
                UPDATE sites SET name = \(site.name), origins = \(JSONText.encode(site.origins)),
                    moderation = \(site.moderation.rawValue), require_author = \(site.requireAuthor),
                    require_email = \(site.requireEmail), rate_limit = \(site.rateLimit?.description),
                    moderators = \(JSONText.encode(site.moderators)), avatars = \(site.avatars.rawValue),
                    vote_rate_limit = \(site.voteRateLimit?.description)
                WHERE id = \(site.id) RETURNING id
                """), logger: logger), as: String.self)
            return !rows.isEmpty
        }
        if !changed { throw CommentsError.siteNotFound(site.id) }
    }

    @discardableResult
    public func removeSite(id: String, force: Bool) async throws -> Int {
        try await transaction { connection, logger in
            let exists = try await Self.values(
                connection.query(PostgresQuery("SELECT 1 FROM sites WHERE id = \(id) FOR UPDATE"), logger: logger), as: Int32.self)
            guard !exists.isEmpty else { throw CommentsError.siteNotFound(id) }
            let count = Int(try await Self.values(
                connection.query(PostgresQuery("SELECT COUNT(*) FROM comments WHERE site_id = \(id)"), logger: logger), as: Int64.self).first ?? 0)
            if count > 0 && !force { throw CommentsError.siteHasComments(id, count: count) }
            try await connection.query(PostgresQuery("DELETE FROM sites WHERE id = \(id)"), logger: logger)
            // Its hooks went with it (ON DELETE CASCADE); every-site hooks' deliveries about its comments go too.
            try await connection.query(PostgresQuery("DELETE FROM hook_deliveries WHERE site_id = \(id)"), logger: logger)
            return count
        }
    }

    static let siteColumns =
        "id, name, origins, moderation, require_author, require_email, created_at, rate_limit, moderators, avatars, vote_rate_limit"

    static func insertSite(_ site: Site) -> PostgresQuery {
        """
        INSERT INTO sites (id, name, origins, moderation, require_author, require_email, created_at, rate_limit, moderators, avatars,
            vote_rate_limit)
        VALUES (\(site.id), \(site.name), \(JSONText.encode(site.origins)), \(site.moderation.rawValue), \(site.requireAuthor),
                \(site.requireEmail), \(site.createdAt), \(site.rateLimit?.description), \(JSONText.encode(site.moderators)),
                \(site.avatars.rawValue), \(site.voteRateLimit?.description))
        """
    }

    private func fetchSites(_ query: PostgresQuery) async throws -> [Site] {
        try await read { connection, logger in try await Self.sites(connection.query(query, logger: logger)) }
    }

    static func sites(_ rows: PostgresRowSequence) async throws -> [Site] {
        var sites: [Site] = []
        for try await (id, name, origins, moderation, requireAuthor, requireEmail, createdAt, rateLimit, moderators, avatars, voteRateLimit)
            in rows.decode((String, String, String, String, Bool, Bool, Int64, String?, String, String, String?).self) {
            sites.append(Site(
                id: id, name: name, origins: JSONText.decode(origins), moderation: ModerationMode(rawValue: moderation) ?? .none,
                requireAuthor: requireAuthor, requireEmail: requireEmail, createdAt: createdAt,
                rateLimit: rateLimit.flatMap(RateLimit.init(parsing:)), moderators: JSONText.decode(moderators),
                avatars: AvatarSource(rawValue: avatars) ?? .identicon, voteRateLimit: voteRateLimit.flatMap(RateLimit.init(parsing:))))
        }
        return sites
    }
}
