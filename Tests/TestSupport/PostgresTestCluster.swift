import Foundation
import Synchronization

/// The private PostgreSQL cluster the tests use. `scripts/test` starts one and passes its URL in
/// `MARGIN_TEST_POSTGRES_URL`; without it (a bare `swift test`) the first test that needs it
/// starts one with `scripts/pg-cluster` in a temporary folder, stopped when the process exits.
/// Each test gets a database of its own.
public enum PostgresTestCluster {
    /// How long a test waits for the cluster to answer: beside 300 other tests on two cores a
    /// first answer can take many seconds (the store's own default is 10 s).
    public static let patience: Duration = .seconds(60)

    /// The cluster this process started, once, however many tests ask at the same moment.
    private static let started = Task<String, any Error> { try await startCluster() }
    /// Its folder, for the stop at exit.
    private static let folder = Mutex<String?>(nil)

    /// The cluster's URL (its `margin` database).
    public static func url() async throws -> String {
        if let given = ProcessInfo.processInfo.environment["MARGIN_TEST_POSTGRES_URL"], !given.isEmpty { return given }
        return try await started.value
    }

    /// A fresh, empty database on the cluster, and its URL.
    public static func freshDatabase() async throws -> String {
        let cluster = try await url()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        _ = try await tool("psql", cluster, ["-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)", "-d"])
        let base = cluster[..<(cluster.range(of: "/", options: .backwards)?.lowerBound ?? cluster.endIndex)]
        return "\(base)/\(name)?sslmode=disable"
    }

    /// Runs `/usr/bin/NAME` (psql, pg_dump) with `arguments` and then `url`, which libpq takes
    /// as the database; its standard output, trimmed. Throws when it fails.
    public static func tool(_ name: String, _ url: String, _ arguments: [String]) async throws -> String {
        try await launch("/usr/bin/\(name)", arguments + [url])
    }

    /// `scripts/pg-cluster`.
    public static func script() -> String {
        TestEnvironment.repositoryRoot.appendingPathComponent("scripts/pg-cluster").path
    }

    private static func startCluster() async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("margin-pg-\(UUID().uuidString)").path
        folder.withLock { $0 = directory }
        atexit {
            guard let folder = PostgresTestCluster.folder.withLock({ $0 }) else { return }
            // system(3): Foundation's Process cannot be relied on while the process exits.
            _ = system("'\(PostgresTestCluster.script())' stop '\(folder)' >/dev/null 2>&1; rm -rf '\(folder)'")
        }
        let url = try await launch(script(), ["start", directory])
        guard url.hasPrefix("postgres://") else { throw PostgresClusterError(description: "pg-cluster printed no URL: \(url)") }
        return url
    }

    /// Runs `executable` to its end; its standard output, trimmed. Throws when it fails.
    private static func launch(_ executable: String, _ arguments: [String]) async throws -> String {
        let result = try await Program.run(executable, arguments, timeout: nil)
        guard result.status == 0 else {
            throw PostgresClusterError(description: "\(executable) \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The test cluster could not be started or used.
public struct PostgresClusterError: Error, CustomStringConvertible {
    public var description: String
}
