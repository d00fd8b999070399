import Foundation
import GRDB
import Logging
import PostgresNIO

/// Carries an import made on a SQLite copy of a PostgreSQL database that holds comments back
/// into that database while its nodes keep serving, in one transaction.
///
/// The importers are written once, for SQLite, and decide everything there: which threads
/// merge, which posts are duplicates or were imported before, where replies hang. While they
/// run, temporary triggers on the copy note every row they insert and the first state of every
/// stored row they update. The merge then writes only that difference into PostgreSQL:
/// - new rows get ids from PostgreSQL's own sequences (the copy's may have been handed to
///   comments posted on other nodes meanwhile), and references to them follow;
/// - a thread or an imported comment that arrived meanwhile under the same address or origin
///   (another import) is used instead of a second copy;
/// - a stored row changes only where it still holds what the import saw, so a moderation made
///   meanwhile is kept;
/// - nothing stored is deleted.
///
/// The version triggers rest while the rows go in (see `PostgresMigrations.v2`); each thread
/// the merge touched gets one new version just before COMMIT, so every node's cached copy of it
/// is refreshed on its next request, and no node's posting waits on the merge meanwhile.
enum ImportMerge {
    /// A table an import writes, and what the merge must know of it.
    struct Table: Sendable {
        let name: String
        let key: [String]
        /// Whether PostgreSQL gives new rows their `id`.
        let freshIDs: Bool
        /// Columns holding the id of a row of another table (mapped when that row is new).
        let references: [String: String]
        /// Columns PostgreSQL keeps itself (triggers), never copied.
        let managed: Set<String>
    }

    /// Every table an importer writes, parents before children.
    static let tables: [Table] = [
        Table(name: "sites", key: ["id"], freshIDs: false, references: [:], managed: []),
        Table(name: "threads", key: ["id"], freshIDs: true, references: [:], managed: ["version"]),
        Table(name: "comments", key: ["id"], freshIDs: true, references: ["thread_id": "threads", "parent_id": "comments"], managed: []),
        Table(name: "votes", key: ["comment_id", "voter"], freshIDs: false, references: ["comment_id": "comments"], managed: []),
        Table(name: "moderation_log", key: ["id"], freshIDs: true, references: ["comment_id": "comments"], managed: []),
        Table(name: "blocklist", key: ["kind", "value", "site_id"], freshIDs: false, references: [:], managed: []),
    ]

    /// What the merge wrote.
    struct Counts: Sendable, Equatable {
        /// New rows by table.
        var inserted: [String: Int] = [:]
        /// Stored rows an import changed (a title filled in, a duplicate moved to a better thread).
        var updated = 0
        /// Changes left out because the row was changed on another node meanwhile.
        var keptTheirs = 0
        /// New rows that arrived meanwhile from elsewhere (the same thread address, the same origin).
        var arrivedMeanwhile = 0
    }

    /// Starts noting, on the copy's one writer connection (where the import runs), every row
    /// inserted into the tables above and the first state of every stored row updated.
    static func track(_ copy: SQLiteStore) async throws {
        try await SQLiteImportNotes.start(on: copy, tables: tables)
    }

    // MARK: Writing it into PostgreSQL

    /// Writes every row the import inserted into `store` and every change it made to a stored
    /// row, in one transaction (all or nothing).
    static func apply(from copy: SQLiteStore, into store: PostgresStore) async throws -> Counts {
        try await store.explicitTransaction { connection, logger in
            // Two merges at once take turns, so each finds the threads and origins the other wrote.
            try await PostgresStore.execute("SELECT pg_advisory_xact_lock(\(advisoryLock))", on: connection, logger: logger)
            // New rows first, with the version triggers resting: nothing another node needs is
            // locked while they go in (see `PostgresMigrations.v2`).
            try await PostgresStore.execute("SET LOCAL margin.bulk_write = 'on'", on: connection, logger: logger)
            var merge = Merging(copy: copy, connection: connection, logger: logger)
            for table in tables { try await merge.insertNewRows(of: table) }
            // Then, briefly before COMMIT, what does lock rows others write: stored rows and the
            // touched threads' versions (once each).
            try await merge.linkNewReplies()
            for table in tables { try await merge.updateStoredRows(of: table) }
            try await merge.fillTitlesOfThreadsThatArrivedMeanwhile()
            try await merge.bumpTouchedThreads()
            let counts = merge.counts
            logger.info("import merged", metadata: [
                "inserted": "\(counts.inserted.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))",
                "updated": "\(counts.updated)", "kept_theirs": "\(counts.keptTheirs)", "arrived_meanwhile": "\(counts.arrivedMeanwhile)",
            ])
            return counts
        }
    }

    /// Held by a merge until its transaction ends ("margin-i" in ASCII).
    static let advisoryLock: Int64 = 0x6D61_7267_696E_2D69

    /// One merge under way, inside its PostgreSQL transaction.
    struct Merging {
        let copy: SQLiteStore
        let connection: PostgresConnection
        let logger: Logger
        var counts = Counts()
        /// Copy id → PostgreSQL id of every new row, by table.
        var ids: [String: [Int64: Int64]] = [:]
        /// New comments (PostgreSQL ids) and the copy id of the comment they reply to.
        var replies: [(id: Int64, parent: Int64)] = []
        /// The comments this merge has written so far (PostgreSQL ids).
        var mergedComments = Set<Int64>()
        /// Threads whose cached copies the merge makes stale.
        var touchedThreads = Set<Int64>()
        /// Threads that arrived meanwhile at an address the import brought a title for.
        var titles: [(id: Int64, title: String)] = []

        init(copy: SQLiteStore, connection: PostgresConnection, logger: Logger) {
            self.copy = copy
            self.connection = connection
            self.logger = logger
        }

        /// The columns both sides hold, in the copy's order, with PostgreSQL's types.
        func columns(of table: Table) async throws -> (names: [String], types: [String: String]) {
            let types = try await PostgresRowWriter(connection: connection, logger: logger).columns(of: table.name)
            let names = try await SQLiteImportNotes.columns(of: table.name, in: copy)
            return (names.filter { types[$0] != nil && !table.managed.contains($0) }, types)
        }

        /// The PostgreSQL id a copy id of `table` stands for.
        func mapped(_ value: StoredValue, to table: String) -> StoredValue {
            guard case .integer(let id) = value, let mapped = ids[table]?[id] else { return value }
            return .integer(mapped)
        }

        mutating func insertNewRows(of table: Table) async throws {
            let (names, types) = try await columns(of: table)
            try await SQLiteImportNotes.pages(in: copy, of: table, noted: .newRows, columns: names) { rows in
                switch table.name {
                case "threads": try await insertThreads(rows, columns: names, types: types)
                case "comments": try await insertComments(rows, columns: names, types: types)
                default: try await insertRows(rows, of: table, columns: names, types: types)
                }
            }
        }

        /// Threads arrive without their ids; one whose address arrived meanwhile is used as it is
        /// (its title filled in if it had none).
        mutating func insertThreads(_ rows: [[StoredValue]], columns: [String], types: [String: String]) async throws {
            let id = columns.firstIndex(of: "id")!, site = columns.firstIndex(of: "site_id")!, uri = columns.firstIndex(of: "uri")!
            let written = columns.indices.filter { $0 != id }
            let title = columns.firstIndex(of: "title")
            let returned = try await insert(
                rows.map { row in written.map { row[$0] } }, into: "threads", columns: written.map { columns[$0] }, types: types,
                suffix: "ON CONFLICT (site_id, uri) DO NOTHING RETURNING id, site_id, uri")
            var inserted: [String: Int64] = [:]
            for row in returned {
                guard case .integer(let pgID) = row[0], case .text(let site) = row[1], case .text(let uri) = row[2] else { continue }
                inserted[site + "\u{0}" + uri] = pgID
            }
            for row in rows {
                guard case .integer(let copyID) = row[id], case .text(let site) = row[site], case .text(let uri) = row[uri] else { continue }
                if let pgID = inserted[site + "\u{0}" + uri] {
                    ids["threads", default: [:]][copyID] = pgID
                    counts.inserted["threads", default: 0] += 1
                    continue
                }
                // Its address arrived meanwhile (a comment posted on another node): that thread it is.
                let existing = try await PostgresStore.values(connection.query(
                    "SELECT id FROM threads WHERE site_id = \(site) AND uri = \(uri)", logger: logger), as: Int64.self)
                guard let pgID = existing.first else { continue }
                ids["threads", default: [:]][copyID] = pgID
                counts.arrivedMeanwhile += 1
                if let title, case .text(let text) = row[title] { titles.append((pgID, text)) }
            }
        }

        /// Gives the threads that arrived meanwhile the title the import brought, where they have none.
        func fillTitlesOfThreadsThatArrivedMeanwhile() async throws {
            for (id, title) in titles {
                try await connection.query("UPDATE threads SET title = \(title) WHERE id = \(id) AND title IS NULL", logger: logger)
            }
        }

        /// Every touched thread's version goes up once: every node's cached copy of it is stale.
        func bumpTouchedThreads() async throws {
            let touched = Array(touchedThreads)
            try await connection.query("UPDATE threads SET version = version + 1 WHERE id = ANY(\(touched))", logger: logger)
        }

        /// Comments get ids from PostgreSQL's sequence before they are written. A reply whose
        /// parent an earlier statement wrote names it at once; the others are linked once all are
        /// in (`linkNewReplies`). One whose origin arrived meanwhile (the same file imported on
        /// another node) is used as it is.
        mutating func insertComments(_ rows: [[StoredValue]], columns: [String], types: [String: String]) async throws {
            let id = columns.firstIndex(of: "id")!, parent = columns.firstIndex(of: "parent_id")!
            let site = columns.firstIndex(of: "site_id")!, origin = columns.firstIndex(of: "origin")!
            let thread = columns.firstIndex(of: "thread_id")!
            let fresh = try await PostgresStore.values(connection.query(PostgresQuery(
                "SELECT nextval(pg_get_serial_sequence('comments', 'id')) FROM generate_series(1, \(rows.count))"), logger: logger), as: Int64.self)
            var written: [[StoredValue]] = []
            var linked = Set<Int64>()
            for (row, pgID) in zip(rows, fresh) {
                var row = row
                if case .integer(let copyID) = row[id] { ids["comments", default: [:]][copyID] = pgID }
                row[id] = .integer(pgID)
                // A parent this merge wrote in an earlier statement is there for sure (nobody
                // else sees it yet): linked at once. Any other waits for `linkNewReplies`.
                if case .integer(let parentID) = row[parent], let mapped = ids["comments"]?[parentID], mergedComments.contains(mapped) {
                    row[parent] = .integer(mapped)
                    linked.insert(pgID)
                } else {
                    row[parent] = .null
                }
                row[thread] = mapped(row[thread], to: "threads")
                written.append(row)
            }
            let returned = try await insert(
                written, into: "comments", columns: columns, types: types,
                suffix: "ON CONFLICT (site_id, origin) WHERE origin IS NOT NULL DO NOTHING RETURNING id")
            let inserted = Set(returned.compactMap { row -> Int64? in if case .integer(let id) = row[0] { id } else { nil } })
            counts.inserted["comments", default: 0] += inserted.count
            mergedComments.formUnion(inserted)
            for (row, pgID) in zip(written, fresh) where inserted.contains(pgID) {
                if case .integer(let threadID) = row[thread] { touchedThreads.insert(threadID) }
            }
            for (row, pgID) in zip(rows, fresh) {
                guard case .integer(let copyID) = row[id] else { continue }
                if inserted.contains(pgID) {
                    if case .integer(let parentID) = row[parent], !linked.contains(pgID) { replies.append((pgID, parentID)) }
                    continue
                }
                // Its origin is stored already: that comment stands for it.
                counts.arrivedMeanwhile += 1
                guard case .text(let site) = row[site], case .text(let origin) = row[origin] else { continue }
                let existing = try await PostgresStore.values(connection.query(
                    "SELECT id FROM comments WHERE site_id = \(site) AND origin = \(origin)", logger: logger), as: Int64.self)
                ids["comments", default: [:]][copyID] = existing.first
            }
        }

        /// Rows of the other tables, with their references mapped; the ones already there stay.
        mutating func insertRows(_ rows: [[StoredValue]], of table: Table, columns: [String], types: [String: String]) async throws {
            let keptColumns = columns.indices.filter { !(table.freshIDs && columns[$0] == "id") }
            let written = rows.map { row in
                keptColumns.map { index in table.references[columns[index]].map { mapped(row[index], to: $0) } ?? row[index] }
            }
            let returned = try await insert(
                written, into: table.name, columns: keptColumns.map { columns[$0] }, types: types,
                suffix: table.freshIDs ? "RETURNING 1" : "ON CONFLICT DO NOTHING RETURNING 1")
            counts.inserted[table.name, default: 0] += returned.count
        }

        /// Hangs each new reply from its parent, new or stored; one whose parent is gone
        /// meanwhile stays top-level.
        mutating func linkNewReplies() async throws {
            var start = 0
            while start < replies.count {
                let chunk = replies[start..<min(replies.count, start + 5_000)]
                let children = chunk.map(\.id)
                let parents = chunk.map { ids["comments"]?[$0.parent] ?? $0.parent }
                try await connection.query("""
                    UPDATE comments c SET parent_id = v.parent
                    FROM unnest(\(children)::bigint[], \(parents)::bigint[]) AS v(id, parent)
                    WHERE c.id = v.id AND EXISTS (SELECT 1 FROM comments p WHERE p.id = v.parent AND p.thread_id = c.thread_id)
                    """, logger: logger)
                start += chunk.count
            }
        }

        /// Each column the import changed on a stored row is set, where the row still holds what
        /// the import saw.
        mutating func updateStoredRows(of table: Table) async throws {
            let (names, types) = try await columns(of: table)
            let compared = names.filter { !table.key.contains($0) }
            guard !compared.isEmpty else { return }
            var changes: [(key: [StoredValue], column: String, old: StoredValue, new: StoredValue)] = []
            try await SQLiteImportNotes.pages(in: copy, of: table, noted: .oldRows, columns: table.key + compared, notedColumns: compared) { rows in
                for row in rows {
                    let key = Array(row[0..<table.key.count])
                    for (offset, column) in compared.enumerated() {
                        let new = row[table.key.count + offset], old = row[table.key.count + compared.count + offset]
                        if new != old { changes.append((key, column, old, new)) }
                    }
                }
            }
            var changedRows = Set<[StoredValue]>()
            for change in changes {
                var bindings = PostgresBindings()
                let new = table.references[change.column].map { mapped(change.new, to: $0) } ?? change.new
                try PostgresRowWriter.bind(new, as: types[change.column] ?? "text", column: change.column, into: &bindings)
                try PostgresRowWriter.bind(change.old, as: types[change.column] ?? "text", column: change.column, into: &bindings)
                var conditions = ["\(change.column.quotedDatabaseIdentifier) IS NOT DISTINCT FROM $2"]
                for (index, key) in table.key.enumerated() {
                    // A global blocklist entry's key holds a null site.
                    if change.key[index] == .null { conditions.append("\(key.quotedDatabaseIdentifier) IS NULL"); continue }
                    try PostgresRowWriter.bind(change.key[index], as: types[key] ?? "text", column: key, into: &bindings)
                    conditions.append("\(key.quotedDatabaseIdentifier) = $\(bindings.count)")
                }
                // A changed comment makes its thread (both threads, when it moved) stale.
                let thread = table.name == "comments" ? "thread_id" : table.name == "threads" ? "id" : "NULL::bigint"
                let sql = """
                    UPDATE \(table.name) SET \(change.column.quotedDatabaseIdentifier) = $1 WHERE \(conditions.joined(separator: " AND "))
                    RETURNING \(thread)
                    """
                var matched = false
                for try await thread in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
                    .decode(Int64?.self) {
                    matched = true
                    if let thread { touchedThreads.insert(thread) }
                }
                if !matched { counts.keptTheirs += 1; continue }
                changedRows.insert(change.key)
                if table.name == "comments", change.column == "thread_id", case .integer(let old) = change.old { touchedThreads.insert(old) }
            }
            counts.updated += changedRows.count
        }

        /// Inserts `rows` a few hundred at a time, each statement ending in `suffix`; what the
        /// statements return.
        func insert(
            _ rows: [[StoredValue]], into table: String, columns: [String], types: [String: String], suffix: String
        ) async throws -> [[StoredValue]] {
            var returned: [[StoredValue]] = []
            for query in try PostgresRowWriter.statements(rows, into: table, columns: columns, types: types, suffix: suffix) {
                for try await row in try await connection.query(query, logger: logger) {
                    returned.append(try row.map(PostgresRowReader.value))
                }
            }
            return returned
        }
    }
}
