import ArgumentParser
import Comments
import Foundation

/// `margin migrate --from … --to …`: moves a whole installation between stores.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move a whole installation between stores: SQLite to PostgreSQL, or back.",
        discussion: """
            Copies every site, thread, comment, vote, log entry, blocklist entry, signing key, secret, \
            spam-filter count, outbox message and admin token, with their ids, from one consistent \
            snapshot of --from into --to, then counts every table on both sides and fails unless \
            they agree. --to must hold no thread and no comment: a new SQLite file (built beside \
            the path and renamed into place when complete) or an empty PostgreSQL database (written \
            in one transaction). Stop the servers writing to --from first, or comments posted during \
            the move stay behind; point them at --to afterwards.
            """)

    @Option(help: "The store to move from: a SQLite file or a postgres:// URL.")
    var from: String

    @Option(help: "The store to move to: a SQLite file or a postgres:// URL.")
    var to: String

    @Flag(help: "Print the per-table counts as JSON.")
    var json = false

    func run() async throws {
        let summary: StoreCopy.Summary
        do {
            summary = try await StoreCopy(from: from, to: to).run()
        } catch let error as CommentsError {
            printError("error: \(error)")
            throw ExitCode.failure
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            return
        }
        printTable(["TABLE", "FROM", "TO"], summary.tables.map { [$0.table, String($0.source), String($0.target)] })
        print("Moved \(summary.rows) rows from \(summary.from) to \(summary.to); every table's count matches.")
    }
}
