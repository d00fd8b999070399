import Comments
import Foundation

/// A spam rule: a pure function of the facts and settings.
public typealias SpamRule = @Sendable (SpamFacts, SpamSettings) -> RuleHit?

/// The rules, each a pure function returning points and a reason, and the verdict they add up to.
public enum SpamRules {
    /// Every rule, in the order reasons are shown.
    public static let all: [SpamRule] = [
        honeypot, formTiming, links, blocklisted, duplicate, shouting, repetition, oldThread, knownAuthor, classifier,
    ]

    /// Filled honeypot: only bots see and fill the hidden field.
    public static let honeypot: SpamRule = { facts, _ in
        guard let value = facts.honeypot, !value.isEmpty else { return nil }
        return RuleHit(rule: "honeypot", points: 15, reason: "the hidden field was filled in")
    }

    /// Posting within seconds of the form appearing, or without a (valid) signed form time; a
    /// form time older than `formMaxAgeHours` counts as none.
    public static let formTiming: SpamRule = { facts, settings in
        guard !facts.isEdit else { return nil }
        guard facts.formTimestampSent else {
            return RuleHit(rule: "no-form-time", points: 1.5, reason: "posted without the widget's form timestamp")
        }
        guard let rendered = facts.formRenderedAt, rendered <= facts.now + 60_000 else {
            return RuleHit(rule: "forged-form-time", points: 4, reason: "the form timestamp is forged")
        }
        let seconds = Double(facts.now - rendered) / 1000
        if seconds > Double(settings.formMaxAgeHours) * 3600 {
            return RuleHit(rule: "stale-form-time", points: 1.5,
                           reason: "the form timestamp is older than \(settings.formMaxAgeHours) h")
        }
        if seconds < Double(settings.minimumSecondsToSubmit) {
            return RuleHit(rule: "too-fast", points: 4, reason: String(format: "submitted %.1f s after the form appeared", max(0, seconds)))
        }
        return nil
    }

    /// Links: one is normal, several are what link droppers post.
    public static let links: SpamRule = { facts, _ in
        switch facts.linkCount {
        case 0: return nil
        case 1: return RuleHit(rule: "links", points: 1, reason: "1 link")
        case 2: return RuleHit(rule: "links", points: 2.5, reason: "2 links")
        default: return RuleHit(rule: "links", points: min(8, 2 + Double(facts.linkCount)), reason: "\(facts.linkCount) links")
        }
    }

    /// A blocklisted word, domain, email or author name.
    public static let blocklisted: SpamRule = { facts, _ in
        let hits = facts.blocklistHits.filter { $0.kind != .ip }
        guard !hits.isEmpty else { return nil }
        let list = hits.map { "\($0.kind.rawValue) '\($0.value)'" }.joined(separator: ", ")
        return RuleHit(rule: "blocklist", points: 10, reason: "blocklisted \(list)")
    }

    /// The same text posted again within a day.
    public static let duplicate: SpamRule = { facts, _ in
        guard facts.duplicates > 0 else { return nil }
        let points = facts.duplicates >= 3 ? 6.0 : 4.0
        return RuleHit(rule: "duplicate", points: points, reason: "the same text was posted \(facts.duplicates) time(s) in the last 24 h")
    }

    /// Mostly capital letters over a long enough text. Scripts without case never trigger it.
    public static let shouting: SpamRule = { facts, _ in
        let (upper, cased) = SpamFactFinder.capitals(facts.text)
        guard cased >= 20, Double(upper) / Double(cased) >= 0.7 else { return nil }
        return RuleHit(rule: "shouting", points: 1.5, reason: "\(Int(Double(upper) * 100 / Double(cased)))% capital letters")
    }

    /// One character repeated many times in a row (`!!!!!!!!!!`, `aaaaaaaaaaaa`).
    public static let repetition: SpamRule = { facts, _ in
        let longest = SpamFactFinder.longestRepeat(facts.text)
        guard longest >= 10 else { return nil }
        return RuleHit(rule: "repetition", points: 1.5, reason: "a character repeated \(longest) times")
    }

    /// Comments on old posts are mostly spam.
    public static let oldThread: SpamRule = { facts, settings in
        guard settings.oldThreadDays > 0, let created = facts.threadCreatedAt else { return nil }
        let days = (facts.now - created) / 86_400_000
        guard days >= settings.oldThreadDays else { return nil }
        return RuleHit(rule: "old-thread", points: 2, reason: "the thread is \(days) days old")
    }

    /// Authors whose comments were approved before are trusted a little: counted by the author
    /// key they hold (`SpamFacts.approvedBefore`), never by a typed email or name.
    public static let knownAuthor: SpamRule = { facts, _ in
        guard facts.approvedBefore > 0 else { return nil }
        let points = facts.approvedBefore >= 3 ? -4.0 : -2.5
        return RuleHit(rule: "known-author", points: points, reason: "\(facts.approvedBefore) earlier approved comment(s)")
    }

    /// The learned classifier's view, once it has been trained.
    public static let classifier: SpamRule = { facts, _ in
        guard let probability = facts.spamProbability else { return nil }
        let percent = String(format: "%.0f%%", probability * 100)
        switch probability {
        case 0.99...: return RuleHit(rule: "classifier", points: 7, reason: "learned filter: \(percent) spam")
        case 0.9..<0.99: return RuleHit(rule: "classifier", points: 5, reason: "learned filter: \(percent) spam")
        case 0.7..<0.9: return RuleHit(rule: "classifier", points: 3, reason: "learned filter: \(percent) spam")
        case ..<0.1: return RuleHit(rule: "classifier", points: -1, reason: "learned filter: \(percent) spam")
        default: return nil
        }
    }

    /// Runs every rule and decides, applying the site's moderation mode after the score.
    public static func judge(_ facts: SpamFacts, mode: ModerationMode, settings: SpamSettings) -> SpamReport {
        let hits = all.compactMap { $0(facts, settings) }
        let score = hits.reduce(0) { $0 + $1.points }
        return SpamReport(hits: hits, score: score, status: verdict(score: score, facts: facts, mode: mode, settings: settings))
    }

    /// Spam by score first; then hold by score, or by the site's mode.
    public static func verdict(score: Double, facts: SpamFacts, mode: ModerationMode, settings: SpamSettings) -> CommentStatus {
        if score >= settings.spamScore { return .spam }
        if score >= settings.holdScore { return .pending }
        switch mode {
        case .none: return .approved
        case .all: return .pending
        case .auto:
            let firstTime = facts.approvedBefore == 0
            return firstTime && (facts.linkCount > 0 || score >= settings.doubtfulScore) ? .pending : .approved
        }
    }
}

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


    /// The blocklist entries a comment (and its sender's address) match. Both sides are folded
    /// first (`TextFold`: NFKC, case, invisible characters), so `ＶＩＡＧＲＡ` and `vi\u{200B}agra`
    /// hit a `viagra` word.
    public static func matches(_ blocklist: [BlockEntry], text: String, author: String?, email: String?, hosts: [String], ip: String?) -> [BlockEntry] {
        guard !blocklist.isEmpty else { return [] }
        let lowerText = TextFold.fold(text)
        let lowerAuthor = author.map(TextFold.fold)
        let lowerEmail = email.map(TextFold.fold)
        let emailDomain = lowerEmail.flatMap { $0.split(separator: "@").last.map(String.init) }
        return blocklist.filter { entry in
            let value = entry.kind == .ip ? entry.value.lowercased() : TextFold.fold(entry.value)
            switch entry.kind {
            case .ip: return ip.map { IPBlock.matches(rule: value, address: $0) } ?? false
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

/// Matching client addresses against `ip` blocklist entries: exact, or CIDR (`203.0.113.0/24`).
public enum IPBlock {
    /// Whether `address` falls under `rule`.
    public static func matches(rule: String, address: String) -> Bool {
        let parts = rule.split(separator: "/", maxSplits: 1)
        guard let ruleBytes = IPAnonymizer.bytes(of: String(parts[0])), let addressBytes = IPAnonymizer.bytes(of: address), ruleBytes.count == addressBytes.count else {
            return rule == address
        }
        let bits = parts.count == 2 ? Int(parts[1]) ?? ruleBytes.count * 8 : ruleBytes.count * 8
        guard bits >= 0, bits <= ruleBytes.count * 8 else { return false }
        return IPNetwork(bytes: ruleBytes, prefixLength: bits).contains(addressBytes)
    }
}

/// Byte-level substring checks, a cheap test before a Character-level search.
enum UTF8Search {
    /// Whether every scalar of `text` is ASCII.
    static func isASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 < 0x80 }
    }

    /// Whether `needle`'s UTF-8 bytes occur in `text`'s.
    static func contains<Text: StringProtocol>(_ text: Text, _ needle: StaticString, caseInsensitiveASCII: Bool = false) -> Bool {
        let pattern = Array(UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount))
        guard let first = pattern.first else { return true }
        let fold: (UInt8) -> UInt8 = caseInsensitiveASCII ? { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 } : { $0 }
        return text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard bytes.count >= pattern.count else { return false }
            var index = 0
            let last = bytes.count - pattern.count
            while index <= last {
                if fold(bytes[index]) == first {
                    var matched = 1
                    while matched < pattern.count && fold(bytes[index + matched]) == pattern[matched] { matched += 1 }
                    if matched == pattern.count { return true }
                }
                index += 1
            }
            return false
        } ?? true // not contiguous (bridged): let the full search decide
    }
}
