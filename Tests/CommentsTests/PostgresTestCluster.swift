import Foundation
import Synchronization
@testable import Comments

/// The private PostgreSQL cluster the tests use. `scripts/test` starts one and passes its URL in
/// `MARGIN_TEST_POSTGRES_URL`; without it (a bare `swift test`) the first test that needs it
/// starts one with `scripts/pg-cluster` in a temporary folder, stopped when the process exits.
/// Each test gets a database of its own.
enum PostgresTestCluster {
    /// How long a test waits for the cluster to answer: beside 300 other tests on two cores a
    /// first answer can take many seconds (the store's own default is 10 s).
    static let patience: Duration = .seconds(60)

    private static let started = Mutex<String?>(nil)
    private static let folder = Mutex<String?>(nil)

    /// The cluster's URL (its `margin` database).
    static func url() throws -> String {
        if let given = ProcessInfo.processInfo.environment["MARGIN_TEST_POSTGRES_URL"], !given.isEmpty { return given }
        return try started.withLock { started in
            if let started { return started }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("margin-pg-\(UUID().uuidString)").path
            let url = try run(["start", directory])
            folder.withLock { $0 = directory }
            atexit { PostgresTestCluster.stop() }
            started = url
            return url
        }
    }

    /// A fresh, empty database on the cluster, and its URL.
    static func freshDatabase() async throws -> String {
        let admin = try PostgresLocation(url: try url())
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let result = try run(psql: ["-h", admin.host, "-p", String(admin.port), "-U", admin.user, "-d", admin.database,
                                    "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(name)"])
        _ = result
        return "postgres://\(admin.user)@\(admin.host):\(admin.port)/\(name)?sslmode=disable"
    }

    private static func stop() {
        guard let directory = folder.withLock({ $0 }) else { return }
        _ = try? run(["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs scripts/pg-cluster; its standard output, trimmed.
    private static func run(_ arguments: [String]) throws -> String {
        try launch(packageRoot.appendingPathComponent("scripts/pg-cluster").path, arguments)
    }

    private static func run(psql arguments: [String]) throws -> String {
        try launch("/usr/bin/psql", arguments)
    }

    /// Runs `/usr/bin/NAME` (psql, pg_dump) against database `url`; its standard output.
    static func tool(_ name: String, _ url: String, _ arguments: [String]) throws -> String {
        let location = try PostgresLocation(url: url)
        return try launch("/usr/bin/\(name)", ["-h", location.host, "-p", String(location.port), "-U", location.user] + arguments + [location.database])
    }

    private static func launch(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PostgresClusterError(description: "\(executable) \(arguments.joined(separator: " ")) failed: \(String(decoding: message, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

/// The test cluster could not be started or used.
struct PostgresClusterError: Error, CustomStringConvertible {
    var description: String
}
