import ArgumentParser
import Comments
import Foundation

extension Admin {
    /// `margin admin sessions …`: who is signed in to the console.
    struct Sessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List and revoke console sessions.", subcommands: [List.self, Revoke.self])

        /// `margin admin sessions list [--email EMAIL]`
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List live sessions, newest first (never their secrets).")
            @Option(help: "Only this address's sessions.")
            var email: String?
            @Flag(help: "Print JSON.")
            var json = false
            @OptionGroup var database: DatabaseOptions

            func run() async throws {
                let sessions = try await database.openAnyStore().consoleSessions(email: email, at: SystemClock().nowMillis(), policy: .standard)
                if json {
                    printJSON(sessions)
                } else if sessions.isEmpty {
                    print("No live console sessions.")
                } else {
                    printTable(["ID", "EMAIL", "SIGNED IN", "LAST SEEN", "BROWSER"], sessions.map {
                        [$0.id, $0.email, formatTime($0.createdAt), formatTime($0.lastSeenAt), String(($0.userAgent ?? "").prefix(40))]
                    })
                }
            }
        }

        /// `margin admin sessions revoke ID` or `--email EMAIL`
        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "End one session, or every session of an address.")
            @Argument(help: "The session id (from list).")
            var id: String?
            @Option(help: "End every session of this address instead.")
            var email: String?
            @OptionGroup var database: DatabaseOptions

            func validate() throws {
                guard (id == nil) != (email == nil) else { throw ValidationError("Give a session id or --email, not both.") }
            }

            func run() async throws {
                let store = try await database.openAnyStore()
                let now = SystemClock().nowMillis()
                if let email {
                    let count = try await store.revokeConsoleSessions(email: email, at: now)
                    print("Ended \(count) session(s) of \(email.lowercased()).")
                } else if let id {
                    guard try await store.revokeConsoleSession(id: id, at: now) else {
                        printError("error: no live session '\(id)'.")
                        throw ExitCode.failure
                    }
                    print("Ended session '\(id)'.")
                }
            }
        }
    }
}
