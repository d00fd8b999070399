/// How one request ended: the answer's status and the start of its body, or why none came.
struct HookResponse: Sendable, Equatable {
    var status: Int?
    /// The start of the body, at most `HookDelivery.responseLimit` bytes, cut on a character.
    var body: String?
    /// Why it failed; nil for a 2xx answer.
    var error: String?
    /// `Retry-After` in seconds, when the answer had one.
    var retryAfterSeconds: Int64?

    static func failure(_ error: String) -> HookResponse { HookResponse(status: nil, body: nil, error: error) }
}
