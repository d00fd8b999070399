import Foundation

/// Reads Margin's own JSON Lines export back, in one transaction. Ids are kept when they are
/// free, so an export imported into an empty database exports again byte for byte; comments
/// already present (same id, time and text, or same origin) are skipped, so re-running adds nothing.
///
/// A file is not trusted: each comment's `html` goes through `MarginImportChecks.html` (kept byte
/// for byte only when it is what Margin's own renderer or sanitiser makes, else sanitised),
/// `website` through the posting rules, a `created_at` or `edited_at` in the future is refused,
/// and an `edit_key_hash` is kept only for a comment whose edit window has already closed.
public struct MarginImporter: Sendable {
    public let store: SQLiteStore
    /// The importing server's edit window: an `edit_key_hash` is kept only for comments older than this.
    public let editWindowMillis: Int64
    /// The time imported dates are checked against.
    public let clock: any MarginClock

    /// An importer into `store`; `editWindowMillis` is the `edit_window` setting in milliseconds.
    public init(store: SQLiteStore, editWindowMillis: Int64 = Limits.editWindowMillis, clock: any MarginClock = SystemClock()) {
        self.store = store
        self.editWindowMillis = editWindowMillis
        self.clock = clock
    }

    /// Imports the file at `url`; `dryRun` reports without writing.
    public func run(url: URL, dryRun: Bool) async throws -> ImportSummary {
        let started = Date()
        let (clock, editWindowMillis) = (self.clock, self.editWindowMillis)
        var summary = try await SQLiteMarginImportWriter.transaction(on: store, dryRun: dryRun) { writer -> ImportSummary in
            var session = MarginImportSession(writer: writer, now: clock.nowMillis(), editWindowMillis: editWindowMillis)
            try JSONLines.read(url: url) { line, number in try session.handle(line, number: number) }
            guard session.sawHeader else { throw ImportError(message: "the file is empty", line: 1, column: 1) }
            try session.finish()
            return session.summary
        }
        summary.seconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
        summary.dryRun = dryRun
        return summary
    }
}
