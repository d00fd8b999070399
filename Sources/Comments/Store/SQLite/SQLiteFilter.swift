import GRDB

/// The conditions of a query put together from optional filters, with their arguments.
struct SQLiteFilter {
    private(set) var conditions: [String] = []
    private(set) var arguments: StatementArguments = []

    mutating func add(_ condition: String, _ values: StatementArguments) {
        conditions.append(condition)
        arguments += values
    }

    /// `column` equal to `value` whatever the case, as PostgreSQL's `lower()` compares: NOCASE
    /// (which the indexes are built with) for an ASCII value; for any other, Swift's Unicode
    /// lowercasing of both sides (GRDB's `swiftLowercaseString`), since NOCASE folds ASCII only.
    static func foldedEquals(_ column: String, _ value: String) -> String {
        value.isASCIIOnly ? "\(column) = ? COLLATE NOCASE" : "swiftLowercaseString(\(column)) = swiftLowercaseString(?)"
    }

    /// `WHERE a AND b`, or nothing.
    var whereClause: String { conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") }
}

extension String {
    /// Whether every character is ASCII (SQLite's NOCASE folds only those).
    var isASCIIOnly: Bool { utf8.allSatisfy { $0 < 0x80 } }
}
