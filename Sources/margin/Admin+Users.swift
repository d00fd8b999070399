import ArgumentParser
import Comments
import Foundation

extension Admin {
    /// `margin admin users …`: who is an admin of the console (sees every site and its settings).
    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add, remove and list console admins (moderators are each site's --moderator addresses).",
            subcommands: [Add.self, Remove.self, List.self])

        /// `margin admin users add EMAIL`
        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Make an address an admin; it signs in at /admin/ with a mailed link.")
            @Argument(help: "The admin's email address.")
            var email: String
            @OptionGroup var database: DatabaseOptions

            func validate() throws {
                guard (try? FieldRules.email(email, required: true)) != nil else { throw ValidationError("'\(email)' is not an email address.") }
            }

            func run() async throws {
                let added = try await database.openAnyStore().addAdminUser(email: email, at: SystemClock().nowMillis())
                print(added ? "Added admin \(email.lowercased())." : "\(email.lowercased()) is an admin already.")
            }
        }

        /// `margin admin users remove EMAIL`
        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove an admin and end their sessions at once.")
            @Argument(help: "The admin's email address.")
            var email: String
            @OptionGroup var database: DatabaseOptions

            func run() async throws {
                guard try await database.openAnyStore().removeAdminUser(email: email, at: SystemClock().nowMillis()) else {
                    printError("error: \(email) is not an admin.")
                    throw ExitCode.failure
                }
                print("Removed admin \(email.lowercased()); their sessions are ended.")
            }
        }

        /// `margin admin users list`
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List admins.")
            @Flag(help: "Print JSON.")
            var json = false
            @OptionGroup var database: DatabaseOptions

            func run() async throws {
                let users = try await database.openAnyStore().adminUsers()
                if json {
                    printJSON(users)
                } else if users.isEmpty {
                    print("No admins. Add one with: margin admin users add EMAIL")
                } else {
                    printTable(["EMAIL", "ADDED"], users.map { [$0.email, formatTime($0.createdAt)] })
                }
            }
        }
    }
}
