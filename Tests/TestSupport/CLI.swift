import Foundation

/// The built `margin` executable, run as a user would run it.
public enum CLI {
    /// `margin` beside the test bundle (both come from one `swift build --build-tests`).
    public static var executable: URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("margin")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/margin")
    }

    /// Runs `margin` with `arguments` (and `environment` added to the test process's own) to
    /// completion, bounded by `timeout`.
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> Program.Result {
        try await Program.run(executable.path, arguments, environment: environment, timeout: timeout)
    }
}
