import Comments
import Foundation

/// Pure helpers that turn a comment into facts: links, hosts, blocklist matches.
public enum SpamFactFinder {
    /// Hosts of http(s) links and bare `www.` links in `text`, plus the website's host.
    public static func linkHosts(text: String, website: String?) -> [String] {
        var hosts: [String] = []
        let lowered = text.lowercased()
        // Most comments have no link: skip the Character-level passes when the bytes that must
        // be there are not (nothing else is canonically equivalent to ":", "/", "w" or ".").
        let hasScheme = UTF8Search.contains(lowered, "://"), hasWWW = UTF8Search.contains(lowered, "www.")
        var searchStart = lowered.startIndex
        while hasScheme, let range = lowered.range(of: "://", range: searchStart..<lowered.endIndex) {
            let schemeStart = lowered[..<range.lowerBound].lastIndex(where: { !($0.isLetter && $0.isASCII) }).map { lowered.index(after: $0) } ?? lowered.startIndex
            let scheme = lowered[schemeStart..<range.lowerBound]
            let hostStart = range.upperBound
            let hostEnd = lowered[hostStart...].firstIndex(where: { !($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) ?? lowered.endIndex
            let host = String(lowered[hostStart..<hostEnd])
            if (scheme == "http" || scheme == "https"), host.contains(".") { hosts.append(host) }
            searchStart = hostEnd > range.upperBound ? hostEnd : range.upperBound
        }
        for word in hasWWW ? lowered.split(whereSeparator: { $0.isWhitespace || "()<>[]\"'".contains($0) }) : [] where word.hasPrefix("www.") {
            let host = word.prefix { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }
            if host.split(separator: ".").count >= 3, !hosts.contains(String(host)) { hosts.append(String(host)) }
        }
        if let website, let host = URLHost.of(website) { hosts.append(host) }
        return hosts
    }


    /// The blocklist entries a comment matches. Both sides are folded first (`TextFold`: NFKC,
    /// case, invisible characters), so `ＶＩＡＧＲＡ` and `vi\u{200B}agra` hit a `viagra` word.
    /// Address entries are not among them: a blocked network is refused at the door, before any
    /// screening (`CommentsRoutes.checkBlocked`).
    public static func matches(_ blocklist: [BlockEntry], text: String, author: String?, email: String?, hosts: [String]) -> [BlockEntry] {
        guard !blocklist.isEmpty else { return [] }
        let lowerText = TextFold.fold(text)
        let lowerAuthor = author.map(TextFold.fold)
        let lowerEmail = email.map(TextFold.fold)
        let emailDomain = lowerEmail.flatMap { $0.split(separator: "@").last.map(String.init) }
        return blocklist.filter { entry in
            let value = TextFold.fold(entry.value)
            switch entry.kind {
            case .ip: return false
            case .email: return lowerEmail == value
            case .author: return lowerAuthor == value
            case .domain:
                let candidates = hosts + (emailDomain.map { [$0] } ?? [])
                return candidates.contains { $0 == value || $0.hasSuffix("." + value) }
            case .word:
                return containsWord(value, in: lowerText) || (lowerAuthor.map { containsWord(value, in: $0) } ?? false)
            }
        }
    }

    /// How many of `text`'s scalars are upper-case letters, and how many have case at all.
    static func capitals(_ text: String, asciiFastPath: Bool = true) -> (upper: Int, cased: Int) {
        var upper = 0, cased = 0
        for scalar in text.unicodeScalars {
            // ASCII answered directly: the Unicode property lookup cost more than the rest of the rule.
            if asciiFastPath && scalar.isASCII {
                let value = scalar.value
                if value >= 0x41 && value <= 0x5A {
                    cased += 1
                    upper += 1
                } else if value >= 0x61 && value <= 0x7A {
                    cased += 1
                }
            } else if scalar.properties.isCased {
                cased += 1
                if scalar.properties.isUppercase { upper += 1 }
            }
        }
        return (upper, cased)
    }

    /// The longest run of one non-whitespace character repeated in `text`.
    static func longestRepeat(_ text: String, asciiFastPath: Bool = true) -> Int {
        var longest = 0, run = 0
        if asciiFastPath && UTF8Search.isASCII(text) {
            // Byte by byte: in ASCII each byte is a character, except CR LF, which is whitespace
            // either way.
            var previous: UInt8?
            for byte in text.utf8 {
                let isWhitespace = byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
                if byte == previous, !isWhitespace { run += 1 } else { run = 1 }
                previous = byte
                longest = max(longest, run)
            }
            return longest
        }
        var previous: Character?
        for character in text {
            if character == previous, !character.isWhitespace { run += 1 } else { run = 1 }
            previous = character
            longest = max(longest, run)
        }
        return longest
    }

    /// Whole-word (or whole-phrase) containment for words written in ASCII; plain containment
    /// otherwise, since Chinese or Japanese text has no spaces between words.
    static func containsWord(_ word: String, in text: String) -> Bool {
        guard !word.isEmpty else { return false }
        guard word.unicodeScalars.allSatisfy(\.isASCII) else { return text.contains(word) }
        let isWordCharacter: (Character) -> Bool = { $0.isLetter || $0.isNumber }
        var searchStart = text.startIndex
        while let range = text.range(of: word, range: searchStart..<text.endIndex) {
            let startsWord = range.lowerBound == text.startIndex || !isWordCharacter(text[text.index(before: range.lowerBound)])
            let endsWord = range.upperBound == text.endIndex || !isWordCharacter(text[range.upperBound])
            if startsWord && endsWord { return true }
            searchStart = text.index(after: range.lowerBound)
        }
        return false
    }
}
