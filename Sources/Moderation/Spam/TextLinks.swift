import Foundation

/// Finding links in plain text and reducing each to a few features.
enum TextLinks {
    /// Top-level domains that make a bare `name.tld` a link. Common ones only, so that abbreviations
    /// and numbers ("e.g.", "2.1") are not taken for links.
    private static let genericDomainSuffixes: Set<String> = [
        "com", "net", "org", "info", "biz", "xyz", "online", "site", "club", "top", "shop", "store", "app", "blog",
    ]
    /// Country domains popular with link shorteners and spam. Many are also words ("song.it", "go.to"
    /// in text typed without a space after the full stop), so a bare one is a link only with a path.
    private static let countryDomainSuffixes: Set<String> = [
        "io", "co", "me", "tv", "ly", "gl", "be", "us", "uk", "ru", "de", "fr", "br", "in", "cn", "jp", "kr",
        "eu", "ws", "cc", "to", "nl", "it", "es", "pl", "au", "ca",
    ]
    /// Second-level labels under which a country's domains are registered (`example.co.uk`).
    private static let secondLevelLabels: Set<String> = ["co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go"]
    /// Punctuation that surrounds a link in prose without being part of it.
    private static let surroundingPunctuation = CharacterSet(charactersIn: ".,;:!?()[]{}<>\"'*")
    /// A host longer than this is garbage, not a name worth a feature.
    private static let maximumHostLength = 100

    /// `text` with its links replaced by spaces, and the links.
    static func extract(from text: String) -> (text: String, links: [String]) {
        var prose: [Substring] = []
        var links: [String] = []
        for chunk in text.split(whereSeparator: \.isWhitespace) {
            if let (before, link) = split(chunk) {
                prose.append(before)
                links.append(link)
            } else {
                prose.append(chunk)
            }
        }
        return (prose.joined(separator: " "), links)
    }

    /// The text before the link in a whitespace-free `chunk`, and the link, or nil without one.
    private static func split(_ chunk: Substring) -> (Substring, String)? {
        // Most words hold neither a link start nor a dot: decide those without Foundation's
        // case-insensitive search (both link starts need ":" or "ww"; a bare domain needs ".").
        let mayStartLink = UTF8Search.contains(chunk, ":") || UTF8Search.contains(chunk, "ww", caseInsensitiveASCII: true)
        if !mayStartLink && !UTF8Search.contains(chunk, ".") { return nil }
        let starts = mayStartLink
            ? ["http://", "https://", "www."].compactMap { chunk.range(of: $0, options: .caseInsensitive)?.lowerBound }
            : []
        // "www." starts a link only at the start of a word, not inside "awww.".
        if let start = starts.filter({ $0 == chunk.startIndex || !chunk[chunk.index(before: $0)].isLetter }).min() {
            let link = chunk[start...].trimmingCharacters(in: surroundingPunctuation)
            return (chunk[..<start], link)
        }
        let candidate = chunk.trimmingCharacters(in: surroundingPunctuation)
        return isBareDomain(candidate) ? ("", candidate) : nil
    }

    /// Whether `text` is `name.tld` or `name.tld/path` with a common top-level domain.
    private static func isBareDomain(_ text: String) -> Bool {
        let host = text.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, let suffix = labels.last?.lowercased() else { return false }
        let hasPath = host.endIndex < text.endIndex
        guard genericDomainSuffixes.contains(suffix) || (hasPath && countryDomainSuffixes.contains(suffix)) else { return false }
        let isLabel = { (label: Substring) in
            !label.isEmpty && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        return labels.allSatisfy(isLabel) && labels.dropLast().contains { $0.contains(where: \.isLetter) }
    }

    /// `has:url`, the registrable-ish `domain:…`, and `host:…` when the host is more than that domain.
    static func features(of link: String) -> [String] {
        var rest = Substring(link)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        var host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        var name = host.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        if name.hasPrefix("www.") { name.removeFirst(4) }
        guard name.contains("."), name.count <= maximumHostLength else { return ["has:url"] }
        let domain = registrableDomain(name)
        return domain == name ? ["has:url", "domain:" + domain] : ["has:url", "domain:" + domain, "host:" + name]
    }

    /// The last two labels of `host`, or three under a country's second level (`bbc.co.uk`); an
    /// IP address stays whole.
    private static func registrableDomain(_ host: String) -> String {
        let labels = host.split(separator: ".")
        if labels.allSatisfy({ $0.allSatisfy(\.isNumber) }) { return host }
        guard labels.count > 2 else { return host }
        let keep = labels[labels.count - 1].count == 2 && secondLevelLabels.contains(String(labels[labels.count - 2])) ? 3 : 2
        return labels.suffix(keep).joined(separator: ".")
    }
}
