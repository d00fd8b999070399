import Comments
import Foundation

/// The checks `HookRegistry` makes on what people give for a hook; each refusal names its
/// field (`HookError.invalid`).
enum HookValidator {
    /// A usable http(s) URL with a host and no user or password; returns it trimmed with its
    /// host. A base URL the preset appends a path to (Telegram, Matrix, ntfy) takes no query or
    /// fragment: the path would land inside them.
    static func url(_ text: String, preset: Hook.Preset) throws -> (url: String, host: String) {
        let url = text.trimmingCharacters(in: .whitespaces)
        guard !url.isEmpty else { throw HookError.invalid(field: "url", message: "give the \(preset.rawValue) URL") }
        let host = try parse(url)
        if preset.needsTarget, url.contains("?") || url.contains("#") {
            throw HookError.invalid(field: "url", message: "give the \(preset.rawValue) server's base URL, without '?' or '#'")
        }
        return (url, host)
    }

    /// The host of a usable http(s) URL with no user or password (brackets trimmed).
    static func parse(_ url: String) throws -> String {
        func invalid(_ why: String) -> HookError { .invalid(field: "url", message: why) }
        guard url.count <= 2000 else { throw invalid("at most 2000 characters") }
        guard !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
            throw invalid("no spaces or control characters")
        }
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased() else { throw invalid("'\(url)' is not a URL") }
        guard scheme == "http" || scheme == "https" else { throw invalid("must start with https:// or http://") }
        guard var host = parsed.host, !host.isEmpty else { throw invalid("must name a host") }
        guard parsed.user == nil && parsed.password == nil else {
            throw invalid("must not carry a user name or password (give a token with --token instead)")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host
    }

    /// `scheme://host:port` of a URL, lowercased, the port filled in: where a request goes.
    static func origin(_ url: String) -> String {
        guard let components = URLComponents(string: url) else { return url }
        let scheme = components.scheme?.lowercased() ?? ""
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\((components.host ?? "").lowercased()):\(port)"
    }

    /// The target (chat, room or topic) a preset needs, checked by its service's rules; nil for
    /// the presets that take none.
    static func target(_ text: String?, preset: Hook.Preset) throws -> String? {
        let target = text?.trimmingCharacters(in: .whitespaces) ?? ""
        func invalid(_ why: String) -> HookError { .invalid(field: "target", message: why) }
        guard preset.needsTarget else {
            if !target.isEmpty { throw invalid("a \(preset.rawValue) hook takes no target (only telegram, matrix and ntfy do)") }
            return nil
        }
        switch preset {
        case .telegram:
            let digits = target.hasPrefix("-") ? target.dropFirst() : target[...]
            let isID = !digits.isEmpty && digits.count <= 20 && digits.allSatisfy { $0.isASCII && $0.isNumber }
            let isName = target.hasPrefix("@") && (2...65).contains(target.count) && target.dropFirst().allSatisfy(isWordCharacter)
            guard isID || isName else { throw invalid("give the Telegram chat id (a number such as -1001234567890) or @channelname") }
        case .matrix:
            // The send endpoint takes a room id only; an alias would fail at every delivery.
            let isRoom = target.hasPrefix("!") && target.contains(":") && target.count <= 255
                && target.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
            guard isRoom else { throw invalid("give the Matrix room id (!abc123:example.org, under the room's settings, Advanced), not an alias") }
        case .ntfy:
            guard (1...64).contains(target.count), target.allSatisfy({ isWordCharacter($0) || $0 == "-" }) else {
                throw invalid("give the ntfy topic: 1 to 64 letters, digits, '_' or '-'")
            }
        case .webhook, .slack, .mattermost, .discord:
            break
        }
        return target
    }

    /// A bot or access token: required for Telegram and Matrix, optional for ntfy, refused for
    /// the others (their URL is the credential, or a webhook makes its own secret).
    static func token(_ text: String?, preset: Hook.Preset) throws -> String? {
        let token = text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        func invalid(_ why: String) -> HookError { .invalid(field: "token", message: why) }
        if token.isEmpty {
            if preset.needsToken {
                throw invalid("a \(preset.rawValue) hook needs a token (\(preset == .telegram ? "the bot token" : "an access token"))")
            }
            return nil
        }
        guard preset.needsToken || preset == .ntfy else {
            throw invalid(preset == .webhook
                ? "a webhook signs with a secret Margin makes (rotate it with rotate_secret)"
                : "a \(preset.rawValue) hook takes no token: its URL carries the credential")
        }
        guard token.count <= 1000, token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw invalid("at most 1000 printable ASCII characters, no spaces")
        }
        // The bot token is part of the request's path.
        if preset == .telegram, !token.allSatisfy({ isWordCharacter($0) || $0 == ":" || $0 == "-" }) {
            throw invalid("a Telegram bot token looks like 123456:ABC-DEF1234ghIkl")
        }
        return token
    }

    /// The name given, or the preset and host; at most 100 characters.
    static func name(_ text: String?, preset: Hook.Preset, host: String) throws -> String {
        let name = HookText.folded(text ?? "")
        guard !name.isEmpty else { return "\(preset.rawValue) \(host)" }
        guard name.count <= 100 else { throw HookError.invalid(field: "name", message: "at most 100 characters") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw HookError.invalid(field: "name", message: "no control characters")
        }
        return name
    }

    /// At least one event, each once.
    static func events(_ events: [HookEventType]) throws -> [HookEventType] {
        var unique: [HookEventType] = []
        for event in events where !unique.contains(event) { unique.append(event) }
        guard !unique.isEmpty else { throw HookError.invalid(field: "events", message: "name at least one event") }
        return unique
    }

    /// Refuses a destination on a loopback, private, link-local or metadata address (checked
    /// again at every attempt). A name that does not resolve now is accepted.
    static func destination(host: String, allowPrivate: Bool) async throws {
        guard !allowPrivate else { return }
        do {
            _ = try await DestinationGuard.vet(host: host, allowPrivate: false)
        } catch is DestinationGuard.Unresolved {
            return
        }
    }

    private static func isWordCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "_")
    }
}
