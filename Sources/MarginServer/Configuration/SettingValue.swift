import Foundation

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
