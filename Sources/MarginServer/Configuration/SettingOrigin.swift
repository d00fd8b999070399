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
