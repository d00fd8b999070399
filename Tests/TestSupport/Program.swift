import Foundation

/// Another program run to its end, as the tests run `margin`, `psql`, `sqlite3` and the like.
public enum Program {
    /// How a finished run exited and what it printed.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `path` with `arguments` (and `environment` added to the test process's own) to
    /// completion; SIGTERM once `timeout` has passed, none when nil.
    public static func run(
        _ path: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration? = .seconds(60)
    ) async throws -> Result {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = timeout.map { ContinuousClock.now + $0 }
        // Read while it runs, so a full pipe never blocks the child.
        async let stdout = readToEnd(out.fileHandleForReading)
        async let stderr = readToEnd(err.fileHandleForReading)
        while process.isRunning {
            if let deadline, ContinuousClock.now > deadline { process.terminate() }
            try await Task.sleep(for: .milliseconds(10))
        }
        return Result(status: process.terminationStatus, stdout: String(decoding: await stdout, as: UTF8.self),
                      stderr: String(decoding: await stderr, as: UTF8.self))
    }
}
