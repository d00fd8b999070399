import Foundation

/// Rules that move thread paths, one per line: `OLD NEW` (exact path), `OLD* NEW*` (prefix), or
/// `~REGEX REPLACEMENT` (a regular expression on the path, `$1`… for captures). The first rule that
/// matches wins; blank lines and lines starting with `#` are ignored.
public struct RemapRules: Sendable {
    /// One parsed rule.
    enum Rule: @unchecked Sendable {
        case exact(String, String)
        case prefix(String, String)
        case pattern(NSRegularExpression, String)
    }

    let rules: [Rule]

    /// No rules: every path stays as it is.
    public init() { rules = [] }

    /// Parses rules; the error names the line of a rule it cannot read.
    public init(parsing text: String) throws {
        var rules: [Rule] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard parts.count == 2 else {
                throw CommentsError.invalidField(field: "map", message: "line \(index + 1): a rule is 'OLD NEW', 'OLD* NEW*' or '~REGEX REPLACEMENT'")
            }
            let (old, new) = (parts[0], parts[1])
            if old.hasPrefix("~") {
                do {
                    rules.append(.pattern(try NSRegularExpression(pattern: String(old.dropFirst())), new))
                } catch {
                    throw CommentsError.invalidField(field: "map", message: "line \(index + 1): invalid regular expression '\(old.dropFirst())'")
                }
            } else if old.hasSuffix("*") {
                guard new.hasSuffix("*") else {
                    throw CommentsError.invalidField(field: "map", message: "line \(index + 1): a prefix rule's replacement ends in * too")
                }
                rules.append(.prefix(String(old.dropLast()), String(new.dropLast())))
            } else {
                rules.append(.exact(old, new))
            }
        }
        self.rules = rules
    }

    /// Whether there are no rules.
    public var isEmpty: Bool { rules.isEmpty }

    /// The path after the first matching rule, normalised again.
    public func apply(_ path: String) -> String {
        for rule in rules {
            switch rule {
            case .exact(let old, let new) where path == old:
                return ThreadURI.normalize(new) ?? path
            case .prefix(let old, let new) where path.hasPrefix(old):
                return ThreadURI.normalize(new + path.dropFirst(old.count)) ?? path
            case .pattern(let regex, let template):
                let range = NSRange(path.startIndex..., in: path)
                guard regex.firstMatch(in: path, range: range) != nil else { continue }
                let replaced = regex.stringByReplacingMatches(in: path, range: range, withTemplate: template)
                return ThreadURI.normalize(replaced) ?? path
            default:
                continue
            }
        }
        return path
    }
}
