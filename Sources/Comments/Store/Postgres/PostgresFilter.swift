import PostgresNIO

/// The conditions of a query put together from optional filters, with their bound values. A
/// class: `filter.add("x = \(filter.bind(value))")` binds and adds to the same filter.
final class PostgresFilter {
    private(set) var conditions: [String] = []
    private(set) var bindings = PostgresBindings()

    /// Binds `value` and returns its placeholder (`$3`).
    func bind<T: PostgresNonThrowingEncodable & Sendable>(_ value: T) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    func add(_ condition: String) {
        conditions.append(condition)
    }

    /// `WHERE a AND b`, or nothing.
    var whereClause: String { conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") }

    /// The query `sql` (which uses this filter's placeholders) with these values.
    func query(_ sql: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    /// `column = ANY(…)` for a list of sites, `column = …` for one; no condition for nil (every
    /// site). One site is an equality: with `= ANY` PostgreSQL cannot read an index on
    /// (site, status, time) in time order, and sorted a site's whole queue (0.55 s at 100,000).
    static func sites(_ siteIDs: [String]?, column: String) -> PostgresFilter {
        let filter = PostgresFilter()
        if let siteIDs, siteIDs.count == 1 {
            filter.add("\(column) = \(filter.bind(siteIDs[0]))")
        } else if let siteIDs {
            filter.add("\(column) = ANY(\(filter.bind(siteIDs)))")
        }
        return filter
    }
}
