import Foundation

/// Field validation shared by posting and editing. Each check throws `invalidField` naming the field.
public enum FieldRules {
    /// Text must have 1–10,000 characters once leading and trailing white space is ignored;
    /// it is stored exactly as written.
    public static func text(_ value: String?) throws -> String {
        guard let value else { throw CommentsError.invalidField(field: "text", message: "is required") }
        let trimmed = value.trimmingWhiteSpace()
        if trimmed.isEmpty { throw CommentsError.invalidField(field: "text", message: "must not be empty") }
        if trimmed.count > Limits.textMax {
            throw CommentsError.invalidField(field: "text", message: "must be at most \(Limits.textMax) characters")
        }
        return value
    }

    /// A display name (trimmed; empty means anonymous).
    public static func author(_ value: String?, required: Bool) throws -> String? {
        let trimmed = value?.trimmingWhiteSpace() ?? ""
        if trimmed.isEmpty {
            if required { throw CommentsError.invalidField(field: "author", message: "is required on this site") }
            return nil
        }
        if trimmed.count > Limits.authorMax {
            throw CommentsError.invalidField(field: "author", message: "must be at most \(Limits.authorMax) characters")
        }
        if trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw CommentsError.invalidField(field: "author", message: "must not contain control characters")
        }
        return trimmed
    }

    /// An email address of plausible syntax (`local@domain.tld`), at most 254 characters.
    public static func email(_ value: String?, required: Bool) throws -> String? {
        let trimmed = value?.trimmingWhiteSpace() ?? ""
        if trimmed.isEmpty {
            if required { throw CommentsError.invalidField(field: "email", message: "is required on this site") }
            return nil
        }
        if trimmed.utf8.count > Limits.emailMax {
            throw CommentsError.invalidField(field: "email", message: "must be at most \(Limits.emailMax) characters")
        }
        guard isPlausibleEmail(trimmed) else {
            throw CommentsError.invalidField(field: "email", message: "is not a valid email address")
        }
        return trimmed
    }

    static func isPlausibleEmail(_ value: String) -> Bool {
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last,
              !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty
        else { return false }
        let forbidden: Set<Character> = [" ", "\t", "\n", "\r", "<", ">", "(", ")", "[", "]", ",", ";", ":", "\\", "\""]
        if value.contains(where: { forbidden.contains($0) || $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }) {
            return false
        }
        if local.hasPrefix(".") || local.hasSuffix(".") || local.contains("..") { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") && $0.count <= 63 }),
              let tld = labels.last, tld.count >= 2
        else { return false }
        return true
    }

    /// An author key: 16 to 128 characters of the base64url alphabet (the widget sends 43, 32
    /// random bytes); nil when absent or empty.
    public static func authorKey(_ value: String?) throws -> String? {
        guard let value, !value.isEmpty else { return nil }
        guard (16...128).contains(value.utf8.count),
              value.utf8.allSatisfy({ byte in
                  (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D || byte == 0x5F
              })
        else { throw CommentsError.invalidField(field: "author_key", message: "must be 16 to 128 letters, digits, - or _") }
        return value
    }

    /// A website: an absolute http(s) URL with a host a browser accepts (WHATWG URL parsing), at
    /// most 254 characters, without backslashes, control or format characters.
    public static func website(_ value: String?) throws -> String? {
        let trimmed = value?.trimmingWhiteSpace() ?? ""
        if trimmed.isEmpty { return nil }
        if trimmed.utf8.count > Limits.websiteMax {
            throw CommentsError.invalidField(field: "website", message: "must be at most \(Limits.websiteMax) characters")
        }
        let lower = trimmed.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            throw CommentsError.invalidField(field: "website", message: "must start with http:// or https://")
        }
        // A browser reads `\` as `/` and skips tabs and newlines, so such a URL can visit another
        // host than it seems to name; invisible characters can disguise one.
        if trimmed.unicodeScalars.contains(where: {
            $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F || [.control, .format, .lineSeparator, .paragraphSeparator]
                .contains($0.properties.generalCategory)
        }) {
            throw CommentsError.invalidField(field: "website", message: "must not contain backslashes or control characters")
        }
        // The host checked (and blocklisted) is the one a browser visits: see `URLHost.of`.
        guard URLHost.of(trimmed) != nil,
              !trimmed.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.properties.generalCategory == .spaceSeparator || "<>\"'`".unicodeScalars.contains($0) })
        else { throw CommentsError.invalidField(field: "website", message: "is not a valid http(s) URL") }
        return trimmed
    }

    /// An optional page title, at most 200 characters.
    public static func title(_ value: String?) throws -> String? {
        let trimmed = value?.trimmingWhiteSpace() ?? ""
        if trimmed.isEmpty { return nil }
        if trimmed.count > Limits.titleMax {
            throw CommentsError.invalidField(field: "title", message: "must be at most \(Limits.titleMax) characters")
        }
        return trimmed
    }

    /// A thread uri, normalised.
    public static func uri(_ value: String?) throws -> String {
        guard let value, !value.trimmingASCIIWhitespace().isEmpty else {
            throw CommentsError.invalidField(field: "uri", message: "is required")
        }
        guard let normalized = ThreadURI.normalize(value) else {
            throw CommentsError.invalidField(field: "uri", message: "is too long")
        }
        return normalized
    }
}
