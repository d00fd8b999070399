import Comments
import Foundation

/// Checks and normalises blocklist values as a moderator typed them (CLI or console).
public enum BlockValue {
    /// Why a value cannot be blocked, in one sentence.
    public struct Invalid: Error, Equatable, Sendable {
        public var message: String
    }

    /// The value as stored: trimmed and lowercased; an `ip` is an address or CIDR range, an
    /// `email` an address, a `domain` a dotted name.
    public static func normalize(kind: BlockKind, value: String) throws(Invalid) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw Invalid(message: "The value must not be empty.") }
        switch kind {
        case .ip:
            let address = String(trimmed.split(separator: "/").first ?? "")
            guard IPAnonymizer.anonymize(address) != nil else { throw Invalid(message: "'\(value)' is not an IP address or CIDR range.") }
            // As `margin moderate show` prints a network (`203.0.113.0/24`, `2001:db8:1::/48`); a
            // prefix longer than the address (`10.0.0.0/40`) would never match anything.
            guard IPNetwork(trimmed) != nil else { throw Invalid(message: "'\(value)' has an invalid prefix length.") }
            return trimmed.lowercased()
        case .email:
            guard (try? FieldRules.email(trimmed, required: true)) != nil else { throw Invalid(message: "'\(value)' is not an email address.") }
            return trimmed.lowercased()
        case .domain:
            let domain = trimmed.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
            guard domain.contains("."), !domain.contains(where: { $0 == "/" || $0 == "@" || $0 == " " }) else {
                throw Invalid(message: "'\(value)' is not a domain such as spam.example.")
            }
            return domain
        case .word, .author:
            return trimmed.lowercased()
        }
    }
}
