import Foundation

/// Facts about where the tests run.
public enum TestEnvironment {
    /// `CI=true`, as `.ci/run` and CI systems set it. A test that would skip for want of something
    /// (a free port, a fixture, root) runs anyway under CI and fails, so a green run means it ran.
    public static let underCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// The repository root (this file is `<repo>/Tests/TestSupport/TestEnvironment.swift`).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
}
