/// A failed expectation outside `#expect`.
public struct TestFailure: Error, CustomStringConvertible {
    /// What failed.
    public let description: String
    /// A failure saying `description`.
    public init(_ description: String) { self.description = description }
}
