import Foundation
import GRDB

/// A SQLite file as either side.
struct SQLiteCopyEnd: StoreCopyEnd {
    let path: String
    var name: String { path }
    var exists: Bool { FileManager.default.fileExists(atPath: path) }

    func reading<T: Sendable>(_ body: @escaping @Sendable (any RowReader) async throws -> T) async throws -> T {
        let store = try SQLiteStore(path: path)
        guard let pool = store.writer as? DatabasePool else {
            throw CommentsError.storageUnavailable("\(path) is not a database file")
        }
        let snapshot = try pool.makeSnapshot()
        let result = try await body(SQLiteRowReader(snapshot: snapshot))
        withExtendedLifetime(store) {}
        return result
    }

    func writing<T: Sendable>(_ body: @escaping @Sendable (any RowWriter) async throws -> T) async throws -> T {
        let manager = FileManager.default
        if manager.fileExists(atPath: path) {
            guard try await !SQLiteStore(path: path).holdsThreadsOrComments() else {
                throw CommentsError.copyRefused("\(path) already holds threads or comments: move into a new file")
            }
        }
        // Built beside the target and renamed into place once complete.
        let building = path + ".migrating"
        for suffix in ["", "-wal", "-shm"] { try? manager.removeItem(atPath: building + suffix) }
        do {
            let result: T
            do {
                let store = try SQLiteStore(path: building)
                let writer = try await SQLiteRowWriter.open(store.writer)
                result = try await body(writer)
                try await writer.finish()
                try await store.writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
                try (store.writer as? DatabasePool)?.close()
            }
            if let size = (try? manager.attributesOfItem(atPath: building + "-wal"))?[.size] as? Int, size > 0 {
                throw CommentsError.storageUnavailable("\(building) kept a write-ahead log after closing")
            }
            for suffix in ["-wal", "-shm"] { try? manager.removeItem(atPath: building + suffix) }
            for suffix in ["-wal", "-shm"] { try? manager.removeItem(atPath: path + suffix) }
            if manager.fileExists(atPath: path) { try manager.removeItem(atPath: path) }
            try manager.moveItem(atPath: building, toPath: path)
            return result
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? manager.removeItem(atPath: building + suffix) }
            throw error
        }
    }

    func close() {}
}
