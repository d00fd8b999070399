import Logging
import NIOCore
import PostgresNIO

/// Inserts rows inside the transaction `PostgresCopyEnd.writing` opened, binding each value as its
/// column's declared type (SQLite's 0 and 1 become booleans, its blobs bytea).
struct PostgresRowWriter: RowWriter {
    let connection: PostgresConnection
    let logger: Logger

    /// The columns of `table` in order, with their types.
    static func columnTypes(of table: String, on connection: PostgresConnection, logger: Logger) async throws -> [(name: String, type: String)] {
        var columns: [(name: String, type: String)] = []
        let rows = try await connection.query(PostgresQuery("""
            SELECT column_name::text, data_type::text FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table) ORDER BY ordinal_position
            """), logger: logger)
        for try await (name, type) in rows.decode((String, String).self) { columns.append((name, type)) }
        return columns
    }

    func columns(of table: String) async throws -> [String: String] {
        Dictionary(try await Self.columnTypes(of: table, on: connection, logger: logger).map { ($0.name, $0.type) },
                   uniquingKeysWith: { first, _ in first })
    }

    func insert(_ rows: [[StoredValue]], into table: String, columns: [String]) async throws {
        let types = try await self.columns(of: table)
        for query in try Self.statements(rows, into: table, columns: columns, types: types) {
            try await connection.query(query, logger: logger)
        }
    }

    /// `INSERT` statements for `rows`, as many as the parameter limit needs, each ending in
    /// `suffix` (an `ON CONFLICT` or `RETURNING` clause).
    static func statements(
        _ rows: [[StoredValue]], into table: String, columns: [String], types: [String: String], suffix: String = ""
    ) throws -> [PostgresQuery] {
        // At most 65,535 parameters a statement.
        let perStatement = max(1, 30_000 / max(columns.count, 1))
        var statements: [PostgresQuery] = []
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + perStatement)]
            var bindings = PostgresBindings(capacity: chunk.count * columns.count)
            var tuples: [String] = []
            for row in chunk {
                var placeholders: [String] = []
                for (index, value) in row.enumerated() {
                    try bind(value, as: types[columns[index]] ?? "text", column: columns[index], into: &bindings)
                    placeholders.append("$\(bindings.count)")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            let sql = "INSERT INTO \(table) (\(columns.map { "\"\($0)\"" }.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", ")) \(suffix)"
            statements.append(PostgresQuery(unsafeSQL: sql, binds: bindings))
            start += chunk.count
        }
        return statements
    }

    static func bind(_ value: StoredValue, as type: String, column: String, into bindings: inout PostgresBindings) throws {
        switch (value, type) {
        case (.null, _): bindings.appendNull()
        case (.integer(let int), "boolean"): bindings.append(int != 0)
        case (.integer(let int), "smallint"):
            guard let small = Int16(exactly: int) else { throw outOfRange(int, column: column, type: type) }
            bindings.append(small)
        case (.integer(let int), "integer"):
            guard let small = Int32(exactly: int) else { throw outOfRange(int, column: column, type: type) }
            bindings.append(small)
        case (.integer(let int), "double precision"), (.integer(let int), "real"): bindings.append(Double(int))
        case (.integer(let int), "text"): bindings.append(String(int))
        case (.integer(let int), _): bindings.append(int)
        case (.real(let double), "text"): bindings.append(String(double))
        case (.real(let double), _): bindings.append(double)
        case (.text(let text), "bytea"): bindings.append(ByteBuffer(string: text))
        case (.text(let text), _): bindings.append(text)
        case (.blob(let bytes), "bytea"): bindings.append(ByteBuffer(bytes: bytes))
        case (.blob, _):
            throw CommentsError.copyRefused("\(column) holds bytes where PostgreSQL keeps \(type)")
        }
    }

    static func outOfRange(_ value: Int64, column: String, type: String) -> CommentsError {
        .copyRefused("\(column) holds \(value), out of range for PostgreSQL's \(type)")
    }
}
