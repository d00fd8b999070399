import GRDB

// What caches ask of the store to know what they may keep (see `ChangeTracker`).
extension SQLiteStore: ChangeTracking {
    public func changeStamp() -> Int64? {
        watch?.stamp()
    }

    public func settingsStamp() -> Int64? {
        guard let stamp = changeStamp() else { return nil }
        return changes.epoch(at: stamp)
    }

    public func changeMark(at stamp: Int64) -> ChangeMark? {
        watch == nil ? nil : changes.mark(at: stamp)
    }

    public func markIfUnchanged(threadID: Int64, since mark: ChangeMark, at stamp: Int64) -> ChangeMark? {
        watch == nil ? nil : changes.markIfUnchanged(threadID: threadID, since: mark, at: stamp)
    }

    /// How often the change stamp had to be asked of SQLite (not answered from the WAL index).
    var changeStampQueries: Int { watch?.timesAsked ?? 0 }
}
