/// The type a setting takes; a file value of another TOML type is an error.
public enum SettingKind: Sendable {
    case text
    case integer
    case number
    case boolean
    /// Several texts: a TOML array (or one string), a repeated flag, a comma-separated variable.
    case list
}
