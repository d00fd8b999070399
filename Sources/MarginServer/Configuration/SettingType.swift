import Comments
import Foundation
import Logging
import Moderation

/// A type a setting's value can have: the kind of text it is given as, how a checked text
/// becomes one, and how its default is printed.
public protocol SettingType: Sendable {
    /// What the file, the environment and the flags must give.
    static var kind: SettingKind { get }
    /// The value `given` holds; nil when it holds none (its setting says why).
    init?(setting given: SettingValue)
    /// How `margin config show` and the README print it as a default.
    var settingText: String { get }
}

extension String: SettingType {
    public static var kind: SettingKind { .text }
    public init?(setting given: SettingValue) { self = given.text }
    public var settingText: String { self }
}

extension Int: SettingType {
    public static var kind: SettingKind { .integer }
    public init?(setting given: SettingValue) { self.init(given.text) }
    public var settingText: String { String(self) }
}

extension Double: SettingType {
    public static var kind: SettingKind { .number }
    public init?(setting given: SettingValue) { self.init(given.text) }
    /// Whole numbers without a fraction: `4`, not `4.0`.
    public var settingText: String { rounded() == self && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}

extension Bool: SettingType {
    public static var kind: SettingKind { .boolean }
    public init?(setting given: SettingValue) {
        guard let value = Settings.boolean(given.text) else { return nil }
        self = value
    }
    public var settingText: String { String(self) }
}

extension Array: SettingType where Element == String {
    public static var kind: SettingKind { .list }
    public init?(setting given: SettingValue) { self = given.list }
    public var settingText: String { joined(separator: ",") }
}

/// A setting without a default value (its default is printed as `shown`, or as none).
extension Optional: SettingType where Wrapped: SettingType {
    public static var kind: SettingKind { Wrapped.kind }
    public init?(setting given: SettingValue) {
        guard let value = Wrapped(setting: given) else { return nil }
        self = .some(value)
    }
    public var settingText: String { self?.settingText ?? "" }
}

extension RateLimit: SettingType {
    public static var kind: SettingKind { .text }
    public init?(setting given: SettingValue) { self.init(parsing: given.text) }
    public var settingText: String { description }
}

extension Logger.Level: SettingType {
    public static var kind: SettingKind { .text }
    public init?(setting given: SettingValue) { self.init(rawValue: given.text) }
    public var settingText: String { rawValue }
}

extension LogFormat: SettingType {
    public static var kind: SettingKind { .text }
    public init?(setting given: SettingValue) { self.init(rawValue: given.text) }
    public var settingText: String { rawValue }
}

extension SMTPConfiguration.Security: SettingType {
    public static var kind: SettingKind { .text }
    public init?(setting given: SettingValue) { self.init(rawValue: given.text) }
    public var settingText: String { rawValue }
}
