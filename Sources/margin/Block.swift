import ArgumentParser
import Comments
import Foundation
import Moderation

/// `margin block …`: the blocklist.
struct Block: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Block addresses, emails, domains, words or author names.",
        subcommands: [Add.self, Remove.self, List.self])

    /// `margin block add KIND VALUE [--site ID]`
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an entry: ip (address or CIDR; refused outright), email, domain (also subdomains), word (whole word), author.")
        @Argument(help: "ip, email, domain, word or author.")
        var kind: BlockKind
        @Argument(help: "What to block.")
        var value: String
        @Option(help: "The site it applies to (default: every site).")
        var site: String?
        @Option(help: "Why, for the list.")
        var reason: String?
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            do { _ = try BlockValue.normalize(kind: kind, value: value) } catch { throw ValidationError(error.message) }
        }

        func run() async throws {
            let store = try await database.openAnyStore()
            let normalized: String
            do { normalized = try BlockValue.normalize(kind: kind, value: value) } catch { throw ValidationError(error.message) }
            if let site, try await store.site(id: site) == nil { throw CommentsError.siteNotFound(site) }
            try await store.addBlock(BlockEntry(kind: kind, value: normalized, reason: reason, createdAt: SystemClock().nowMillis(), siteID: site))
            print("Blocked \(kind.rawValue) '\(normalized)' \(Block.scope(site)).")
        }
    }

    /// `margin block remove KIND VALUE [--site ID]`
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an entry.")
        @Argument(help: "ip, email, domain, word or author.")
        var kind: BlockKind
        @Argument(help: "The blocked value.")
        var value: String
        @Option(help: "The site of the entry (default: the entry for every site).")
        var site: String?
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            let normalized = (try? BlockValue.normalize(kind: kind, value: value)) ?? value
            if let site, try await store.site(id: site) == nil { throw CommentsError.siteNotFound(site) }
            guard try await store.removeBlock(kind: kind, value: normalized, siteID: site) else {
                printError("error: \(kind.rawValue) '\(value)' is not blocked \(Block.scope(site)).")
                throw ExitCode.failure
            }
            print("Unblocked \(kind.rawValue) '\(normalized)' \(Block.scope(site)).")
        }
    }

    /// `margin block list [--site ID]`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the blocklist.")
        @Option(help: "Only the entries that apply to this site: its own and those for every site.")
        var site: String?
        @Flag(help: "Print JSON.")
        var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            if let site, try await store.site(id: site) == nil { throw CommentsError.siteNotFound(site) }
            let entries = try await store.blocklist().filter { entry in site.map(entry.applies(to:)) ?? true }
            if json {
                printJSON(entries)
            } else if entries.isEmpty {
                print("The blocklist is empty.")
            } else {
                printTable(["KIND", "VALUE", "SITE", "ADDED", "REASON"], entries.map {
                    [$0.kind.rawValue, $0.value, $0.siteID ?? "all", formatTime($0.createdAt), $0.reason ?? ""]
                })
            }
        }
    }
}

extension Block {
    /// Where an entry applies, for messages.
    static func scope(_ site: String?) -> String {
        site.map { "on site '\($0)'" } ?? "on every site"
    }
}

extension BlockKind: ExpressibleByArgument {}
