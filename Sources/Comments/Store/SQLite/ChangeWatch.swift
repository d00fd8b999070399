import GRDB
import GRDBSQLite
import Synchronization

/// A connection of its own that only asks `PRAGMA data_version`: the value changes whenever
/// another connection (the store's writer, the CLI, another process) commits. Opened on first
/// use, so a CLI command that never asks holds no second connection (a bulk import needs to be
/// alone on the file).
///
/// Asking SQLite costs a read transaction (file locks, two `fcntl` calls) behind a lock shared
/// by every request, which profiles showed at 15-20 % of a cached GET. So the watch also keeps
/// the WAL-index header (https://www.sqlite.org/walformat.html) that was current when it last
/// asked: every commit, from any process, rewrites that header with a new change counter, so
/// while both copies of it are unchanged, `data_version` is too, and the stamp is answered
/// from memory. The header is read through SQLite's own mapping of the shared memory (the VFS's
/// `xShmMap`), valid while the watch connection stays open and in WAL mode; anything unusual
/// (no WAL, a header being written) falls back to asking SQLite.
final class ChangeWatch: Sendable {
    /// The database file.
    let path: String
    private let state = Mutex(State())

    /// The watch connection, and what it last saw.
    private struct State: ~Copyable {
        var connection: DatabaseQueue?
        /// The WAL index (its first page) as SQLite maps it for the watch connection.
        var walIndex: UnsafeRawPointer?
        /// The header and the stamp it stood for when SQLite was last asked.
        var header: WALIndexHeader?
        var stamp: Int64?
        /// How often SQLite was asked.
        var asked = 0
    }

    /// How often `stamp` had to ask SQLite since the watch was opened.
    var timesAsked: Int { state.withLock { $0.asked } }

    init(path: String) {
        self.path = path
    }

    /// Closes the connection (`stamp()` would open it again).
    func close() {
        state.withLock { state in
            try? state.connection?.close()
            state = State()
        }
    }

    /// The current stamp; nil when the file cannot be read (or, unless `openingIfNeeded`, when
    /// no stamp was asked for yet).
    func stamp(openingIfNeeded: Bool = true) -> Int64? {
        state.withLock { state -> Int64? in
            if let walIndex = state.walIndex, let header = state.header, WALIndexHeader(reading: walIndex) == header {
                return state.stamp
            }
            if state.connection == nil {
                guard openingIfNeeded else { return nil }
                var watching = Configuration()
                watching.readonly = true
                state.connection = try? DatabaseQueue(path: path, configuration: watching)
            }
            guard let connection = state.connection else { return nil }
            // Read before asking, so the header is never newer than the stamp it stands for.
            let before = state.walIndex.flatMap { WALIndexHeader(reading: $0) }
            state.asked += 1
            // Once mapped, the region stays: while this connection is open the file cannot leave
            // WAL mode (that needs every other connection closed), so it is looked up only once.
            let known = state.walIndex
            let (stamp, walIndex) = (try? connection.inDatabase { db -> (Int64?, UnsafeRawPointer?) in
                let stamp = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version"))
                return (stamp, try known ?? Self.walIndex(db))
            }) ?? (nil, nil)
            let usable = walIndex != nil && walIndex == state.walIndex && stamp != nil
            state.walIndex = walIndex
            state.header = usable ? before : nil
            state.stamp = usable ? stamp : nil
            return stamp
        }
    }

    /// SQLite's mapping of the first page of the WAL index for `db`; nil unless the database is
    /// in WAL mode with shared memory (asking would otherwise make SQLite open it).
    private static func walIndex(_ db: Database) throws -> UnsafeRawPointer? {
        guard try String.fetchOne(db.cachedStatement(sql: "PRAGMA journal_mode")) == "wal" else { return nil }
        var file: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK,
              let methods = file?.pointee.pMethods, methods.pointee.iVersion >= 2, let map = methods.pointee.xShmMap
        else { return nil }
        var region: UnsafeMutableRawPointer?
        // Region 0 is 32 KiB; with bExtend 0 SQLite only hands out what it has mapped already.
        guard map(file, 0, 32768, 0, &region) == SQLITE_OK, let region else { return nil }
        return UnsafeRawPointer(region)
    }
}

/// The WAL-index header: SQLite keeps two copies (48 bytes each, at offsets 0 and 48) and
/// writes the second, then the first; they differ only while a commit is rewriting them.
struct WALIndexHeader: Equatable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    /// Both copies at `index`; nil while they differ (a commit is rewriting them).
    init?(reading index: UnsafeRawPointer) {
        func copy(_ offset: Int) -> (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) {
            (index.load(fromByteOffset: offset, as: UInt64.self), index.load(fromByteOffset: offset + 8, as: UInt64.self),
             index.load(fromByteOffset: offset + 16, as: UInt64.self), index.load(fromByteOffset: offset + 24, as: UInt64.self),
             index.load(fromByteOffset: offset + 32, as: UInt64.self), index.load(fromByteOffset: offset + 40, as: UInt64.self))
        }
        let first = copy(0), second = copy(48)
        guard first == second else { return nil }
        words = first
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.words == rhs.words }
}
