import Foundation

/// Rules that move thread paths, one per line: `OLD NEW` (exact path), `OLD* NEW*` (prefix), or
/// `~REGEX REPLACEMENT` (a regular expression on the path, `$1`… for captures). The first rule that
/// matches wins; blank lines and lines starting with `#` are ignored.
///
/// A regular expression gets `patternTimeLimit` per path: a pattern that backtracks
/// catastrophically (`~(a+)+$` on `aaaa…b`) ends with an error naming its line and the path
/// instead of hanging the import.
public struct RemapRules: Sendable {
    /// One parsed rule; a pattern remembers its line, for errors.
    enum Rule: @unchecked Sendable {
        case exact(String, String)
        case prefix(String, String)
        case pattern(NSRegularExpression, String, line: Int)
    }

    /// How long one `~REGEX` rule may take on one path.
    public static let patternTimeLimit: Duration = .seconds(1)

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
                    rules.append(.pattern(try NSRegularExpression(pattern: String(old.dropFirst())), new, line: index + 1))
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

    /// The path after the first matching rule, normalised again. Throws `invalidField` (field
    /// `map`) naming the rule's line when a regular expression runs past `timeLimit` on `path`.
    public func apply(_ path: String, timeLimit: Duration = patternTimeLimit) throws -> String {
        for rule in rules {
            switch rule {
            case .exact(let old, let new) where path == old:
                return ThreadURI.normalize(new) ?? path
            case .prefix(let old, let new) where path.hasPrefix(old):
                return ThreadURI.normalize(new + path.dropFirst(old.count)) ?? path
            case .pattern(let regex, let template, let line):
                guard let replaced = try Self.replacing(regex, in: path, with: template, timeLimit: timeLimit, line: line) else { continue }
                return ThreadURI.normalize(replaced) ?? path
            default:
                continue
            }
        }
        return path
    }

    /// `path` with every match of `regex` replaced by `template`; nil when nothing matches.
    /// The match runs with progress reports, and stops at the deadline with an error.
    static func replacing(_ regex: NSRegularExpression, in path: String, with template: String, timeLimit: Duration, line: Int) throws -> String? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeLimit
        var matches: [NSTextCheckingResult] = []
        var timedOut = false
        let text = path as NSString
        regex.enumerateMatches(in: path, options: [.reportProgress], range: NSRange(location: 0, length: text.length)) { result, _, stop in
            if let result { matches.append(result) }
            if clock.now > deadline {
                timedOut = true
                stop.pointee = true
            }
        }
        if timedOut {
            let shown = path.count > 80 ? String(path.prefix(80)) + "…" : path
            throw CommentsError.invalidField(
                field: "map",
                message: "line \(line): the regular expression '\(regex.pattern)' took longer than \(timeLimit) on the path '\(shown)' (it backtracks too much: simplify it)")
        }
        guard !matches.isEmpty else { return nil }
        var result = ""
        var last = 0
        for match in matches {
            result += text.substring(with: NSRange(location: last, length: match.range.location - last))
            result += regex.replacementString(for: match, in: path, offset: 0, template: template)
            last = match.range.location + match.range.length
        }
        result += text.substring(from: last)
        return result
    }
}
