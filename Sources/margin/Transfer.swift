import ArgumentParser
import Comments
import Foundation

/// `margin export`: everything out, streaming.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export comments: margin (lossless JSON Lines), disqus (Disqus XML) or csv.")
    @Option(help: "margin, disqus or csv (default margin).")
    var format: ExportFormat = .margin
    @Option(help: "Only this site.")
    var site: String?
    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        // Opened first: a database that cannot be opened leaves no empty output file behind.
        let store = try await database.openAnyStore()
        let handle: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil, attributes: [.posixPermissions: 0o600]), let file = FileHandle(forWritingAtPath: output) else {
                printError("error: cannot write \(output)")
                throw ExitCode.failure
            }
            handle = file
        } else {
            handle = FileHandle.standardOutput
        }
        let (format, site) = (self.format, self.site)
        let export: @Sendable (SQLiteStore) async throws -> Void = { store in
            try await Exporter(store: store).export(format: format, siteID: site) { bytes in
                try handle.write(contentsOf: Data(bytes))
            }
        }
        // PostgreSQL is read through one consistent snapshot copied into SQLite: the very bytes
        // the same data gives from a SQLite file.
        try await reporting { try await StoreMigration.reading(store, export) }
        if output != nil { try handle.close() }
    }
}

extension ExportFormat: ExpressibleByArgument {}

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
                try await database.openAnyStore(as: (any MaintenanceStore).self).remapThreads(rules: rules, siteID: site, dryRun: dryRun)
            }
            if json {
                printJSON(summary)
            } else {
                print("\(dryRun ? "Would move" : "Moved") \(summary.threadsMoved) thread(s), merged \(summary.threadsMerged), dropped \(summary.duplicatesDropped) duplicate comment(s).")
            }
        }
    }
}

/// `margin gdpr …`: privacy requests.
struct GDPR: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gdpr", abstract: "Answer privacy requests for an email address.",
                                                    subcommands: [ExportData.self, Forget.self])

    /// `margin gdpr export EMAIL`
    struct ExportData: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "Print every comment stored for an email address, as JSON.")
        @Argument(help: "The email address.")
        var email: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore(as: (any MaintenanceStore).self)
            let comments = try await store.comments(byEmail: email)
            try await store.logPrivacyExport(email: email, at: SystemClock().nowMillis())
            printJSON(comments.map { CommentView(thread: $0.0, comment: $0.1) })
        }
    }

    /// `margin gdpr forget EMAIL`
    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete every comment of an email address (tombstones where replies exist; name, email, website and address cleared).")
        @Argument(help: "The email address.")
        var email: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let count = try await reporting { try await database.openAnyStore(as: (any MaintenanceStore).self).forget(email: email, at: SystemClock().nowMillis()) }
            print("Forgot \(count) comment(s) of \(email).")
        }
    }
}

/// `margin backup FILE`
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a consistent copy of the database, safe while the server runs.")
    @Argument(help: "The new backup file (must not exist).")
    var file: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let store = try await database.openAnyStore(as: (any MaintenanceStore).self)
        try await reporting { try await store.backup(to: file) }
        print("Backed up \(database.location) to \(file).")
    }
}
