import Foundation
import GRDB
import Synchronization

/// The embedded store: one SQLite file in WAL mode (one writer, many readers), shared safely
/// with the CLI through the busy timeout.
public final class SQLiteStore: CommentStore {
    /// The GRDB connection (a pool on a file, a queue in memory). Internal: every statement
    /// lives under Store/; tests reach it through `@testable import` to look at the file directly.
    let writer: any DatabaseWriter

    /// Opens (creating if needed) the database at `path` and migrates it. A new database starts
    /// with the embedded default site, whichever command creates it.
    public init(path: String) throws {
        do {
            writer = try DatabasePool(path: path, configuration: Self.configuration())
            try Self.migrate(writer, seeding: Site.embeddedDefault(createdAt: Int64(Date().timeIntervalSince1970 * 1000)))
            watch = ChangeWatch(path: path)
            changes = ChangeTracker(watch: watch)
            writer.add(transactionObserver: changes, extent: .databaseLifetime)
            newComments = Self.newComments(writer, changes)
        } catch {
            throw Self.mapped(error)
        }
    }

    /// A private in-memory database, for tests: empty, without the default site.
    public init() throws {
        writer = try DatabaseQueue(configuration: Self.configuration())
        try Self.migrator.migrate(writer)
        watch = nil
        changes = ChangeTracker(watch: nil)
        newComments = Self.newComments(writer, changes)
    }

    /// New comments, written with group commit (see `GroupCommit`).
    let newComments: GroupCommit<ScreenedComment, (CommentThread, Comment)>

    private static func newComments(_ writer: any DatabaseWriter, _ changes: ChangeTracker) -> GroupCommit<ScreenedComment, (CommentThread, Comment)> {
        GroupCommit(
            writer: writer, prepare: { db in changes.markCommentsOnly(db) }, mapError: { mapped($0) },
            work: { db, item in
                let (thread, comment) = try insertScreened(db, item)
                changes.noteThreadChanged(thread.id)
                return (thread, comment)
            })
    }

    /// Asks `PRAGMA data_version` on a connection of its own; nil in memory.
    let watch: ChangeWatch?
    /// Tells caches which commits changed what (see `ChangeTracker`).
    let changes: ChangeTracker

    /// The database file; nil in memory.
    var filePath: String? { watch?.path }

    /// The connection `checkpoint()` uses, opened on first use.
    let checkpointer = Mutex<DatabaseQueue?>(nil)

    // MARK: Capabilities

    /// Change stamps from `PRAGMA data_version` and the WAL index (see `ChangeTracker`); in
    /// memory every answer is nil.
    public var changeTracking: (any ChangeTracking)? { self }
    /// None: one node counts its rate limits in memory.
    public var sharedRateLimits: (any SharedRateLimits)? { nil }
    /// The WAL checkpoint (`checkpoint()`); in memory it copies nothing.
    public var checkpointing: (any Checkpointing)? { self }

    static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // The CLI and the server share the file: wait for the other writer instead of failing.
        configuration.busyMode = .timeout(10)
        // Each reader keeps its own page cache (2 MB at most): more readers than cores only
        // add memory, since reads are short and rare behind the thread cache.
        configuration.maximumReaderCount = 3
        configuration.prepareDatabase { db in
            // WAL + NORMAL is durable against process crashes; only power loss can drop the
            // last transactions, never corrupt the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // After a large transaction (an import) the WAL is emptied by the checkpoint but
            // keeps its size on disk; cap what stays.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            // The server checkpoints from a connection of its own (`checkpoint()`), off the
            // request path; a commit does it only as a fallback, past 32 MB of WAL.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 8000")
        }
        return configuration
    }

    /// Applies the migrations not yet applied; when they build the schema from nothing, adds
    /// `site` in the same go (nodes and commands opening one new file together add it once).
    static func migrate(_ writer: any DatabaseWriter, seeding site: Site) throws {
        // Asked on the writer's connection: a reader opened here would stay open in the pool,
        // and a bulk import alone on a new file could then not leave WAL mode.
        let fresh = try writer.writeWithoutTransaction { db in try migrator.appliedIdentifiers(db).isEmpty }
        try migrator.migrate(writer)
        if fresh { _ = try writer.write { db in try insertSiteIfNoneExist(site, db) } }
    }

    /// The migrations of `Migrations.sqlite`, in order.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (identifier, sql) in Migrations.sqlite {
            migrator.registerMigration(identifier) { db in try db.execute(sql: sql) }
        }
        return migrator
    }

    // MARK: Error mapping

    /// The one place SQLite's storage failures become `CommentsError.storageUnavailable` (503 in
    /// the API, a sentence in the CLI). A write refused by the disk (full, over the process's
    /// file size limit, an immutable file) changes nothing stored, and the next write after the
    /// condition clears works again on the same connections.
    static func mapped(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        switch error.extendedResultCode {
        case .SQLITE_IOERR_READ, .SQLITE_IOERR_SHORT_READ:
            return CommentsError.storageUnavailable("the database file cannot be read (input/output error)")
        default: break
        }
        switch error.resultCode {
        case .SQLITE_FULL: return CommentsError.storageUnavailable("the database cannot be written because the disk is full")
        case .SQLITE_READONLY:
            return CommentsError.storageUnavailable("the database cannot be written because the file is read-only")
        case .SQLITE_IOERR:
            // A write refused with EFBIG (file size limit) or EPERM (immutable file) arrives here
            // as a plain I/O error; ENOSPC arrives as SQLITE_FULL.
            return CommentsError.storageUnavailable(
                "the database cannot be written (input/output error: the disk may be full or the file read-only)")
        case .SQLITE_CANTOPEN, .SQLITE_PERM:
            return CommentsError.storageUnavailable("the database file cannot be opened for writing")
        case .SQLITE_BUSY, .SQLITE_LOCKED: return CommentsError.storageUnavailable("the database is busy")
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return CommentsError.storageUnavailable(error.message ?? "the database file is damaged")
        default: return error
        }
    }

    /// Closes every connection once nothing uses the store any more (the server has stopped).
    /// A read-write connection closes last, so SQLite checkpoints the WAL into the database file
    /// and removes it: the file is then complete on its own.
    public func close() throws {
        watch?.close()
        do {
            try writer.close()
            let last = try checkpointer.withLock { connection -> DatabaseQueue? in
                defer { connection = nil }
                if let connection { return connection }
                return try watch.map { try DatabaseQueue(path: $0.path, configuration: Self.configuration()) }
            }
            try last?.close()
        } catch {
            throw Self.mapped(error)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await writer.read(body) } catch { throw Self.mapped(error) }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await writer.write(body) } catch { throw Self.mapped(error) }
    }

    // MARK: Health

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sites") }
    }
}
