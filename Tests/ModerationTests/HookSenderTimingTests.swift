import Comments
import Foundation
import Logging
import NIOCore
import Testing
@testable import Moderation

/// One delivery attempt against real listeners on 127.0.0.1: what counts as delivered, what is
/// retried and when, and the limits a receiver cannot stretch (time, redirects, body size).
/// A *TimingTests suite: its time bounds run apart from the parallel suites (scripts/test).
@Suite struct HookSenderTimingTests {
    static func sender(_ store: any CommentStore, timeout: Duration = .seconds(5)) -> HookSender {
        HookSender(store: store, settings: HookSettings(publicURL: "https://comments.example.org", linkLifetimeMillis: 86_400_000, timeout: timeout),
                   clock: SystemClock(), random: SystemRandom(), logger: Logger(label: "test"))
    }

    static func webhook(_ url: String, allowPrivate: Bool = true) -> Hook {
        Hook(id: 1, name: "test", siteID: nil, preset: .webhook, url: url, secret: HookWebhookFormatTests.secret, events: [.held],
             allowPrivate: allowPrivate, createdAt: 0)
    }

    /// A test event (no comment, so no links to sign), made now.
    static func delivery(attempts: Int = 0) -> HookDelivery {
        HookDelivery(id: 1, hookID: 1, eventID: HookEventData.makeEventID(), type: .held, commentID: nil, siteID: "blog",
                     payload: HookSamples.data().json(), createdAt: SystemClock().nowMillis(), attempts: attempts)
    }

    @Test func a2xxAnswerIsDeliveredAndTheReceiverGetsASignedRequest() async throws {
        let listener = try await HookListener.started(.init(status: 204, body: []))
        defer { Task { await listener.close() } }
        let delivery = Self.delivery()
        let attempt = await Self.sender(try SQLiteStore()).attempt(delivery, hook: Self.webhook(listener.url + "/in?x=1"))
        #expect(attempt.error == nil && attempt.status == 204 && attempt.retryAt == nil)
        let request = try #require(listener.requests.first)
        #expect(request.method == "POST" && request.target == "/in?x=1")
        #expect(request.headers["user-agent"] == "Margin-Hooks/1")
        #expect(request.headers["webhook-id"] == delivery.eventID)
        let timestamp = try #require(Int64(request.headers["webhook-timestamp"] ?? ""))
        #expect(abs(timestamp - SystemClock().nowMillis() / 1000) < 30)
        #expect(request.headers["webhook-signature"]
            == HookSignature.sign(secret: HookWebhookFormatTests.secret, id: delivery.eventID, timestamp: timestamp, body: request.body))
    }

    @Test func a500IsRetriedWithTheAnswerKept() async throws {
        let listener = try await HookListener.started(.init(status: 500, body: Array("database down".utf8)))
        defer { Task { await listener.close() } }
        let attempt = await Self.sender(try SQLiteStore()).attempt(Self.delivery(), hook: Self.webhook(listener.url))
        #expect(attempt.status == 500 && attempt.error == "HTTP 500" && attempt.response == "database down")
        let retryAt = try #require(attempt.retryAt)
        #expect(retryAt - attempt.at == 30_000)
    }

    @Test func aRedirectIsNotFollowedAndCountsAsAFailure() async throws {
        let target = try await HookListener.started()
        let listener = try await HookListener.started(.init(status: 302, headers: [("location", target.url + "/elsewhere")]))
        defer { Task { await listener.close(); await target.close() } }
        let attempt = await Self.sender(try SQLiteStore()).attempt(Self.delivery(), hook: Self.webhook(listener.url))
        #expect(attempt.status == 302 && attempt.retryAt != nil)
        #expect(attempt.error?.contains("redirect") == true && attempt.error?.contains("not followed") == true)
        #expect(target.requests.isEmpty)
    }

    @Test func aSlowReceiverIsGivenUpOnAtTheTimeout() async throws {
        let listener = try await HookListener.started(.init(delay: .seconds(5)))
        defer { Task { await listener.close() } }
        let started = ContinuousClock.now
        let attempt = await Self.sender(try SQLiteStore(), timeout: .milliseconds(500)).attempt(Self.delivery(), hook: Self.webhook(listener.url))
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(attempt.status == nil && attempt.error != nil && attempt.retryAt != nil, "\(attempt)")
    }

    @Test func aBodyThatNeverComesAfterTheHeadIsAlsoBoundedByTheTimeout() async throws {
        let listener = try await HookListener.started(.init(body: Array(repeating: 65, count: 100), stallAfterHead: true))
        defer { Task { await listener.close() } }
        let started = ContinuousClock.now
        let attempt = await Self.sender(try SQLiteStore(), timeout: .milliseconds(500)).attempt(Self.delivery(), hook: Self.webhook(listener.url))
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(attempt.error != nil && attempt.retryAt != nil, "\(attempt)")
    }

    @Test func onlyTheStartOfALargeAnswerIsReadAndKept() async throws {
        // 4 MB of "é": two bytes each, so a cut at 4096 bytes could split one.
        let body = Array(String(repeating: "é", count: 2_000_000).utf8)
        let listener = try await HookListener.started(.init(status: 200, body: Array("x".utf8) + body))
        defer { Task { await listener.close() } }
        let started = ContinuousClock.now
        let attempt = await Self.sender(try SQLiteStore()).attempt(Self.delivery(), hook: Self.webhook(listener.url))
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(attempt.error == nil && attempt.status == 200)
        let response = try #require(attempt.response)
        #expect(response.utf8.count <= HookDelivery.responseLimit && response.utf8.count >= HookDelivery.responseLimit - 1)
        #expect(response.hasPrefix("xéé") && !response.contains("\u{FFFD}"))
    }

    @Test func aClosedPortIsAFailedAttemptThatIsRetried() async throws {
        let listener = try await HookListener.started()
        let url = listener.url
        await listener.close()
        let attempt = await Self.sender(try SQLiteStore()).attempt(Self.delivery(), hook: Self.webhook(url))
        #expect(attempt.status == nil && attempt.retryAt != nil)
        #expect(attempt.error?.contains("could not connect to 127.0.0.1") == true, "\(attempt.error ?? "")")
    }

    @Test func aPrivateDestinationIsRefusedAtTheAttemptUnlessTheHookAllowsIt() async throws {
        let listener = try await HookListener.started()
        defer { Task { await listener.close() } }
        let attempt = await Self.sender(try SQLiteStore()).attempt(Self.delivery(), hook: Self.webhook(listener.url, allowPrivate: false))
        #expect(attempt.error?.contains("127.0.0.1 is a loopback address") == true, "\(attempt.error ?? "")")
        #expect(attempt.retryAt != nil && listener.requests.isEmpty)
        // A name is resolved and refused by its address too.
        let named = await Self.sender(try SQLiteStore()).attempt(
            Self.delivery(), hook: Self.webhook("http://localhost:\(listener.port)/", allowPrivate: false))
        #expect(named.error?.hasPrefix("localhost resolves to") == true, "\(named.error ?? "")")
        #expect(listener.requests.isEmpty)
    }

    @Test func aNameIsConnectedToAtTheAddressThatWasVetted() async throws {
        let listener = try await HookListener.started()
        defer { Task { await listener.close() } }
        let attempt = await Self.sender(try SQLiteStore()).attempt(Self.delivery(), hook: Self.webhook("http://localhost:\(listener.port)/named"))
        // localhost may resolve to ::1 first, where nothing listens: the next vetted address is
        // tried, and the request goes there with the name as its Host.
        #expect(attempt.error == nil, "\(attempt.error ?? "")")
        #expect(listener.requests.first?.headers["host"] == "localhost:\(listener.port)")
    }

    @Test func backoffDoublesFromTheFirstRetryUpToTheMaximumAndGivesUpAfterTwoDays() {
        let settings = HookSettings(publicURL: "https://x", linkLifetimeMillis: 1)
        let created: Int64 = 1_000_000
        #expect(HookSender.retryAt(attemptsBefore: 0, createdAt: created, now: created, retryAfterSeconds: nil, settings: settings) == created + 30_000)
        #expect(HookSender.retryAt(attemptsBefore: 1, createdAt: created, now: created, retryAfterSeconds: nil, settings: settings) == created + 60_000)
        #expect(HookSender.retryAt(attemptsBefore: 4, createdAt: created, now: created, retryAfterSeconds: nil, settings: settings) == created + 480_000)
        #expect(HookSender.retryAt(attemptsBefore: 7, createdAt: created, now: created, retryAfterSeconds: nil, settings: settings) == created + 3_600_000)
        #expect(HookSender.retryAt(attemptsBefore: 500, createdAt: created, now: created, retryAfterSeconds: nil, settings: settings) == created + 3_600_000)
        // Retry-After is honoured, capped at the maximum.
        #expect(HookSender.retryAt(attemptsBefore: 0, createdAt: created, now: created, retryAfterSeconds: 120, settings: settings) == created + 120_000)
        #expect(HookSender.retryAt(attemptsBefore: 0, createdAt: created, now: created, retryAfterSeconds: 86_400, settings: settings) == created + 3_600_000)
        #expect(HookSender.retryAt(attemptsBefore: 0, createdAt: created, now: created, retryAfterSeconds: .max, settings: settings) == created + 3_600_000)
        // The next attempt would fall more than two days after the event: failed.
        let late = created + 2 * 86_400_000 - 1_000_000
        #expect(HookSender.retryAt(attemptsBefore: 20, createdAt: created, now: late, retryAfterSeconds: nil, settings: settings) == nil)
        #expect(HookSender.retryAt(attemptsBefore: 20, createdAt: created, now: late - 3_000_000, retryAfterSeconds: nil, settings: settings) != nil)
    }

    @Test func aRetryAfterShorterThanTheBackoffDoesNotHurryTheRetry() {
        let settings = HookSettings(publicURL: "https://x", linkLifetimeMillis: 1)
        let created: Int64 = 1_000_000
        // `Retry-After: 0` on every answer must not turn into a retry every second for two days.
        #expect(HookSender.retryAt(attemptsBefore: 0, createdAt: created, now: created, retryAfterSeconds: 0, settings: settings) == created + 30_000)
        #expect(HookSender.retryAt(attemptsBefore: 4, createdAt: created, now: created, retryAfterSeconds: 0, settings: settings) == created + 480_000)
        #expect(HookSender.retryAt(attemptsBefore: 4, createdAt: created, now: created, retryAfterSeconds: 60, settings: settings) == created + 480_000)
        #expect(HookSender.retryAt(attemptsBefore: 4, createdAt: created, now: created, retryAfterSeconds: -5, settings: settings) == created + 480_000)
    }

    @Test func aHugeFirstRetryWaitsTheMaximumInsteadOfOverflowing() {
        var settings = HookSettings(publicURL: "https://x", linkLifetimeMillis: 1, firstRetryMillis: Int64.max / 3)
        let created: Int64 = 1_000_000
        for attempts in [0, 1, 2, 3, 31, 62, 63, 64, 1000] {
            #expect(HookSender.retryAt(attemptsBefore: attempts, createdAt: created, now: created, retryAfterSeconds: nil, settings: settings)
                == created + 3_600_000, "\(attempts)")
        }
        settings.firstRetryMillis = 3_000_000_000
        #expect(HookSender.retryAt(attemptsBefore: 40, createdAt: created, now: created, retryAfterSeconds: nil, settings: settings) == created + 3_600_000)
    }

    @Test func retryAfterIsReadFromA429() async throws {
        let listener = try await HookListener.started(.init(status: 429, headers: [("retry-after", "90")]))
        defer { Task { await listener.close() } }
        let attempt = await Self.sender(try SQLiteStore()).attempt(Self.delivery(), hook: Self.webhook(listener.url))
        #expect(attempt.status == 429 && attempt.retryAt.map { $0 - attempt.at } == 90_000)
    }

    @Test func aSlowReceiverDoesNotHoldUpTheOthers() async throws {
        let slow = try await HookListener.started(.init(delay: .seconds(3)))
        let fast = try await HookListener.started()
        defer { Task { await slow.close(); await fast.close() } }
        let store = try SQLiteStore()
        try await store.addSite(HookSamples.site)
        for listener in [slow, fast] {
            let hook = try await store.addHook(Hook(name: "h", siteID: nil, preset: .webhook, url: listener.url,
                                                    secret: HookWebhookFormatTests.secret, events: [.held], allowPrivate: true, createdAt: 0))
            var delivery = Self.delivery()
            delivery.hookID = hook.id
            _ = try await store.queueHookDelivery(delivery)
        }
        let sender = Self.sender(store)
        let run = Task { try await sender.deliverDue() }
        let started = ContinuousClock.now
        while fast.requests.isEmpty && ContinuousClock.now - started < .seconds(2) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(fast.requests.count == 1 && ContinuousClock.now - started < .seconds(2))
        #expect(try await run.value == 2)
        #expect(slow.requests.count == 1)
    }
}
