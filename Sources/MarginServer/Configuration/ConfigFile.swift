import Foundation

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
