/// One `key = value` of a TOML document: the full dotted key (table prefix included), the value,
/// and the line the key is on.
public struct TOMLEntry: Sendable, Equatable {
    public let key: String
    public let value: TOMLValue
    public let line: Int
}
