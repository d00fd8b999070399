import ArgumentParser
import Comments
import Foundation

/// `margin admin …`: access to the admin API.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage admin API access, console admins and their sessions.", subcommands: [Token.self, Users.self, LoginLink.self, Sessions.self])

    /// `margin admin token …`
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create, list and revoke bearer tokens for /api/v1/admin (stored hashed).",
            subcommands: [Create.self, List.self, Revoke.self])

        /// `margin admin token create NAME`
        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a token; it is printed once and never again.")
            @Argument(help: "A name to recognise it by, e.g. backup-job.")
            var name: String
            @OptionGroup var database: DatabaseOptions

            func run() async throws {
                let (token, secret) = try await database.openAnyStore().createAdminToken(name: name, random: SystemRandom(), at: SystemClock().nowMillis())
                printError("Created admin token '\(token.id)' (\(name)). Keep it secret; it cannot be shown again.")
                print(secret)
            }
        }

        /// `margin admin token list`
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
            @Flag(help: "Print JSON.")
            var json = false
            @OptionGroup var database: DatabaseOptions

            func run() async throws {
                let tokens = try await database.openAnyStore().adminTokens()
                if json {
                    printJSON(tokens)
                } else if tokens.isEmpty {
                    print("No admin tokens.")
                } else {
                    printTable(["ID", "NAME", "CREATED", "LAST USED", "STATE"], tokens.map {
                        [$0.id, $0.name, formatTime($0.createdAt), $0.lastUsedAt.map(formatTime) ?? "never",
                         $0.revokedAt.map { "revoked \(formatTime($0))" } ?? "active"]
                    })
                }
            }
        }

        /// `margin admin token revoke ID`
        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a token at once.")
            @Argument(help: "The token id (from list).")
            var id: String
            @OptionGroup var database: DatabaseOptions

            func run() async throws {
                guard try await database.openAnyStore().revokeAdminToken(id: id, at: SystemClock().nowMillis()) else {
                    printError("error: no active admin token '\(id)'.")
                    throw ExitCode.failure
                }
                print("Revoked admin token '\(id)'.")
            }
        }
    }
}
