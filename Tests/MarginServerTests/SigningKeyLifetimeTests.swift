import Comments
import Foundation
import Moderation
import Testing

/// Signing keys end: a retired key verifies only while a link it signed can still be current
/// (`mail.link_days` after its retirement), against the real server on a real SQLite file.
@Suite struct SigningKeyLifetimeTests {
    /// A link for `action` on comment `id`, signed now by the store's current key, expiring
    /// `days` from now (a leaked key can sign any expiry; `margin moderate link --days` too).
    static func link(_ server: TestServer, _ id: Int64, _ action: String, days: Int64) async throws -> String {
        let signer = LinkSigner(keys: try await server.store.signingKeys())
        let now = server.clock.nowMillis()
        let link = try #require(signer.sign(site: "default", commentID: id, action: action, expiresAt: now + days * 86_400_000,
                                            nonce: LinkSigner.makeNonce(random: SystemRandom())))
        return link.pathAndQuery
    }

    /// Given a link signed by a key that was then rotated out, when a link lifetime
    /// (`mail.link_days`, 3 here) has passed since the rotation, then the link is refused (403)
    /// though it claims a later expiry; until then it works, and a link of the new key works.
    @Test func aRetiredKeyStopsVerifyingOnceItsLinksHaveExpired() async throws {
        try await TestServer.with(configure: { $0.linkLifetimeDays = 3 }) { server in
            let comment = try await server.publish("moderate me", uri: "/keys/")
            // Signed for 30 days (as a leaked key could), then the key is rotated out.
            let old = try await Self.link(server, comment.id, "reject", days: 30)
            server.clock.advance(seconds: 3600)
            try await server.store.addSigningKey(LinkSigner.makeKey(random: SystemRandom(), at: server.clock.nowMillis()))
            // Within a link lifetime of the rotation: still verified.
            server.clock.advance(seconds: 3 * 86_400 - 60)
            #expect(try await server.client.get(old).status == 200)
            let fresh = try await Self.link(server, comment.id, "delete", days: 3)
            // Past it: the retired key verifies nothing, whatever expiry its links claim.
            server.clock.advance(seconds: 120)
            #expect(try await server.client.get(old).status == 403)
            #expect(try await server.client.send("POST", old).status == 403)
            #expect(try await server.store.comment(id: comment.id)?.status == .approved)
            #expect(try await server.client.get(fresh).status == 200, "the current key's links work")
        }
    }

    /// Given an unsubscribe link (they live two years, so old mail can always stop mail) signed by
    /// a key that was then rotated out, when far more than a moderation link's lifetime has
    /// passed, then the link still works: a rotation does not strand readers.
    @Test func unsubscribeLinksOutliveTheKeysRotation() async throws {
        try await TestServer.with(configure: { $0.linkLifetimeDays = 3 }) { server in
            let comment = try await server.publish("tell me of replies", uri: "/unsubscribe-later/")
            let unsubscribe = try await Self.link(server, comment.id, "unsubscribe", days: 730)
            let moderation = try await Self.link(server, comment.id, "reject", days: 90)
            try await server.store.addSigningKey(LinkSigner.makeKey(random: SystemRandom(), at: server.clock.nowMillis()))
            server.clock.advance(seconds: 60 * 86_400)
            #expect(try await server.client.get(unsubscribe).status == 200)
            #expect(try await server.client.get(moderation).status == 403, "other links of the old key are dead")
        }
    }

    /// Given a key revoked by deleting its row (what `margin keys revoke` does), then its links
    /// answer 403 at once, on the next request, with no restart.
    @Test func aRevokedKeyIsRefusedAtOnce() async throws {
        try await TestServer.with { server in
            let comment = try await server.publish("moderate me too", uri: "/revoked/")
            let signed = try await Self.link(server, comment.id, "reject", days: 7)
            #expect(try await server.client.get(signed).status == 200)
            let kid = try #require(try await server.store.signingKeys().last?.id)
            try await server.store.addSigningKey(LinkSigner.makeKey(random: SystemRandom(), at: server.clock.nowMillis()))
            #expect(try await server.store.removeSigningKey(id: kid))
            #expect(try await server.store.removeSigningKey(id: kid) == false)
            #expect(try await server.client.get(signed).status == 403)
            #expect(try await server.client.send("POST", signed).status == 403)
            #expect(try await server.store.comment(id: comment.id)?.status == .approved)
        }
    }
}
