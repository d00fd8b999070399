// How both stores write and read the columns of `hooks` and `hook_deliveries` alike.
extension Hook {
    /// `hooks.events`: the raw names joined by commas with one at each end
    /// (`,comment.held,comment.spam,`), so that `LIKE '%,comment.held,%'` finds the hooks that
    /// hear an event.
    static func storedEvents(_ events: [HookEventType]) -> String {
        "," + events.map(\.rawValue).joined(separator: ",") + ","
    }

    /// What `storedEvents` wrote; names this version does not know are left out.
    static func events(stored: String) -> [HookEventType] {
        stored.split(separator: ",").compactMap { HookEventType(rawValue: String($0)) }
    }

    /// The `LIKE` pattern of the hooks that hear `type`.
    static func hearingPattern(_ type: HookEventType) -> String {
        "%," + type.rawValue + ",%"
    }
}

extension HookDelivery {
    /// `text` cut to at most `responseLimit` bytes of UTF-8, never inside a character.
    static func keptResponse(_ text: String?) -> String? {
        guard let text else { return nil }
        let bytes = Array(text.utf8)
        guard bytes.count > responseLimit else { return text }
        var end = responseLimit
        // Back off the continuation bytes (10xxxxxx) of a character the limit cuts.
        while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
