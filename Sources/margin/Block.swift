import ArgumentParser
import Comments
import Foundation
import Moderation

/// `margin block …`: the blocklist.
struct Block: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Block addresses, emails, domains, words or author names.",
        subcommands: [Add.self, Remove.self, List.self])

    /// `margin block add KIND VALUE`
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an entry: ip (address or CIDR; refused outright), email, domain (also subdomains), word (whole word), author.")
        @Argument(help: "ip, email, domain, word or author.")
        var kind: BlockKind
        @Argument(help: "What to block.")
        var value: String
        @Option(help: "Why, for the list.")
        var reason: String?
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            _ = try BlockValue.normalize(kind: kind, value: value)
        }

        func run() async throws {
            let store = try await database.openAnyStore()
            let normalized = try BlockValue.normalize(kind: kind, value: value)
            try await store.addBlock(BlockEntry(kind: kind, value: normalized, reason: reason, createdAt: SystemClock().nowMillis()))
            print("Blocked \(kind.rawValue) '\(normalized)'.")
        }
    }

    /// `margin block remove KIND VALUE`
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an entry.")
        @Argument(help: "ip, email, domain, word or author.")
        var kind: BlockKind
        @Argument(help: "The blocked value.")
        var value: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            let normalized = (try? BlockValue.normalize(kind: kind, value: value)) ?? value
            guard try await store.removeBlock(kind: kind, value: normalized) else {
                printError("error: \(kind.rawValue) '\(value)' is not blocked.")
                throw ExitCode.failure
            }
            print("Unblocked \(kind.rawValue) '\(normalized)'.")
        }
    }

    /// `margin block list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the blocklist.")
        @Flag(help: "Print JSON.")
        var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let entries = try await database.openAnyStore().blocklist()
            if json {
                printJSON(entries)
            } else if entries.isEmpty {
                print("The blocklist is empty.")
            } else {
                printTable(["KIND", "VALUE", "ADDED", "REASON"], entries.map {
                    [$0.kind.rawValue, $0.value, formatTime($0.createdAt), $0.reason ?? ""]
                })
            }
        }
    }
}

extension BlockKind: ExpressibleByArgument {}

/// Checks and normalises blocklist values as typed.
enum BlockValue {
    static func normalize(kind: BlockKind, value: String) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw ValidationError("The value must not be empty.") }
        switch kind {
        case .ip:
            let address = String(trimmed.split(separator: "/").first ?? "")
            guard IPAnonymizer.anonymize(address) != nil else { throw ValidationError("'\(value)' is not an IP address or CIDR range.") }
            // As `margin moderate show` prints a network (`203.0.113.0/24`, `2001:db8:1::/48`); a
            // prefix longer than the address (`10.0.0.0/40`) would never match anything.
            guard IPNetwork(trimmed) != nil else { throw ValidationError("'\(value)' has an invalid prefix length.") }
            return trimmed.lowercased()
        case .email:
            guard (try? FieldRules.email(trimmed, required: true)) != nil else { throw ValidationError("'\(value)' is not an email address.") }
            return trimmed.lowercased()
        case .domain:
            let domain = trimmed.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
            guard domain.contains("."), !domain.contains(where: { $0 == "/" || $0 == "@" || $0 == " " }) else {
                throw ValidationError("'\(value)' is not a domain such as spam.example.")
            }
            return domain
        case .word, .author:
            return trimmed.lowercased()
        }
    }
}
