import Foundation

/// A temporary folder for one test, removed by `remove()`.
public struct Scratch: Sendable {
    /// The folder.
    public let url: URL

    /// Makes a fresh folder under the temporary directory.
    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("margin-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The path of `name` in the folder.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// `margin.sqlite` in the folder.
    public var database: String { path("margin.sqlite") }

    /// Removes the folder and everything in it.
    public func remove() { try? FileManager.default.removeItem(at: url) }
}
