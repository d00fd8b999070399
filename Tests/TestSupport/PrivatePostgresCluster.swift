import Foundation

/// A PostgreSQL cluster of one test's own, in a temporary folder, for the tests that stop and
/// restart PostgreSQL: the shared `PostgresTestCluster` must not go down under other tests.
public struct PrivatePostgresCluster: Sendable {
    /// The cluster's folder.
    public let folder: String
    /// Its `margin` database, without TLS.
    public let url: String

    /// Starts a cluster with `scripts/pg-cluster`; throws with its error output when it cannot.
    public init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("margin-pg-\(UUID().uuidString)").path
        let started = try await Program.run(PostgresTestCluster.script(), ["start", folder], timeout: .seconds(30))
        guard started.status == 0 else { throw PostgresClusterError(description: "pg-cluster start failed: \(started.stderr)") }
        url = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "?sslmode=disable"
    }

    /// `scripts/pg-cluster COMMAND` (`stop`, `restart`) on this cluster.
    public func run(_ command: String) async throws -> Program.Result {
        try await Program.run(PostgresTestCluster.script(), [command, folder], timeout: .seconds(30))
    }

    /// Stops the cluster and removes its folder.
    public func remove() {
        _ = system("'\(PostgresTestCluster.script())' stop '\(folder)' >/dev/null 2>&1; rm -rf '\(folder)'")
    }
}
