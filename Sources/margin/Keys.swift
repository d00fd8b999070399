import ArgumentParser
import Comments
import Foundation
import Moderation

/// `margin keys …`: moderation-link signing keys.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rotate and list the keys that sign moderation links.", subcommands: [Rotate.self, List.self])

    /// `margin keys rotate`
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new signing key; older keys keep verifying the links they signed until those expire.")
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
}
