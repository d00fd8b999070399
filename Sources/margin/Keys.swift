import ArgumentParser
import Comments
import Foundation
import Moderation

/// `margin keys …`: moderation-link signing keys.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rotate, list and revoke the keys that sign moderation links.", subcommands: [Rotate.self, List.self, Revoke.self])

    /// `margin keys rotate`
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new signing key; older keys keep verifying the links they signed until those expire (mail.link_days after the rotation).")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            let key = LinkSigner.makeKey(random: SystemRandom(), at: SystemClock().nowMillis())
            try await store.addSigningKey(key)
            print("New signing key '\(key.id)' signs new links from now on.")
        }
    }

    /// `margin keys list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List signing keys (never their secrets).")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let keys = try await database.openAnyStore().signingKeys()
            if keys.isEmpty {
                print("No keys yet: the server makes one on first start.")
                return
            }
            printTable(["ID", "CREATED", "RETIRED"], keys.map { [$0.id, formatTime($0.createdAt), $0.retiredAt.map(formatTime) ?? "current"] })
        }
    }

    /// `margin keys revoke KID`
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a (leaked) signing key at once: every link it signed answers 403 from now on. Revoking the current key rotates first.")
        @Argument(help: "The key id (margin keys list).")
        var id: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            try await reporting {
                guard let key = try await store.signingKeys().first(where: { $0.id == id }) else {
                    printError("error: No signing key '\(id)' (margin keys list shows them).")
                    throw ExitCode.failure
                }
                if key.retiredAt == nil {
                    // New links need a key: the replacement signs from now on.
                    let replacement = LinkSigner.makeKey(random: SystemRandom(), at: SystemClock().nowMillis())
                    try await store.addSigningKey(replacement)
                    print("New signing key '\(replacement.id)' signs new links from now on.")
                }
                // The row goes: a link naming it is then signed by an unknown key (403) on every node.
                _ = try await store.removeSigningKey(id: id)
                print("Signing key '\(id)' is revoked: the links it signed are refused from now on.")
            }
        }
    }
}
