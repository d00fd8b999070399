import Synchronization

/// Every site and the blocklist, read once and kept while the store's settings stamp stays the
/// same: each API request needs its site (each cross-origin one every site's origins, each new
/// comment the blocklist), and these change only when an admin edits them, not when comments
/// are written.
public final class SiteCache: Sendable {
    private let store: any CommentStore
    private let cachedSites = Mutex<(stamp: Int64, sites: [String: Site])?>(nil)
    private let cachedBlocklist = Mutex<(stamp: Int64, entries: [BlockEntry])?>(nil)

    /// A cache over `store`'s sites and blocklist.
    public init(store: any CommentStore) {
        self.store = store
    }

    /// Every site by id.
    public func all() async throws -> [String: Site] {
        let stamp = store.settingsStamp()
        if let stamp, let hit = cachedSites.withLock({ $0?.stamp == stamp ? $0?.sites : nil }) { return hit }
        // Read after the stamp was taken, so what is kept is never older than its stamp.
        let loaded = Dictionary(try await store.sites().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        if let stamp { cachedSites.withLock { $0 = (stamp, loaded) } }
        return loaded
    }

    /// The site with this id, if any.
    public func site(id: String) async throws -> Site? {
        try await all()[id]
    }

    /// Every blocklist entry.
    public func blocklist() async throws -> [BlockEntry] {
        let stamp = store.settingsStamp()
        if let stamp, let hit = cachedBlocklist.withLock({ $0?.stamp == stamp ? $0?.entries : nil }) { return hit }
        let loaded = try await store.blocklist()
        if let stamp { cachedBlocklist.withLock { $0 = (stamp, loaded) } }
        return loaded
    }
}
