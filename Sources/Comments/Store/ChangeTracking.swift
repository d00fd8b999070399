/// What a store tells read caches about its changes, cheaply enough to ask on every request.
/// A store that can tell offers it as `CommentStore.changeTracking` (SQLite); one that cannot
/// offers none (PostgreSQL: no stamp is shared between nodes yet), and then nothing may be
/// served from a cache without asking the store.
public protocol ChangeTracking: Sendable {
    /// A number that changes whenever anything in the store may have changed, from this process
    /// or any other, and costs next to nothing to ask: read caches stay valid while it stays
    /// the same. Nil when the store cannot tell now (then nothing may be served from a cache
    /// without asking the store).
    func changeStamp() -> Int64?
    /// Like `changeStamp`, but for sites and the blocklist only: it stays the same while this
    /// process writes nothing but comments (as a busy site does all day), and changes whenever
    /// sites or the blocklist may have changed, from this process or any other.
    func settingsStamp() -> Int64?
    /// Where the store's history of changes stands at change stamp `stamp`, for a cache that
    /// will later ask whether one thread changed since; nil when the store cannot tell.
    func changeMark(at stamp: Int64) -> ChangeMark?
    /// The mark at change stamp `stamp` if thread `threadID` (its comments, votes and the
    /// settings of its site) is certainly unchanged since `mark`; nil when it changed or the
    /// store is unsure.
    func markIfUnchanged(threadID: Int64, since mark: ChangeMark, at stamp: Int64) -> ChangeMark?
}

/// A point in a store's history of changes (see `ChangeTracking.changeMark(at:)`).
public struct ChangeMark: Sendable, Equatable {
    /// Changes of unknown extent so far.
    public var epoch: Int64
    /// Changes of known threads so far, within the epoch.
    public var sequence: Int64

    public init(epoch: Int64, sequence: Int64) {
        self.epoch = epoch
        self.sequence = sequence
    }
}
