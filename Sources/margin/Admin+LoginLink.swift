import ArgumentParser
import Comments
import Foundation
import MarginServer
import Moderation

extension Admin {
    /// `margin admin login-link EMAIL`: a sign-in link printed instead of mailed.
    struct LoginLink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "login-link",
            abstract: "Print a single-use console sign-in link (15 minutes) for an admin or moderator: a first sign-in, or a server without mail.")
        @Argument(help: "The admin's or moderator's email address.")
        var email: String
        @Option(name: .customLong("public-url"), help: ArgumentHelp("Public base URL of the server (env \(ServerSettings.publicURL.key.environment); default http://127.0.0.1:8080)."))
        var publicURL: String?
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            let file = try? database.configFile()
            let moderators = ServerSettings.moderators.resolved(environment: ProcessInfo.processInfo.environment, file: file ?? nil)
            guard try await ConsoleRole.of(email: email, store: store, defaultModerators: moderators) != nil else {
                printError("error: \(email) is neither an admin (margin admin users add) nor a site's moderator (margin sites update SITE --moderator).")
                throw ExitCode.failure
            }
            guard let link = SignInLink.make(email: email, publicURL: MailOptions.publicURL(publicURL, file: file ?? nil),
                                             signer: try await MailOptions.signer(store: store), now: SystemClock().nowMillis(), random: SystemRandom())
            else { throw ExitCode.failure }
            printError("Open this link within 15 minutes; it works once.")
            print(link)
        }
    }
}
