import ArgumentParser
import Comments
import Foundation

/// `margin import FORMAT FILE`: bring comments over from another system.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a Disqus XML export, a WordPress WXR export, an Isso database or a Margin export (one transaction; re-running adds nothing).")

    /// The formats this command reads.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case disqus, wordpress, isso, margin
    }

    @Argument(help: "disqus, wordpress, isso (its SQLite file) or margin.")
    var format: Format
    @Argument(help: "The export file.")
    var file: String
    @Option(help: "Site to import into (default: default).")
    var site: String = "default"
    @Option(name: .customLong("map"), help: "File of remap rules: 'OLD NEW', 'OLD* NEW*' or '~REGEX REPLACEMENT', one per line.")
    var map: String?
    @Flag(name: .customLong("dry-run"), help: "Report what would be imported without writing anything.")
    var dryRun = false
    @Flag(name: .customLong("skip-invalid"), help: "Skip and count invalid records instead of refusing the file.")
    var skipInvalid = false
    @Flag(help: "Print the summary as JSON.")
    var json = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let url = URL(fileURLWithPath: file)
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            printError("error: cannot read \(file)")
            throw ExitCode.failure
        }
        let rules: RemapRules
        do {
            rules = try map.map { try RemapRules(parsing: String(contentsOfFile: $0, encoding: .utf8)) } ?? RemapRules()
        } catch {
            printError("error: \(map ?? ""): \(error)")
            throw ExitCode.failure
        }
        let store = try await database.openAnyStore()
        // On PostgreSQL the import runs on a SQLite copy: moved in whole into a database
        // without comments (a new installation, a restore), merged into one that holds some.
        let summary = try await reporting {
            try await StoreMigration.importing(into: store, keep: { !$0.dryRun }) { sqlite in
                try await importInto(sqlite, file: url, rules: rules)
            }
        }
        if json { printJSON(summary) } else { printSummary(summary) }
    }

    /// The `edit_window` setting as `margin serve` would resolve it (environment, configuration
    /// file, default): imported edit key hashes are kept only for comments older than this.
    var editWindowSeconds: Int64 {
        if let text = ProcessInfo.processInfo.environment["MARGIN_EDIT_WINDOW"], let seconds = Int64(text), seconds >= 0 { return seconds }
        if let text = (try? database.configFile())??.values["edit_window"]?.text, let seconds = Int64(text) { return seconds }
        return 900
    }

    /// Imports `url` into `store`; its summary.
    func importInto(_ store: SQLiteStore, file url: URL, rules: RemapRules) async throws -> ImportSummary {
        if format == .margin {
            do {
                return try await MarginImporter(store: store, editWindowMillis: editWindowSeconds * 1000).run(url: url, dryRun: dryRun)
            } catch let error as ImportError {
                printError("error: \(file):\(error.line): \(error.message). Nothing was imported.")
                throw ExitCode.failure
            }
        }
        // Importing before the server ever ran: give the file the same default site it would have.
        _ = try await store.addSiteIfNoneExist(Site.embeddedDefault(createdAt: SystemClock().nowMillis()))
        guard let source = ImportSource(rawValue: format.rawValue) else { throw ExitCode.failure }
        let options = Importer.Options(siteID: site, source: source, rules: rules, dryRun: dryRun, skipInvalid: skipInvalid)
        let showProgress = isatty(STDERR_FILENO) == 1 && !json
        let summary: ImportSummary
        do {
            summary = try await Importer(store: store).run(options, file: url, progress: showProgress ? reportProgress : nil)
        } catch let error as ImportError {
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
            let position = error.line > 0 ? "\(error.line):\(error.column): " : " "
            printError("error: \(file):\(position)\(error.message). Nothing was imported.")
            throw ExitCode.failure
        } catch let error as CommentsError {
            printError("error: \(error)")
            throw ExitCode.failure
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        return summary
    }
}

/// The human form of an import summary.
func printSummary(_ summary: ImportSummary) {
    print(summary.dryRun ? "Dry run: nothing was written." : "Imported in \(String(format: "%.1f", summary.seconds)) s.")
    print("  threads:            \(summary.threads)")
    print("  comments:           \(summary.comments) (\(summary.replies) replies, \(summary.tombstones) tombstones, \(summary.spam) spam, \(summary.pending) pending)")
    print("  duplicates dropped: \(summary.duplicatesDropped)")
    if summary.skipped.isEmpty {
        print("  skipped:            0")
    } else {
        print("  skipped:")
        for (reason, count) in summary.skipped.sorted(by: { $0.key < $1.key }) { print("    \(count)  \(reason)") }
    }
}

/// Rewrites one progress line on a terminal's standard error.
@Sendable func reportProgress(_ count: Int) {
    FileHandle.standardError.write(Data("\r\u{1B}[2Kimporting… \(count) posts read".utf8))
}
