import Foundation
import TestSupport
import MarginServer
import Testing

/// The settings catalogue and README agree: every setting has a row in the table of the
/// Configuration section naming its key, flag, variable and default as the catalogue declares them.
@Suite struct SettingsDocumentationTests {
    /// The README's table rows, each split into its cells (without the outer empty ones).
    static func readmeRows() throws -> [[String]] {
        let readme = try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        return readme.split(separator: "\n").filter { $0.hasPrefix("| `") }.map { row in
            row.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    @Test func everySettingIsInTheReadme() throws {
        let rows = try Self.readmeRows()
        for key in ServerSettings.keys {
            let row = rows.first { $0.count >= 5 && $0[0] == "`\(key.name)`" && $0[2] == "`\(key.environment)`" }
            #expect(row != nil, "README has no table row naming `\(key.name)` and `\(key.environment)`")
            guard let row else { continue }
            #expect(row[1] == key.flag.map { "`\($0)`" } ?? "", "README row for \(key.name) names the flag \(row[1]), not \(key.flag ?? "none")")
            let defaults = key.defaultText.isEmpty ? ["none"] : ["`\(key.defaultText)`", key.defaultText]
            #expect(defaults.contains(row[3]), "README row for \(key.name) gives the default \(row[3]), not \(key.defaultText)")
        }
    }
}
