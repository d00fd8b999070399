import Comments
import Foundation
import Logging
import Testing
@testable import Moderation

/// Managing hooks through the registry the CLI and the API share, on a real (in-memory SQLite)
/// store: what is checked, what is filled in, what is shown once, and test events.
@Suite struct HookRegistryTests {
    static func registry() async throws -> HookRegistry {
        let store = try SQLiteStore()
        try await store.addSite(HookSamples.site)
        let sender = HookSenderTimingTests.sender(store)
        return HookRegistry(store: store, sender: sender, clock: SystemClock(), random: SystemRandom())
    }

    @Test func aWebhookGetsItsSecretInClearOnceAndDefaultsForNameAndEvents() async throws {
        let registry = try await Self.registry()
        let hook = try await registry.add(HookInput(preset: .webhook, url: "https://93.184.215.14/in"))
        #expect(hook.id > 0 && hook.name == "webhook 93.184.215.14" && hook.events == HookEventType.allCases)
        let secret = try #require(hook.secret)
        #expect(secret.hasPrefix("whsec_") && secret.count > 40)
        #expect(hook.maskedSecret == "whsec_…" + secret.suffix(4))
        let stored = try await registry.hook(id: hook.id)
        #expect(stored.secret == secret && !stored.trusted && !stored.allowPrivate && stored.enabled)
        let chat = try await registry.add(HookInput(name: "  team   chat ", siteID: "blog", preset: .slack, url: "https://93.184.215.14/services/T/B/X"))
        #expect(chat.name == "team chat" && chat.events == [.published, .held] && chat.secret == nil && chat.siteID == "blog")
        #expect(chat.maskedURL == "https://93.184.215.14/…")
        #expect(try await registry.list(siteID: "blog").map(\.id) == [hook.id, chat.id])
    }

    static let refusals: [(HookInput, String)] = [
        (HookInput(preset: .slack), "url"),
        (HookInput(preset: .webhook, url: "ftp://93.184.215.14/x"), "url"),
        (HookInput(preset: .webhook, url: "https://user:pw@93.184.215.14/x"), "url"),
        (HookInput(preset: .webhook, url: "not a url"), "url"),
        (HookInput(preset: .webhook, url: "https:///path"), "url"),
        (HookInput(preset: .telegram, token: "1:A"), "target"),
        (HookInput(preset: .telegram, target: "chat name", token: "1:A"), "target"),
        (HookInput(preset: .telegram, target: "-100123"), "token"),
        (HookInput(preset: .telegram, target: "-100123", token: "1:A/../x"), "token"),
        (HookInput(preset: .matrix, url: "https://93.184.215.14", target: "room", token: "t"), "target"),
        (HookInput(preset: .matrix, url: "https://93.184.215.14", target: "!room:example.org"), "token"),
        // An alias: the send endpoint would refuse it at every delivery.
        (HookInput(preset: .matrix, url: "https://93.184.215.14", target: "#room:example.org", token: "t"), "target"),
        (HookInput(preset: .ntfy, target: "no/slash"), "target"),
        (HookInput(preset: .ntfy, target: String(repeating: "a", count: 65)), "target"),
        (HookInput(preset: .slack, url: "https://93.184.215.14/x", target: "chan"), "target"),
        (HookInput(preset: .webhook, url: "https://93.184.215.14/x", token: "mine"), "token"),
        (HookInput(name: String(repeating: "n", count: 101), preset: .webhook, url: "https://93.184.215.14/x"), "name"),
        (HookInput(preset: .webhook, url: "https://93.184.215.14/x", events: []), "events"),
        // A preset appends its path to the base URL: a query or fragment would swallow it.
        (HookInput(preset: .telegram, url: "https://93.184.215.14/?x=1", target: "-100123", token: "1:A"), "url"),
        (HookInput(preset: .matrix, url: "https://93.184.215.14#frag", target: "!room:example.org", token: "t"), "url"),
        (HookInput(preset: .ntfy, url: "https://93.184.215.14/?", target: "alerts"), "url"),
    ]

    @Test(arguments: refusals)
    func whatIsMissingOrMalformedIsRefusedNamingItsField(input: HookInput, field: String) async throws {
        let registry = try await Self.registry()
        do {
            _ = try await registry.add(input)
            Issue.record("accepted")
        } catch let HookError.invalid(refusedField, message) {
            #expect(refusedField == field, "\(message)")
        }
        #expect(try await registry.list(siteID: nil).isEmpty)
    }

    @Test func anUnknownSiteIsNotFound() async throws {
        let registry = try await Self.registry()
        await #expect(throws: CommentsError.siteNotFound("nope")) {
            try await registry.add(HookInput(siteID: "nope", preset: .webhook, url: "https://93.184.215.14/x"))
        }
    }

    @Test(arguments: ["http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://169.254.169.254/latest", "http://[::1]/x", "http://localhost/x"])
    func privateDestinationsAreRefusedByNameUnlessAllowed(url: String) async throws {
        let registry = try await Self.registry()
        do {
            _ = try await registry.add(HookInput(preset: .webhook, url: url))
            Issue.record("accepted \(url)")
        } catch let HookError.destinationRefused(message) {
            #expect(message.contains(" is a") || message.contains(" resolves to "), "\(message)")
            #expect(message.contains("--allow-private"))
        }
        let allowed = try await registry.add(HookInput(preset: .webhook, url: url, allowPrivate: true))
        #expect(allowed.allowPrivate)
    }

    @Test func aNameThatDoesNotResolveYetIsAccepted() async throws {
        let registry = try await Self.registry()
        #expect(try await registry.add(HookInput(preset: .webhook, url: "https://hooks.example.invalid/x")).id > 0)
    }

    @Test func updatesAreCheckedLikeAddsAndRotationShowsTheNewSecretOnce() async throws {
        let registry = try await Self.registry()
        let hook = try await registry.add(HookInput(preset: .webhook, url: "https://93.184.215.14/x"))
        let (rotated, secret) = try await registry.update(id: hook.id, HookChanges(rotateSecret: true))
        #expect(secret != nil && secret != hook.secret && rotated.secret == secret)
        let (moved, none) = try await registry.update(id: hook.id, HookChanges(siteID: .some("blog"), events: [.held], enabled: false))
        #expect(none == nil && moved.siteID == "blog" && moved.events == [.held] && !moved.enabled && moved.secret == secret)
        #expect(try await registry.update(id: hook.id, HookChanges(siteID: .some(nil))).hook.siteID == nil)
        await #expect(throws: HookError.self) { try await registry.update(id: hook.id, HookChanges(url: "http://127.0.0.1/x")) }
        await #expect(throws: HookError.self) { try await registry.update(id: hook.id, HookChanges(token: "t")) }
        await #expect(throws: HookError.self) { try await registry.update(id: hook.id, HookChanges(events: [])) }
        await #expect(throws: CommentsError.hookNotFound(999)) { try await registry.update(id: 999, HookChanges(enabled: true)) }
        let chat = try await registry.add(HookInput(preset: .slack, url: "https://93.184.215.14/s"))
        await #expect(throws: HookError.invalid(field: "rotate_secret", message: "only a webhook has a signing secret to rotate")) {
            try await registry.update(id: chat.id, HookChanges(rotateSecret: true))
        }
        // Taking away allow-private checks the destination again.
        let local = try await registry.add(HookInput(preset: .webhook, url: "http://127.0.0.1:9/x", allowPrivate: true))
        await #expect(throws: HookError.self) { try await registry.update(id: local.id, HookChanges(allowPrivate: false)) }
        #expect(try await registry.hook(id: local.id).allowPrivate)
    }

    @Test func aTokenIsNotCarriedToAnotherHostUnlessGivenAgain() async throws {
        let registry = try await Self.registry()
        let matrix = try await registry.add(HookInput(preset: .matrix, url: "https://93.184.215.14", target: "!room:example.org", token: "syt_old"))
        for url in ["https://93.184.215.15", "http://93.184.215.14", "https://93.184.215.14:8448"] {
            await #expect(throws: HookError.invalid(field: "token", message: "give the token again when the URL moves to another host"), "\(url)") {
                try await registry.update(id: matrix.id, HookChanges(url: url))
            }
        }
        #expect(try await registry.hook(id: matrix.id).url == "https://93.184.215.14")
        // The same host (another path, the default port spelled out) keeps the token.
        #expect(try await registry.update(id: matrix.id, HookChanges(url: "https://93.184.215.14:443/base")).hook.secret == "syt_old")
        let moved = try await registry.update(id: matrix.id, HookChanges(url: "https://93.184.215.15", token: "syt_new")).hook
        #expect(moved.url == "https://93.184.215.15" && moved.secret == "syt_new")
        // An ntfy hook with a token needs it again too; one without has none to carry.
        let ntfy = try await registry.add(HookInput(preset: .ntfy, url: "https://93.184.215.14", target: "alerts", token: "tk_x"))
        await #expect(throws: HookError.self) { try await registry.update(id: ntfy.id, HookChanges(url: "https://93.184.215.15")) }
        #expect(try await registry.update(id: ntfy.id, HookChanges(url: "https://93.184.215.15", token: "")).hook.secret == nil)
        let open = try await registry.add(HookInput(preset: .ntfy, url: "https://93.184.215.14", target: "alerts"))
        #expect(try await registry.update(id: open.id, HookChanges(url: "https://93.184.215.15")).hook.url == "https://93.184.215.15")
        // A webhook's secret is Margin's own, made for the receiver whatever its address.
        let webhook = try await registry.add(HookInput(preset: .webhook, url: "https://93.184.215.14/in"))
        #expect(try await registry.update(id: webhook.id, HookChanges(url: "https://93.184.215.15/in")).hook.secret == webhook.secret)
    }

    @Test func thereAreAtMostAHundredHooks() async throws {
        let registry = try await Self.registry()
        for index in 0..<HookRegistry.limit {
            _ = try await registry.add(HookInput(name: "h\(index)", preset: .webhook, url: "https://93.184.215.14/\(index)"))
        }
        await #expect(throws: HookError.invalid(field: "hooks", message: "at most 100 hooks; remove one first")) {
            try await registry.add(HookInput(preset: .webhook, url: "https://93.184.215.14/more"))
        }
        #expect(try await registry.list(siteID: nil).count == 100)
        let first = try #require(try await registry.list(siteID: nil).first)
        #expect(try await registry.remove(id: first.id))
        #expect(try await registry.add(HookInput(preset: .webhook, url: "https://93.184.215.14/more")).id > 0)
    }

    @Test func aTestEventIsSentNowAndKeptAsAnAttemptedDelivery() async throws {
        let listener = try await HookListener.started(.init(status: 200, body: Array("thanks".utf8)))
        defer { Task { await listener.close() } }
        let registry = try await Self.registry()
        let hook = try await registry.add(HookInput(preset: .webhook, url: listener.url + "/hook", allowPrivate: true))
        let delivery = try await registry.test(id: hook.id)
        #expect(delivery.state == .delivered && delivery.attempts == 1 && delivery.lastStatus == 200 && delivery.lastResponse == "thanks")
        #expect(delivery.type == .held && delivery.commentID == nil && delivery.eventID.hasPrefix("msg_"))
        let received = try #require(listener.requests.first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(received.body)) as? [String: Any])
        #expect(body["type"] as? String == "comment.held")
        #expect((body["data"] as? [String: Any])?["links"] is NSNull)
        #expect(try await registry.deliveries(hookID: hook.id, limit: 10).map(\.id) == [delivery.id])
        listener.answer(.init(status: 500))
        let failed = try await registry.test(id: hook.id)
        #expect(failed.state == .failed && failed.lastStatus == 500 && failed.lastError == "HTTP 500")
        #expect(try await registry.retry(deliveryID: failed.id))
        #expect(try await !registry.retry(deliveryID: delivery.id))
        await #expect(throws: CommentsError.hookNotFound(999)) { try await registry.test(id: 999) }
    }

    @Test func theSenderDeliversQueuedEventsWithLinksSignedByTheStoresKey() async throws {
        let listener = try await HookListener.started()
        defer { Task { await listener.close() } }
        let registry = try await Self.registry()
        try await registry.store.addSigningKey(HookSamples.key)
        let hook = try await registry.add(HookInput(preset: .webhook, url: listener.url, allowPrivate: true))
        let queued = try await registry.store.queueHookDelivery(HookSamples.delivery(hookID: hook.id))
        #expect(try await registry.sender.deliverDue() == 1)
        let received = try #require(listener.requests.first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(received.body)) as? [String: Any])
        let approve = try #require(((body["data"] as? [String: Any])?["links"] as? [String: String])?["approve"])
        let query = Dictionary(uniqueKeysWithValues: (URLComponents(string: approve)?.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        let link = SignedLink(site: query["site"] ?? "", commentID: 42, action: "approve", expiresAt: Int64(query["exp"] ?? "") ?? 0,
                              nonce: query["nonce"] ?? "", keyID: query["kid"] ?? "", signature: query["sig"] ?? "")
        #expect(LinkSigner(keys: [HookSamples.key]).verify(link, now: SystemClock().nowMillis()) == .success(()))
        let stored = try #require(try await registry.deliveries(hookID: hook.id, limit: 5).first { $0.id == queued.id })
        #expect(stored.state == .delivered && stored.attempts == 1)
        #expect(try await registry.sender.deliverDue() == 0)
    }
}
