/// Delivers mail. A protocol because mail is a true outside effect: tests and the outbox can put
/// a recording transport in its place.
public protocol MailTransport: Sendable {
    /// Hands `message` to the mail system; returns once it was accepted, throws `MailError`
    /// (or `CancellationError`) otherwise.
    func send(_ message: MailMessage) async throws
}

/// Why a send failed. `isPermanent` tells the outbox whether to retry: it is true for a 5xx reply
/// and for a message or setting this client refuses to send (an invalid address, credentials over
/// an unencrypted connection); false for 4xx replies, connection and TLS failures, timeouts and
/// protocol errors.
public struct MailError: Error, Sendable, CustomStringConvertible {
    /// Whether retrying the same message is pointless.
    public var isPermanent: Bool
    /// What went wrong, for logs; never holds credentials.
    public var description: String

    /// An error with the given kind and description.
    public init(isPermanent: Bool, description: String) {
        self.isPermanent = isPermanent
        self.description = description
    }

    /// A failure worth retrying.
    static func transient(_ description: String) -> MailError {
        MailError(isPermanent: false, description: description)
    }

    /// A failure not worth retrying.
    static func permanent(_ description: String) -> MailError {
        MailError(isPermanent: true, description: description)
    }
}
