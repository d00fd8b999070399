import Foundation

extension ServerSettings {
    /// The effective settings as a `margin.toml`, each line commented with where its value came
    /// from; secrets are masked.
    public static func describe(_ settings: Settings) -> String {
        var lines: [String] = []
        var table = ""
        for key in settings.keys {
            let parts = key.name.split(separator: ".", maxSplits: 1).map(String.init)
            let section = parts.count == 2 ? parts[0] : ""
            let name = parts.last!
            if section != table {
                lines.append("")
                lines.append("[\(section)]")
                table = section
            }
            guard let value = settings.value(key.name) else {
                lines.append("# \(name) = \(key.defaultText.isEmpty ? "(not set)" : key.defaultText)    # default")
                continue
            }
            let shown: String
            if key.secret {
                shown = value.text.isEmpty ? "\"\"" : "\"********\""
            } else if let masked = key.masked {
                shown = tomlString(masked(value.text))
            } else {
                switch key.kind {
                case .integer, .number, .boolean: shown = value.text
                case .text: shown = tomlString(value.text)
                case .list: shown = "[" + value.list.map(tomlString).joined(separator: ", ") + "]"
                }
            }
            lines.append("\(name) = \(shown)    # \(value.origin)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A TOML basic string.
    static func tomlString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += String(format: "\\u%04X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
