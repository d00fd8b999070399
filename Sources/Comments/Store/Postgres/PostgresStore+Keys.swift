import Foundation
import PostgresNIO

// Moderation-link signing keys and server secrets on PostgreSQL, shared by every node.
extension PostgresStore {
    public func signingKeys() async throws -> [SigningKey] {
        try await read { connection, logger in
            var keys: [SigningKey] = []
            for try await (id, secret, createdAt, retiredAt) in try await connection.query(
                "SELECT id, secret, created_at, retired_at FROM signing_keys ORDER BY created_at, id", logger: logger
            ).decode((String, Data, Int64, Int64?).self) {
                keys.append(SigningKey(id: id, secret: Array(secret), createdAt: createdAt, retiredAt: retiredAt))
            }
            return keys
        }
    }

    public func addSigningKeyIfNoneExist(_ key: SigningKey) async throws -> Bool {
        try await transaction { connection, logger in
            // Nodes starting together: the lock makes the second wait and find the first's key.
            _ = try await connection.query("LOCK TABLE signing_keys IN EXCLUSIVE MODE", logger: logger)
            let count = try await Self.values(connection.query("SELECT COUNT(*) FROM signing_keys", logger: logger), as: Int64.self).first ?? 0
            guard count == 0 else { return false }
            _ = try await connection.query(
                "INSERT INTO signing_keys (id, secret, created_at, retired_at) VALUES (\(key.id), \(Data(key.secret)), \(key.createdAt), NULL)",
                logger: logger)
            return true
        }
    }

    public func removeSigningKey(id: String) async throws -> Bool {
        try await transaction { connection, logger in
            !(try await Self.values(connection.query("DELETE FROM signing_keys WHERE id = \(id) RETURNING id", logger: logger), as: String.self)).isEmpty
        }
    }

    public func addSigningKey(_ key: SigningKey) async throws {
        try await transaction { connection, logger in
            try await connection.query("UPDATE signing_keys SET retired_at = \(key.createdAt) WHERE retired_at IS NULL", logger: logger)
            _ = try await connection.query(
                "INSERT INTO signing_keys (id, secret, created_at, retired_at) VALUES (\(key.id), \(Data(key.secret)), \(key.createdAt), NULL)",
                logger: logger)
        }
    }

    // MARK: Secrets

    public func secret(named name: String, make: @Sendable () -> [UInt8], at: Int64) async throws -> [UInt8] {
        let fresh = Data(make())
        return try await transaction { connection, logger in
            // Another node may have won the race: keep whichever was stored first.
            try await connection.query(
                "INSERT INTO secrets (name, value, created_at) VALUES (\(name), \(fresh), \(at)) ON CONFLICT (name) DO NOTHING", logger: logger)
            return Array(try await Self.values(connection.query("SELECT value FROM secrets WHERE name = \(name)", logger: logger), as: Data.self).first ?? fresh)
        }
    }
}
