import Foundation

/// The one way in for imports and exports, whatever asks (`margin import` and `margin export`,
/// the admin API): it opens the store the way each needs (a PostgreSQL store through a SQLite
/// copy), seeds the default site a record import expects, and picks the importer or exporter.
public struct Transfer: Sendable {
    public let store: any CommentStore
    /// The time imports are stamped and checked with.
    public let clock: any MarginClock

    /// Transfers into and out of `store`.
    public init(store: any CommentStore, clock: any MarginClock = SystemClock()) {
        self.store = store
        self.clock = clock
    }

    /// Imports `request.file` in ONE transaction; throws `ImportError` for a malformed file
    /// (nothing written). A record format imported into site `default` of a database with no site
    /// at all is imported as if the server had started first: the embedded default site is
    /// created in the import's transaction (so a dry run or a refused file creates none). A
    /// Margin export brings its own sites.
    public func importFile(_ request: ImportRequest) async throws -> ImportSummary {
        let clock = self.clock
        // On PostgreSQL the import runs on a SQLite copy: moved in whole into a database
        // without comments (a new installation, a restore), merged into one that holds some.
        return try await store.importStaged(keep: { !$0.dryRun }) { sqlite in
            if request.format == .margin {
                return try await MarginImporter(store: sqlite, editWindowMillis: request.editWindowMillis, clock: clock)
                    .run(url: request.file, dryRun: request.dryRun)
            }
            // Importing before the server ever ran: the file gets the same default site it would have.
            let options = Importer.Options(siteID: request.siteID, source: request.format, rules: request.rules, dryRun: request.dryRun,
                                           skipInvalid: request.skipInvalid, seedSite: Site.embeddedDefault(createdAt: clock.nowMillis()))
            return try await Importer(store: sqlite, clock: clock).run(options, file: request.file, progress: request.progress)
        }
    }

    /// Writes the export in `format` (of one site, or of everything) through `write`, which
    /// receives chunks of bytes; throws `CommentsError.siteNotFound` for an unknown site.
    public func export(format: ExportFormat, siteID: String?, write: @escaping @Sendable ([UInt8]) throws -> Void) async throws {
        // PostgreSQL is read through one consistent snapshot copied into SQLite: the very bytes
        // the same data gives from a SQLite file.
        try await store.withSQLiteSnapshot { sqlite in
            try await Exporter(store: sqlite).export(format: format, siteID: siteID, write: write)
        }
    }
}
