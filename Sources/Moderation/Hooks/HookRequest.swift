/// One HTTP request a delivery attempt makes, as a preset shaped it.
public struct HookRequest: Sendable, Equatable {
    /// One header line.
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    /// `POST`, or `PUT` (Matrix).
    public var method: String
    /// The full URL (a Telegram one carries the bot token: never log it).
    public var url: String
    public var headers: [Header]
    public var body: [UInt8]

    init(method: String = "POST", url: String, headers: [(String, String)] = [], body: [UInt8]) {
        self.method = method
        self.url = url
        self.headers = [Header(name: "content-type", value: "application/json")] + headers.map { Header(name: $0.0, value: $0.1) }
        self.body = body
    }

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

