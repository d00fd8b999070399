import Foundation

/// Where a setting's value came from: it names the culprit in errors and in `margin config show`.
public enum SettingOrigin: Sendable, Equatable, CustomStringConvertible {
    case flag(String)
    case environment(String)
    case file(path: String, line: Int)
    case defaultValue

    public var description: String {
        switch self {
        case .flag(let flag): flag
        case .environment(let name): name
        case .file(let path, let line): "\(path):\(line)"
        case .defaultValue: "default"
        }
    }
}

/// A configuration value that cannot be used, named by key and by where it came from.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public let origin: SettingOrigin?
    public let key: String?
    public let message: String

    public init(origin: SettingOrigin?, key: String?, message: String) {
        self.origin = origin
        self.key = key
        self.message = message
    }

    public var description: String {
        let subject = switch origin {
        case .file(let path, let line)?: "\(path) line \(line): " + (key.map { "'\($0)' " } ?? "")
        case .environment(let name)?: "\(name): "
        case .flag(let flag)?: "\(flag): "
        case .defaultValue?, nil: key.map { "'\($0)' " } ?? ""
        }
        return subject + message
    }
}

/// The type a setting takes; a file value of another TOML type is an error.
public enum SettingKind: Sendable {
    case text
    case integer
    case number
    case boolean
    /// Several texts: a TOML array (or one string), a repeated flag, a comma-separated variable.
    case list
}

/// One key of Margin's configuration: its name in `margin.toml` (dotted for tables), its
/// environment variable, its `margin serve` flag, its default and whether it is a secret.
public struct SettingKey: Sendable {
    public let name: String
    public let environment: String
    public let flag: String?
    public let kind: SettingKind
    public let defaultText: String
    public let secret: Bool
    public let help: String
    /// Why a value of the right type is still unusable, or nil.
    let problem: @Sendable (SettingValue) -> String?

    init(_ name: String, env: String, flag: String?, _ kind: SettingKind, default defaultText: String, secret: Bool = false,
         _ help: String, problem: @escaping @Sendable (SettingValue) -> String? = { _ in nil }) {
        self.name = name
        self.environment = env
        self.flag = flag
        self.kind = kind
        self.defaultText = defaultText
        self.secret = secret
        self.help = help
        self.problem = problem
    }
}

/// A value as given (text, or texts for lists), before it is turned into its type.
public struct SettingValue: Sendable, Equatable {
    public var text: String
    public var list: [String]
    public var origin: SettingOrigin

    public init(text: String, origin: SettingOrigin) {
        self.text = text
        self.list = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        self.origin = origin
    }

    public init(list: [String], origin: SettingOrigin) {
        self.text = list.joined(separator: ",")
        self.list = list
        self.origin = origin
    }
}

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

    public func text(_ name: String) -> String? { values[name]?.text }
    public func integer(_ name: String) -> Int? { values[name].flatMap { Int($0.text) } }
    public func number(_ name: String) -> Double? { values[name].flatMap { Double($0.text) } }
    public func boolean(_ name: String) -> Bool? { values[name].flatMap { Self.boolean($0.text) } }
    public func list(_ name: String) -> [String]? { values[name]?.list }
}

/// A parsed `margin.toml`: each known key's value with its line. Unknown keys and values of the
/// wrong type are errors naming the key and line.
public struct ConfigFile: Sendable {
    public let path: String
    public let values: [String: SettingValue]

    /// Reads and checks the file at `path` against `keys`.
    public init(path: String, keys: [SettingKey] = ServerSettings.keys) throws(ConfigurationError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError(origin: nil, key: nil, message: "cannot read the configuration file \(path): \(Self.reason(error))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(origin: nil, key: nil, message: "\(path) is not UTF-8 text")
        }
        try self.init(path: path, text: text, keys: keys)
    }

    /// Checks `text` as if read from `path`.
    public init(path: String, text: String, keys: [SettingKey] = ServerSettings.keys) throws(ConfigurationError) {
        self.path = path
        let entries: [TOMLEntry]
        do {
            entries = try TOMLDocument.parse(text)
        } catch {
            throw ConfigurationError(origin: .file(path: path, line: error.line), key: nil, message: error.message)
        }
        let byName = Dictionary(keys.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var values: [String: SettingValue] = [:]
        for entry in entries {
            let origin = SettingOrigin.file(path: path, line: entry.line)
            guard let key = byName[entry.key] else {
                let hint = Self.closest(to: entry.key, among: keys.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
                throw ConfigurationError(origin: origin, key: entry.key, message: "is not a setting Margin knows\(hint)")
            }
            let value = try Self.value(entry.value, for: key, origin: origin)
            if let error = Settings.check(value, against: key) { throw error }
            values[key.name] = value
        }
        self.values = values
    }

    private static func value(_ value: TOMLValue, for key: SettingKey, origin: SettingOrigin) throws(ConfigurationError) -> SettingValue {
        func wrong() -> ConfigurationError {
            let wanted = switch key.kind {
            case .text: "a string"
            case .integer: "an integer"
            case .number: "a number"
            case .boolean: "true or false"
            case .list: "an array of strings"
            }
            return ConfigurationError(origin: origin, key: key.name, message: "must be \(wanted), not \(value.typeName)")
        }
        switch (key.kind, value) {
        case (.text, .string(let text)): return SettingValue(text: text, origin: origin)
        case (.integer, .integer(let number)): return SettingValue(text: String(number), origin: origin)
        case (.number, .integer(let number)): return SettingValue(text: String(number), origin: origin)
        case (.number, .float(let number)) where number.isFinite: return SettingValue(text: String(number), origin: origin)
        case (.boolean, .boolean(let flag)): return SettingValue(text: String(flag), origin: origin)
        case (.list, .string(let text)): return SettingValue(list: [text], origin: origin)
        case (.list, .array(let items)):
            var texts: [String] = []
            for item in items {
                guard case .string(let text) = item else { throw wrong() }
                texts.append(text)
            }
            return SettingValue(list: texts, origin: origin)
        default:
            throw wrong()
        }
    }

    /// The known key within two edits of a mistyped one.
    static func closest(to name: String, among names: [String]) -> String? {
        let scored = names.map { ($0, editDistance(name, $0)) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
            ?? names.first { $0.hasSuffix("." + name) }
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }

    private static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        return nsError.localizedDescription
    }
}
