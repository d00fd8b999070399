/// Checks of a site's settings, shared by the CLI and the moderation API. Each throws
/// `invalidField` naming the field.
public enum SiteRules {
    /// A site id is 1–64 ASCII letters, digits, `-` or `_`.
    public static func id(_ id: String) throws {
        guard !id.isEmpty, id.count <= 64,
              id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { throw CommentsError.invalidField(field: "id", message: "A site id is 1–64 letters, digits, '-' or '_'.") }
    }

    /// Origins as browsers send them: `scheme://host[:port]`, lowercased, no path (a trailing
    /// slash is dropped); the port may be `*`.
    public static func origins(_ origins: [String]) throws -> [String] {
        try origins.map { origin in
            let lower = origin.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
                throw CommentsError.invalidField(field: "origins", message: "An origin is scheme://host[:port], e.g. https://blog.example.org (got '\(origin)').")
            }
            let rest = lower.drop(while: { $0 != "/" }).dropFirst(2)
            guard !rest.isEmpty, !rest.contains("/") || rest.hasSuffix("/") && rest.dropLast().contains("/") == false,
                  !rest.contains(where: { $0 == " " || $0 == "@" || $0 == "?" || $0 == "#" })
            else { throw CommentsError.invalidField(field: "origins", message: "An origin has no path: '\(origin)'.") }
            return lower.hasSuffix("/") ? String(lower.dropLast()) : lower
        }
    }

    /// `3/min,20/h`, `off`; nil text is nil (the server's default).
    public static func rateLimit(_ text: String?, field: String = "rate_limit") throws -> RateLimit? {
        guard let text else { return nil }
        guard let limit = RateLimit(parsing: text) else {
            throw CommentsError.invalidField(field: field, message: "A rate limit is like 3/min,20/h (units s, min, h, day) or off; got '\(text)'.")
        }
        return limit
    }

    /// Moderator addresses, each an email address.
    public static func moderators(_ moderators: [String]) throws -> [String] {
        try moderators.map { email in
            guard let valid = try? FieldRules.email(email, required: true) else {
                throw CommentsError.invalidField(field: "moderators", message: "'\(email)' is not an email address.")
            }
            return valid
        }
    }
}
