import Synchronization

/// Every site and the blocklist, read once and kept while the store's settings stamp stays the
/// same: each API request needs its site (each cross-origin one every site's origins, each new
/// comment the blocklist), and these change only when an admin edits them, not when comments
/// are written.
public final class SiteCache: Sendable {
    private let store: any CommentStore
    private let cachedSites = Mutex<(stamp: Int64, value: [String: Site])?>(nil)
    private let cachedBlocklist = Mutex<(stamp: Int64, value: [BlockEntry])?>(nil)

    /// A cache over `store`'s sites and blocklist.
    public init(store: any CommentStore) {
        self.store = store
    }

    /// Every site by id.
    public func all() async throws -> [String: Site] {
        try await cached(in: cachedSites) { store -> [String: Site] in
            Dictionary(try await store.sites().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// The site with this id, if any.
    public func site(id: String) async throws -> Site? {
        try await all()[id]
    }

    /// Every blocklist entry, of every site and global.
    public func blocklist() async throws -> [BlockEntry] {
        try await cached(in: cachedBlocklist) { store in try await store.blocklist() }
    }

    /// The blocklist entries that apply to site `id` (its own and the global ones); the global
    /// ones alone for nil.
    public func blocklist(siteID id: String?) async throws -> [BlockEntry] {
        try await blocklist().filter { $0.siteID == nil || $0.siteID == id }
    }

    /// What `slot` holds if it was loaded at the current settings stamp, else `load`ed anew.
    private func cached<Value: Sendable>(
        in slot: borrowing Mutex<(stamp: Int64, value: Value)?>, _ load: (any CommentStore) async throws -> Value
    ) async throws -> Value {
        let stamp = store.changeTracking?.settingsStamp()
        if let stamp, let hit = slot.withLock({ $0?.stamp == stamp ? $0?.value : nil }) { return hit }
        // Read after the stamp was taken, so what is kept is never older than its stamp.
        let loaded = try await load(store)
        if let stamp { slot.withLock { $0 = (stamp, loaded) } }
        return loaded
    }
}
