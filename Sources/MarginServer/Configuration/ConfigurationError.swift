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
