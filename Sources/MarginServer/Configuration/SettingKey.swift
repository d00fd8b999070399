/// One setting of Margin's configuration as the file reader, the environment, the flags,
/// `margin config show` and the README check see it: its name in `margin.toml` (dotted for
/// tables), its environment variable, its `margin serve` flag, its default, whether it is a
/// secret, its doc line, and what it does to a `ServerConfiguration`. Declared once, typed, as a
/// `Setting` in `ServerSettings`; this is that declaration with the type left out.
public struct SettingKey: Sendable {
    public let name: String
    public let environment: String
    /// The flag, `--` included; nil for a secret, which a command line would show to every user.
    public let flag: String?
    public let kind: SettingKind
    /// The default as `margin config show` and the README print it; empty for none.
    public let defaultText: String
    public let secret: Bool
    /// The doc line: what the setting means, as `margin.toml`'s readers need it.
    public let doc: String
    /// The flag's line in `margin serve --help`.
    public let flagHelp: String?
    /// Why a value of the right kind is still unusable, or nil.
    let problem: @Sendable (SettingValue) -> String?
    /// How `margin config show` prints a given text of a setting that is partly a secret (a
    /// password inside a URL); nil prints it as it is.
    let masked: (@Sendable (String) -> String)?
    /// Sets the given (and checked) value in a configuration; nil for a setting that only
    /// counts together with others (`ServerSettings.configuration(from:)` reads those).
    let apply: (@Sendable (inout ServerConfiguration, SettingValue) -> Void)?
}
