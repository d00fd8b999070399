import ArgumentParser
import Comments
import Foundation

/// `margin backup FILE`
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a consistent copy of the database, safe while the server runs.")
    @Argument(help: "The new backup file (must not exist).")
    var file: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let store = try await database.openAnyStore()
        try await reporting { try await store.backup(to: file) }
        print("Backed up \(database.location) to \(file).")
    }
}
