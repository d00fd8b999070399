import ArgumentParser
import Comments
import Foundation

/// `margin export`: everything out, streaming.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export comments: margin (lossless JSON Lines), disqus (Disqus XML) or csv.")
    @Option(help: ArgumentHelp("\(ExportFormat.listed) (default margin)."))
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
        try await reporting {
            try await Transfer(store: store).export(format: format, siteID: site) { bytes in try handle.write(contentsOf: Data(bytes)) }
        }
        if output != nil { try handle.close() }
    }
}

extension ExportFormat: ExpressibleByArgument {}
