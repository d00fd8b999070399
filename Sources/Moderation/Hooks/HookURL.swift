import Foundation

/// URL pieces the presets put together.
enum HookURL {
    /// `base` (without its trailing `/`) followed by `path`.
    static func joined(_ base: String, _ path: String) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }

    /// One path segment, percent-encoded except for unreserved characters (`!room:example.org`
    /// → `%21room%3Aexample.org`).
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? text
    }
}
