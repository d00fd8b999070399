import Comments
import Foundation

extension Hook {
    /// The secret as lists show it: `whsec_…` and its last four characters for a signing
    /// secret, `…` and the last four for a token; nil when there is none.
    public var maskedSecret: String? {
        guard let secret, !secret.isEmpty else { return nil }
        let tail = secret.count > 12 ? String(secret.suffix(4)) : ""
        return secret.hasPrefix(HookSignature.secretPrefix) ? HookSignature.secretPrefix + "…" + tail : "…" + tail
    }

    /// The URL as lists show it: only the scheme and host for presets whose URL is itself a
    /// credential (Slack, Mattermost, Discord); a webhook's without its query (`?…`), which
    /// often carries a token; the others' unchanged.
    public var maskedURL: String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.percentEncodedHost
        else { return preset.urlIsSecret || preset == .webhook ? "…" : url }
        let port = components.port.map { ":\($0)" } ?? ""
        if preset.urlIsSecret { return "\(scheme)://\(host)\(port)/…" }
        guard preset == .webhook else { return url }
        let query = components.percentEncodedQuery == nil ? "" : "?…"
        return "\(scheme)://\(host)\(port)\(components.percentEncodedPath)\(query)"
    }

    /// The target as lists show it: an ntfy topic is a password (anyone who knows it on a
    /// public server can read it), so only `…` and its last four characters, and nothing of a
    /// topic too short to spare four; a chat id or room id unchanged. Nil when there is none.
    public var maskedTarget: String? {
        guard let target else { return nil }
        guard preset == .ntfy else { return target }
        return "…" + (target.count >= 8 ? String(target.suffix(4)) : "")
    }
}
