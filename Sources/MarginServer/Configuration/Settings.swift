import Foundation

/// The layers of configuration, merged: a flag wins over the environment, the environment over
/// the file, the file over the defaults.
public struct Settings: Sendable {
    public let keys: [SettingKey]
    public private(set) var values: [String: SettingValue] = [:]
    /// The configuration file read, if any.
    public let filePath: String?

    /// Merges the layers. Every value is checked against its key; the first unusable one throws.
    public init(keys: [SettingKey] = ServerSettings.keys, file: ConfigFile? = nil, environment: [String: String] = [:],
                flags: [String: SettingValue] = [:]) throws(ConfigurationError) {
        self.keys = keys
        self.filePath = file?.path
        for key in keys {
            let value = flags[key.name]
                ?? environment[key.environment].map { SettingValue(text: $0, origin: .environment(key.environment)) }
                ?? file?.values[key.name]
            guard let value else { continue }
            if let error = Self.check(value, against: key) { throw error }
            values[key.name] = value
        }
    }

    /// Why `value` is unusable for `key`, or nil.
    static func check(_ value: SettingValue, against key: SettingKey) -> ConfigurationError? {
        if let typeProblem = Self.typeProblem(value, key) {
            return ConfigurationError(origin: value.origin, key: key.name, message: typeProblem)
        }
        return key.problem(value).map { ConfigurationError(origin: value.origin, key: key.name, message: $0) }
    }

    private static func typeProblem(_ value: SettingValue, _ key: SettingKey) -> String? {
        switch key.kind {
        case .text, .list: nil
        case .integer: Int(value.text) == nil ? "must be a whole number, not '\(value.text)'" : nil
        case .number: Double(value.text).map { $0.isFinite } != true ? "must be a number, not '\(value.text)'" : nil
        case .boolean: Self.boolean(value.text) == nil ? "must be true or false, not '\(value.text)'" : nil
        }
    }

    /// `true`/`false`, also `1`/`0`, `yes`/`no` and `on`/`off` (environment variables).
    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "1", "yes", "on": true
        case "false", "0", "no", "off": false
        default: nil
        }
    }

    /// The value given for `name`, if any (the key must be in the catalogue).
    public func value(_ name: String) -> SettingValue? { values[name] }

    /// The value given for `setting`, if any, with where it came from.
    public func value<Value>(_ setting: Setting<Value>) -> SettingValue? { values[setting.name] }

    /// The value of `setting`: the one given, else its default.
    public subscript<Value>(setting: Setting<Value>) -> Value {
        values[setting.name].flatMap(Value.init(setting:)) ?? setting.defaultValue
    }
}
