import Foundation

/// A malformed file: what and where.
public struct ImportError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What is wrong.
    public var message: String
    /// The 1-based line of the problem; 0 when the problem has no position (the file cannot be read).
    public var line: Int
    /// The 1-based column of the problem, as the XML parser reports it; 0 when unknown.
    public var column: Int

    /// Creates an error.
    public init(message: String, line: Int, column: Int) {
        self.message = message
        self.line = line
        self.column = column
    }

    /// `line L, column C: message`, or just the message when there is no position.
    public var description: String {
        line > 0 ? "line \(line), column \(column): \(message)" : message
    }
}
