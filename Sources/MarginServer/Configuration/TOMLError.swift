/// A TOML document that is not valid, with the line of the mistake.
public struct TOMLError: Error, Equatable, CustomStringConvertible {
    public let line: Int
    public let message: String

    public var description: String { "line \(line): \(message)" }
}
