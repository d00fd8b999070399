import Foundation

/// One setting of `margin serve`, declared once in `ServerSettings`: name, environment variable,
/// flag, typed default, secret or not, doc line, flag help, checks, and what it sets in a
/// `ServerConfiguration`. The file reader, the environment, the flags, `margin config show`, the
/// server configuration and the README check all read it from here (through `key`).
public struct Setting<Value: SettingType>: Sendable {
    /// The declaration without its type: what the file, the environment and the flags check
    /// against.
    public let key: SettingKey
    /// The value when none is given; `ServerConfiguration`'s defaults are these.
    public let defaultValue: Value

    /// Declares a setting. In `flagHelp`, `{env}` stands for the variable and `{default}` for
    /// the default as printed. `shown` is the default as printed when it is not a value (such as
    /// `margin@HOST`); `problem` says why a value of the right type is unusable (nil: usable);
    /// `unreadable` says why a text of the right kind is no `Value` at all (a rate limit like
    /// `lots`); `masked` prints a given text whose part is a secret; `apply` sets the value in
    /// a configuration (nil when `ServerSettings.configuration(from:)` puts it together with
    /// others).
    init(_ name: String, env: String, flag: String?, default defaultValue: Value, shown: String? = nil, secret: Bool = false,
         _ doc: String, flagHelp: String?,
         problem: @escaping @Sendable (Value) -> String? = { _ in nil },
         unreadable: @escaping @Sendable (SettingValue) -> String = { "is not usable: '\($0.text)'" },
         masked: (@Sendable (String) -> String)? = nil,
         apply: (@Sendable (inout ServerConfiguration, Value) -> Void)?) {
        let defaultText = shown ?? defaultValue.settingText
        let check: @Sendable (SettingValue) -> String? = { given in
            guard let value = Value(setting: given) else { return unreadable(given) }
            return problem(value)
        }
        var set: (@Sendable (inout ServerConfiguration, SettingValue) -> Void)?
        if let apply {
            set = { configuration, given in
                if let value = Value(setting: given) { apply(&configuration, value) }
            }
        }
        let help = flagHelp?.replacingOccurrences(of: "{env}", with: env).replacingOccurrences(of: "{default}", with: defaultText)
        self.defaultValue = defaultValue
        self.key = SettingKey(
            name: name, environment: env, flag: flag, kind: Value.kind, defaultText: defaultText, secret: secret, doc: doc,
            flagHelp: help, problem: check, masked: masked, apply: set)
    }

    public var name: String { key.name }

    /// This setting's value for a command other than `margin serve` (which takes no flag for
    /// it): the environment's if usable, else the file's, else the default. An unusable value is
    /// passed over rather than refused: such a command must not fail on `serve`'s business.
    public func resolved(environment: [String: String], file: ConfigFile?) -> Value {
        let given = environment[key.environment].map { SettingValue(text: $0, origin: .environment(key.environment)) }
        for value in [given, file?.values[key.name]].compactMap({ $0 }) where Settings.check(value, against: key) == nil {
            if let typed = Value(setting: value) { return typed }
        }
        return defaultValue
    }
}
