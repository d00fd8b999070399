import Foundation
import Testing
@testable import Comments

/// The site-scoped blocklist on every store: an entry applies to one site or to every site, one
/// per kind, value and site, and a comment is screened against its own site's and the global ones.
extension StoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func blocklistEntriesBelongToASiteOrToEverySite(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            try await store.addSite(Site(id: "news", name: "News", origins: [], createdAt: 1))
            try await store.addBlock(BlockEntry(kind: .word, value: "casino", reason: "everywhere", createdAt: 1))
            try await store.addBlock(BlockEntry(kind: .word, value: "casino", reason: "on the blog", createdAt: 2, siteID: "blog"))
            try await store.addBlock(BlockEntry(kind: .word, value: "poker", createdAt: 3, siteID: "news"))
            // The same kind, value and site again replaces the reason only.
            try await store.addBlock(BlockEntry(kind: .word, value: "casino", reason: "blog, again", createdAt: 4, siteID: "blog"))
            try await store.addBlock(BlockEntry(kind: .word, value: "casino", reason: "everywhere, again", createdAt: 5))
            await #expect(throws: CommentsError.siteNotFound("ghost")) {
                try await store.addBlock(BlockEntry(kind: .word, value: "casino", createdAt: 6, siteID: "ghost"))
            }
            #expect(try await store.blocklist() == [
                BlockEntry(kind: .word, value: "casino", reason: "everywhere, again", createdAt: 1),
                BlockEntry(kind: .word, value: "casino", reason: "blog, again", createdAt: 2, siteID: "blog"),
                BlockEntry(kind: .word, value: "poker", createdAt: 3, siteID: "news"),
            ])

            let query = ScreeningQuery(body: "anything", since: 0, excluding: nil, features: [])
            #expect(try await store.screeningFacts(siteID: "blog", query: query).blocklist.map { "\($0.value) \($0.siteID ?? "all")" }
                == ["casino all", "casino blog"])
            #expect(try await store.screeningFacts(siteID: "news", query: query).blocklist.map { "\($0.value) \($0.siteID ?? "all")" }
                == ["casino all", "poker news"])

            #expect(try await !store.removeBlock(kind: .word, value: "poker", siteID: nil), "no global entry")
            #expect(try await !store.removeBlock(kind: .word, value: "poker", siteID: "blog"), "not the blog's")
            #expect(try await store.removeBlock(kind: .word, value: "casino", siteID: nil))
            #expect(try await store.blocklist().map { "\($0.value) \($0.siteID ?? "all")" } == ["casino blog", "poker news"])
            #expect(try await store.screeningFacts(siteID: "news", query: query).blocklist.map(\.value) == ["poker"])
            #expect(try await store.removeBlock(kind: .word, value: "poker", siteID: "news"))
            #expect(try await !store.removeBlock(kind: .word, value: "poker", siteID: "news"))

            // A site's entries go with the site.
            _ = try await store.removeSite(id: "blog", force: true)
            #expect(try await store.blocklist().isEmpty)
        }
    }
}
