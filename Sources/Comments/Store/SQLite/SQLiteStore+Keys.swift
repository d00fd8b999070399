import Foundation
import GRDB

// Moderation-link signing keys and server secrets on SQLite.
extension SQLiteStore {
    public func signingKeys() async throws -> [SigningKey] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signing_keys ORDER BY created_at, id").map { row in
                SigningKey(id: row["id"], secret: Array(row["secret"] as Data), createdAt: row["created_at"], retiredAt: row["retired_at"])
            }
        }
    }

    public func addSigningKeyIfNoneExist(_ key: SigningKey) async throws -> Bool {
        try await write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM signing_keys") == 0 else { return false }
            try db.execute(
                sql: "INSERT INTO signing_keys (id, secret, created_at, retired_at) VALUES (?, ?, ?, NULL)",
                arguments: [key.id, Data(key.secret), key.createdAt])
            return true
        }
    }

    public func removeSigningKey(id: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM signing_keys WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func addSigningKey(_ key: SigningKey) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL", arguments: [key.createdAt])
            try db.execute(
                sql: "INSERT INTO signing_keys (id, secret, created_at, retired_at) VALUES (?, ?, ?, NULL)",
                arguments: [key.id, Data(key.secret), key.createdAt])
        }
    }

    // MARK: Secrets

    public func secret(named name: String, make: @Sendable () -> [UInt8], at: Int64) async throws -> [UInt8] {
        if let existing = try await read({ db in
            try Data.fetchOne(db, sql: "SELECT value FROM secrets WHERE name = ?", arguments: [name])
        }) {
            return Array(existing)
        }
        let fresh = Data(make())
        return try await write { db in
            // Another process may have won the race: keep whichever was stored first.
            try db.execute(
                sql: "INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                arguments: [name, fresh, at])
            return Array(try Data.fetchOne(db, sql: "SELECT value FROM secrets WHERE name = ?", arguments: [name]) ?? fresh)
        }
    }
}
