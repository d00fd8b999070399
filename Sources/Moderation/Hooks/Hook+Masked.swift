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
    /// credential (Slack, Mattermost, Discord), the URL unchanged for the others.
    public var maskedURL: String {
        guard preset.urlIsSecret else { return url }
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.percentEncodedHost
        else { return "…" }
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)/…"
    }
}
