import ArgumentParser
import Comments
import Foundation

/// `margin threads …`: thread maintenance.
struct Threads: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Move or merge threads.", subcommands: [Remap.self])

    /// `margin threads remap --map FILE`
    struct Remap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply remap rules ('OLD NEW', 'OLD* NEW*', '~REGEX REPLACEMENT') to stored threads, merging threads that meet.")
        @Option(name: .customLong("map"), help: "File of remap rules, one per line.")
        var map: String
        @Option(help: "Only this site.")
        var site: String?
        @Flag(name: .customLong("dry-run"), help: "Report without changing anything.")
        var dryRun = false
        @Flag(help: "Print the summary as JSON.")
        var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let rules: RemapRules
            do {
                rules = try RemapRules(parsing: String(contentsOfFile: map, encoding: .utf8))
            } catch {
                printError("error: \(map): \(error)")
                throw ExitCode.failure
            }
            let summary = try await reporting {
                try await database.openAnyStore().remapThreads(rules: rules, siteID: site, dryRun: dryRun)
            }
            if json {
                printJSON(summary)
            } else {
                print("\(dryRun ? "Would move" : "Moved") \(summary.threadsMoved) thread(s), merged \(summary.threadsMerged), dropped \(summary.duplicatesDropped) duplicate comment(s).")
            }
        }
    }
}
