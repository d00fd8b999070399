/// Per-site limits on how fast one client may post: e.g. 3 a minute and 20 an hour.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    /// One bucket: `count` comments per `seconds`.
    public struct Window: Sendable, Equatable {
        public var count: Int
        public var seconds: Int

        public init(count: Int, seconds: Int) {
            self.count = count
            self.seconds = seconds
        }
    }

    public var windows: [Window]

    public init(windows: [Window]) { self.windows = windows }

    /// 3 a minute, 20 an hour.
    public static let standard = RateLimit(windows: [Window(count: 3, seconds: 60), Window(count: 20, seconds: 3600)])
    /// No limit (imports, load tests).
    public static let off = RateLimit(windows: [])

    /// Parses `off` or a list like `3/min,20/h` (units s, sec, min, m, h, hour, d, day).
    public init?(parsing text: String) {
        let trimmed = text.trimmingASCIIWhitespace().lowercased()
        if trimmed == "off" || trimmed == "none" {
            windows = []
            return
        }
        var windows: [Window] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/")
            guard pieces.count == 2, let count = Int(String(pieces[0]).trimmingASCIIWhitespace()), count > 0 else { return nil }
            let unit = String(pieces[1]).trimmingASCIIWhitespace()
            let seconds: Int
            switch unit {
            case "s", "sec", "second": seconds = 1
            case "m", "min", "minute": seconds = 60
            case "h", "hour": seconds = 3600
            case "d", "day": seconds = 86_400
            default: return nil
            }
            windows.append(Window(count: count, seconds: seconds))
        }
        guard !windows.isEmpty else { return nil }
        self.windows = windows
    }

    /// The text form `init(parsing:)` reads back.
    public var description: String {
        if windows.isEmpty { return "off" }
        return windows.map { window in
            let unit = switch window.seconds {
            case 86_400: "day"
            case 3600: "h"
            case 60: "min"
            default: "s"
            }
            return "\(window.count)/\(unit)"
        }.joined(separator: ",")
    }
}
