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
    /// `text` without control characters (C0, DEL and C1; tab and newline stay), so a receiver's
    /// answer cannot drive the terminal that prints it, cut to at most `responseLimit` bytes of
    /// UTF-8, never inside a character.
    static func keptResponse(_ text: String?) -> String? {
        guard let text else { return nil }
        let bytes = Array(String(text.unicodeScalars.filter(Self.isKept)).utf8)
        guard bytes.count > responseLimit else { return String(decoding: bytes, as: UTF8.self) }
        var end = responseLimit
        // Back off the continuation bytes (10xxxxxx) of a character the limit cuts.
        while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// Whether a character of an answer is kept: not a control character other than tab and newline.
    private static func isKept(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A: true
        case 0x00...0x1F, 0x7F...0x9F: false
        default: true
        }
    }
}
