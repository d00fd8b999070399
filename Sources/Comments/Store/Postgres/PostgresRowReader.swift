import Logging
import NIOCore
import PostgresNIO

/// Reads tables inside the snapshot transaction `PostgresCopyEnd.reading` opened.
struct PostgresRowReader: RowReader {
    let connection: PostgresConnection
    let logger: Logger

    /// The one number a `SELECT COUNT(*) …` of our own text answers.
    static func count(_ sql: String, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        Int(try await PostgresStore.values(connection.query(PostgresQuery(unsafeSQL: sql), logger: logger), as: Int64.self).first ?? 0)
    }

    func columns(of table: String) async throws -> [String] {
        try await PostgresRowWriter.columnTypes(of: table, on: connection, logger: logger).map(\.name)
    }

    func count(_ table: String) async throws -> Int {
        try await Self.count("SELECT COUNT(*) FROM \(table)", on: connection, logger: logger)
    }

    func rows(of table: String, columns: [String], _ each: @escaping @Sendable ([[StoredValue]]) async throws -> Void) async throws {
        let key = try await primaryKey(of: table)
        let sql = "SELECT \(columns.map { "\"\($0)\"" }.joined(separator: ", ")) FROM \(table) ORDER BY \(key.joined(separator: ", "))"
        var batch: [[StoredValue]] = []
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
            batch.append(try row.map(Self.value))
            if batch.count == 500 {
                try await each(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try await each(batch) }
    }

    private func primaryKey(of table: String) async throws -> [String] {
        var key: [String] = []
        let rows = try await connection.query(PostgresQuery("""
            SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = \(table)::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)
            """), logger: logger)
        for try await name in rows.decode(String.self) { key.append("\"\(name)\"") }
        return key.isEmpty ? ["ctid"] : key
    }

    static func value(_ cell: PostgresCell) throws -> StoredValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
        default: return .text(try cell.decode(String.self))
        }
    }
}
