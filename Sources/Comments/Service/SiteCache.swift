import Synchronization

/// Every site, read once and kept while the store's change stamp stays the same: each API
/// request needs its site (and each cross-origin one every site's origins), and sites change
/// only when an admin edits them.
public final class SiteCache: Sendable {
    private let store: any CommentStore
    private let cached = Mutex<(stamp: Int64, sites: [String: Site])?>(nil)

    /// A cache over `store`'s sites.
    public init(store: any CommentStore) {
        self.store = store
    }

    /// Every site by id.
    public func all() async throws -> [String: Site] {
        let stamp = store.changeStamp()
        if let stamp, let hit = cached.withLock({ $0?.stamp == stamp ? $0?.sites : nil }) { return hit }
        // Read after the stamp was taken, so what is kept is never older than its stamp.
        let loaded = Dictionary(try await store.sites().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        if let stamp { cached.withLock { $0 = (stamp, loaded) } }
        return loaded
    }

    /// The site with this id, if any.
    public func site(id: String) async throws -> Site? {
        try await all()[id]
    }
}
