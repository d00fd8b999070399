import ArgumentParser
import Comments
import Foundation

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
            let store = try await database.openAnyStore()
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
            let count = try await reporting { try await database.openAnyStore().forget(email: email, at: SystemClock().nowMillis()) }
            print("Forgot \(count) comment(s) of \(email).")
        }
    }
}
