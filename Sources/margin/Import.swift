import ArgumentParser
import Comments
import Foundation
import MarginServer

/// `margin import FORMAT FILE`: bring comments over from another system.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a Disqus XML export, a WordPress WXR export, an Isso database or a Margin export (one transaction; re-running adds nothing).")

    @Argument(help: ArgumentHelp("\(ImportFormat.listed) (for isso, its SQLite file)."))
    var format: ImportFormat
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
        let showProgress = format != .margin && isatty(STDERR_FILENO) == 1 && !json
        let request = ImportRequest(format: format, file: url, siteID: site, rules: rules, dryRun: dryRun, skipInvalid: skipInvalid,
                                    editWindowMillis: editWindowSeconds * 1000, progress: showProgress ? reportProgress : nil)
        let summary: ImportSummary
        do {
            summary = try await reporting { try await Transfer(store: store).importFile(request) }
        } catch let error as ImportError {
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
            // A Margin export's errors name a line; the other formats' a line and column, when they have one.
            let position = format == .margin ? "\(error.line): " : error.line > 0 ? "\(error.line):\(error.column): " : " "
            printError("error: \(file):\(position)\(error.message). Nothing was imported.")
            throw ExitCode.failure
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        if json { printJSON(summary) } else { printSummary(summary) }
    }

    /// The `edit_window` setting as `margin serve` would resolve it (environment, configuration
    /// file, default): imported edit key hashes are kept only for comments older than this.
    var editWindowSeconds: Int64 {
        Int64(ServerSettings.editWindow.resolved(environment: ProcessInfo.processInfo.environment, file: (try? database.configFile()) ?? nil))
    }
}

extension ImportFormat: ExpressibleByArgument {}

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
