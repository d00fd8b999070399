/// A store that keeps a write-ahead log and wants it copied into the database file beside the
/// server, every half second, so that no request's commit has to (SQLite). A store that wants
/// no such work offers none as `CommentStore.checkpointing` (PostgreSQL).
public protocol Checkpointing: Sendable {
    /// Copies what the log holds into the database file without waiting for readers or
    /// writers; returns how much it copied (SQLite's frames).
    @discardableResult
    func checkpoint() async throws -> Int
}
