import Comments

/// What a person signed in to the console may see and do.
public enum ConsoleRole: Sendable, Equatable {
    /// Every site, its settings, imports and exports (`margin admin users add`, or an admin token).
    case admin
    /// The comments of these sites only: those whose moderators name the address (or, for a
    /// site that names none, the server's default moderators do).
    case moderator(sites: [String])

    public var isAdmin: Bool { self == .admin }

    /// The sites a query may look in: nil means every site.
    public var siteIDs: [String]? {
        switch self {
        case .admin: nil
        case .moderator(let sites): sites
        }
    }

    /// Whether the role may see the site `id`.
    public func sees(siteID id: String) -> Bool {
        switch self {
        case .admin: true
        case .moderator(let sites): sites.contains(id)
        }
    }

    /// The role of `email` now; nil when the address may not sign in.
    public static func of(email: String, store: any CommentStore, defaultModerators: [String]) async throws -> ConsoleRole? {
        let address = normalized(email)
        if try await store.adminUsers().contains(where: { $0.email == address }) { return .admin }
        let isDefault = defaultModerators.contains { normalized($0) == address }
        let sites = try await store.sites().filter { site in
            site.moderators.isEmpty ? isDefault : site.moderators.contains { normalized($0) == address }
        }.map(\.id)
        return sites.isEmpty ? nil : .moderator(sites: sites)
    }

    /// An address as roles compare it: the one normaliser admins and sessions use too.
    public static func normalized(_ email: String) -> String {
        AdminUser.normalized(email)
    }
}
