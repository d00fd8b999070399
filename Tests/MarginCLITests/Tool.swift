import Foundation
import TestSupport
import Testing

/// Other programs the tests use: `sqlite3` to look at the file the server wrote, `prlimit`
/// and `chattr` to make the disk refuse writes, `systemd-analyze`, `curl` and `openssl` for the
/// deployment examples.
enum Tool {
    /// Tests that need root run under CI whatever they find, so that a CI machine that cannot run
    /// them fails instead of skipping them.
    static var underCI: Bool { TestEnvironment.underCI }

    /// Runs `/usr/bin/NAME arguments…` to completion.
    static func run(_ name: String, _ arguments: [String]) async throws -> Program.Result {
        try await Program.run("/usr/bin/\(name)", arguments, timeout: .seconds(30))
    }

    /// The rows `sql` selects from the database file, read by the `sqlite3` program.
    static func rows(_ database: String, _ sql: String) async throws -> [[String: Any]] {
        let result = try await run("sqlite3", ["-json", database, sql])
        try #require(result.status == 0, "sqlite3 failed: \(result.stderr)")
        let text = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return [] }
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    /// `PRAGMA integrity_check` of the file, as `sqlite3` prints it ("ok" when sound).
    static func integrity(_ database: String) async throws -> String {
        try await run("sqlite3", [database, "PRAGMA integrity_check"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
