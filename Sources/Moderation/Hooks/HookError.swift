/// What managing a hook can refuse; the server answers both with 422.
public enum HookError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A field failed validation (`invalid_<field>`).
    case invalid(field: String, message: String)
    /// The destination is a loopback, private, link-local, metadata or other non-public
    /// address and the hook does not allow those; the sentence names the host, its address
    /// and how to allow it.
    case destinationRefused(String)

    /// A sentence for people (CLI output and JSON error messages).
    public var description: String {
        switch self {
        case .invalid(let field, let message): "\(field): \(message)"
        case .destinationRefused(let message): message
        }
    }
}
