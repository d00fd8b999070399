import Comments
import Testing
@testable import Moderation

/// Moderation links: every way a link can be wrong.
@Suite struct LinkSignerTests {
    /// Bytes whose base64url text is all `-` (0xFB 0xEF 0xBE…): the worst case for a key id.
    struct Dashes: RandomSource {
        func bytes(_ count: Int) -> [UInt8] { (0..<count).map { [0xFB, 0xEF, 0xBE][$0 % 3] } }
    }

    @Test func aKeyIdNeverBeginsWithADashThatTheCLIWouldReadAsAnOption() {
        let key = LinkSigner.makeKey(random: Dashes(), at: 0)
        #expect(!key.id.contains("-") && key.id.count == 8, "\(key.id)")
    }

    let now: Int64 = 1_790_000_000_000
    let key = SigningKey(id: "k1", secret: Array(repeating: 1, count: 32), createdAt: 0)

    func signed(_ signer: LinkSigner) throws -> SignedLink {
        try #require(signer.sign(site: "blog", commentID: 42, action: "approve", expiresAt: now + 1000, nonce: "nonce-0123456789abcdef"))
    }

    @Test func aFreshLinkVerifies() throws {
        let signer = LinkSigner(keys: [key])
        let link = try signed(signer)
        #expect(link.keyID == "k1")
        #expect(signer.verify(link, now: now) == .success(()))
        #expect(link.pathAndQuery.hasPrefix("/moderate/42/approve?site=blog&exp="))
    }

    @Test func tamperingWithAnyFieldIsRefused() throws {
        let signer = LinkSigner(keys: [key])
        let link = try signed(signer)
        var variants: [SignedLink] = []
        var copy = link; copy.site = "other"; variants.append(copy)
        copy = link; copy.commentID = 43; variants.append(copy)
        copy = link; copy.action = "spam"; variants.append(copy)
        copy = link; copy.expiresAt += 86_400_000; variants.append(copy)
        copy = link; copy.nonce = "nonce-0123456789abcdeX"; variants.append(copy)
        copy = link; copy.keyID = "k2"; variants.append(copy)
        copy = link; copy.signature = String(link.signature.reversed()); variants.append(copy)
        copy = link; copy.signature = ""; variants.append(copy)
        copy = link; copy.nonce = "short"; variants.append(copy)
        for variant in variants {
            #expect(signer.verify(variant, now: now) == .failure(.invalid), "\(variant)")
        }
    }

    @Test func aLinkFromAnotherKeyIsRefused() throws {
        let other = LinkSigner(keys: [SigningKey(id: "k1", secret: Array(repeating: 2, count: 32), createdAt: 0)])
        #expect(LinkSigner(keys: [key]).verify(try signed(other), now: now) == .failure(.invalid))
    }

    @Test func expiredLinksAreGone() throws {
        let signer = LinkSigner(keys: [key])
        #expect(signer.verify(try signed(signer), now: now + 1001) == .failure(.expired))
    }

    @Test func rotationSignsWithTheNewKeyAndStillVerifiesOldLinks() throws {
        let old = LinkSigner(keys: [key])
        let oldLink = try signed(old)
        var retired = key
        retired.retiredAt = 10
        let rotated = LinkSigner(keys: [retired, SigningKey(id: "k2", secret: Array(repeating: 3, count: 32), createdAt: 10)])
        #expect(rotated.currentKey?.id == "k2")
        #expect(try signed(rotated).keyID == "k2")
        #expect(rotated.verify(oldLink, now: now) == .success(()))
        // Once the old key is gone from the store, its links stop working.
        #expect(LinkSigner(keys: [rotated.keys[1]]).verify(oldLink, now: now) == .failure(.invalid))
    }
}

extension Result where Success == Void, Failure == LinkRejection {
    static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.success, .success): true
        case (.failure(let a), .failure(let b)): a == b
        default: false
        }
    }
}
