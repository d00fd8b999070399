import Comments
import Foundation
import Logging

/// Delivers the outbox in the background: due mail is sent, failures are retried with
/// exponential backoff (1 min doubling to 1 h, for up to 2 days), permanent refusals are kept
/// as failed. Nothing is lost while the SMTP server is down.
public struct OutboxSender: Sendable {
    public let store: any CommentStore
    public let transport: any MailTransport
    public let settings: MailSettings
    public let clock: any MarginClock
    public let logger: Logger
    /// How often to look for due mail.
    public let pollInterval: Duration

    static let firstRetryMillis: Int64 = 60_000
    static let maximumRetryMillis: Int64 = 3_600_000
    static let giveUpAfterMillis: Int64 = 2 * 86_400_000

    public init(store: any CommentStore, transport: any MailTransport, settings: MailSettings, clock: any MarginClock,
                logger: Logger, pollInterval: Duration = .seconds(2)) {
        self.store = store
        self.transport = transport
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.pollInterval = pollInterval
    }

    /// Sends what is due now; returns how many were delivered.
    @discardableResult
    public func deliverDue(stopping: @Sendable () -> Bool = { false }) async throws -> Int {
        var delivered = 0
        for mail in try await store.dueMail(now: clock.nowMillis(), limit: 50) {
            if Task.isCancelled || stopping() { break }
            do {
                try await transport.send(message(for: mail))
                try await store.markSent(mailID: mail.id, at: clock.nowMillis())
                delivered += 1
            } catch {
                let now = clock.nowMillis()
                let permanent = (error as? MailError)?.isPermanent ?? false
                let backoff = min(Self.maximumRetryMillis, Self.firstRetryMillis << min(Int64(mail.attempts), 10))
                let giveUp = permanent || now + backoff - mail.createdAt > Self.giveUpAfterMillis
                // The error quotes recipients; the log gets it without their addresses.
                logger.warning("mail \(mail.id) not delivered", metadata: [
                    "error": "\(Redaction.emailAddresses(in: "\(error)"))", "retry": "\(!giveUp)",
                ])
                try await store.markFailed(mailID: mail.id, error: "\(error)", at: now, retryAt: giveUp ? nil : now + backoff)
            }
        }
        return delivered
    }

    /// Delivers until cancelled or `stopping()` turns true, polling every `pollInterval`. A mail
    /// being sent when asked to stop is finished and its state written, so none is sent twice.
    public func run(stopping: @escaping @Sendable () -> Bool = { false }) async {
        while !Task.isCancelled && !stopping() {
            do {
                try await deliverDue(stopping: stopping)
            } catch {
                logger.error("outbox check failed", metadata: ["error": "\(Redaction.emailAddresses(in: "\(error)"))"])
            }
            var waited: Duration = .zero
            while waited < pollInterval && !stopping() && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
                waited += .milliseconds(50)
            }
        }
    }

    func message(for mail: OutgoingMail) -> MailMessage {
        MailMessage(
            from: settings.from, to: mail.recipients, subject: mail.subject, body: mail.body,
            headers: mail.headers.compactMap { $0.count == 2 ? (name: $0[0], value: $0[1]) : nil },
            messageID: mail.messageID, date: mail.createdAt)
    }
}
