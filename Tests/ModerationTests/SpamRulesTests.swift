import Comments
import Foundation
import Testing
@testable import Moderation

/// Each spam rule alone, and the verdict they add up to.
@Suite struct SpamRulesTests {
    let settings = SpamSettings()
    let now: Int64 = 1_790_000_000_000

    /// An ordinary comment sent through the widget 30 s after the form appeared.
    func ordinary(_ text: String = "Thanks for the write-up, it helped me fix my build.") -> SpamFacts {
        SpamFacts(text: text, author: "Ada", formTimestampSent: true, formRenderedAt: now - 30_000, now: now)
    }

    func hit(_ rule: SpamRule, _ facts: SpamFacts) -> RuleHit? { rule(facts, settings) }

    @Test func anOrdinaryCommentMatchesNoRule() {
        let report = SpamRules.judge(ordinary(), mode: .none, settings: settings)
        #expect(report.hits.isEmpty)
        #expect(report.status == .approved)
    }

    @Test func honeypot() {
        var facts = ordinary()
        facts.honeypot = "http://spam.example"
        #expect(hit(SpamRules.honeypot, facts)?.points == 15)
        #expect(SpamRules.judge(facts, mode: .none, settings: settings).status == .spam)
        facts.honeypot = ""
        #expect(hit(SpamRules.honeypot, facts) == nil)
    }

    @Test func formTiming() {
        var facts = ordinary()
        facts.formRenderedAt = now - 1_000
        #expect(hit(SpamRules.formTiming, facts)?.rule == "too-fast")
        facts.formRenderedAt = now - 3_000
        #expect(hit(SpamRules.formTiming, facts) == nil)
        facts.formRenderedAt = nil
        #expect(hit(SpamRules.formTiming, facts)?.rule == "forged-form-time")
        facts.formRenderedAt = now + 3_600_000
        #expect(hit(SpamRules.formTiming, facts)?.rule == "forged-form-time")
        facts.formTimestampSent = false
        #expect(hit(SpamRules.formTiming, facts)?.rule == "no-form-time")
        facts.isEdit = true
        #expect(hit(SpamRules.formTiming, facts) == nil)
    }

    @Test func linksScoreMoreTheMoreThereAre() {
        var facts = ordinary()
        let points = (0...5).map { count -> Double in
            facts.linkCount = count
            return hit(SpamRules.links, facts)?.points ?? 0
        }
        #expect(points[0] == 0)
        #expect(zip(points, points.dropFirst()).allSatisfy { $0 < $1 })
        facts.linkCount = 5
        #expect(SpamRules.judge(facts, mode: .none, settings: settings).status != .approved)
    }

    @Test func blocklistedThingsAreSpam() {
        var facts = ordinary()
        facts.blocklistHits = [BlockEntry(kind: .word, value: "casino")]
        #expect(hit(SpamRules.blocklisted, facts)?.reason.contains("casino") == true)
        #expect(SpamRules.judge(facts, mode: .none, settings: settings).status == .spam)
        facts.blocklistHits = [BlockEntry(kind: .ip, value: "203.0.113.0/24")]
        #expect(hit(SpamRules.blocklisted, facts) == nil)
    }

    @Test func duplicatesShoutingAndRepetition() {
        var facts = ordinary()
        facts.duplicates = 1
        #expect(hit(SpamRules.duplicate, facts) != nil)
        #expect(hit(SpamRules.shouting, ordinary("BUY CHEAP WATCHES NOW AT OUR STORE TODAY")) != nil)
        #expect(hit(SpamRules.shouting, ordinary("NASA and the ESA")) == nil)
        #expect(hit(SpamRules.shouting, ordinary("좋은 글 감사합니다. 정말 많이 배웠어요. 다음 글도 기대할게요.")) == nil)
        #expect(hit(SpamRules.repetition, ordinary("wow!!!!!!!!!!!!")) != nil)
        #expect(hit(SpamRules.repetition, ordinary("ㅋㅋㅋ 재밌네요")) == nil)
    }

    @Test func oldThreadsAndKnownAuthors() {
        var facts = ordinary()
        facts.threadCreatedAt = now - 400 * 86_400_000
        #expect(hit(SpamRules.oldThread, facts)?.points == 2)
        facts.threadCreatedAt = now - 10 * 86_400_000
        #expect(hit(SpamRules.oldThread, facts) == nil)
        facts.approvedBefore = 1
        #expect((hit(SpamRules.knownAuthor, facts)?.points ?? 0) < 0)
        facts.approvedBefore = 5
        #expect((hit(SpamRules.knownAuthor, facts)?.points ?? 0) < -3)
    }

    @Test func classifierBands() {
        var facts = ordinary()
        facts.spamProbability = nil
        #expect(hit(SpamRules.classifier, facts) == nil)
        facts.spamProbability = 0.5
        #expect(hit(SpamRules.classifier, facts) == nil)
        facts.spamProbability = 0.995
        #expect((hit(SpamRules.classifier, facts)?.points ?? 0) > 5)
        facts.spamProbability = 0.01
        #expect((hit(SpamRules.classifier, facts)?.points ?? 0) < 0)
    }

    @Test func modesDecideAfterTheScore() {
        var facts = ordinary()
        #expect(SpamRules.judge(facts, mode: .none, settings: settings).status == .approved)
        #expect(SpamRules.judge(facts, mode: .auto, settings: settings).status == .approved)
        #expect(SpamRules.judge(facts, mode: .all, settings: settings).status == .pending)
        facts.linkCount = 1
        #expect(SpamRules.judge(facts, mode: .none, settings: settings).status == .approved)
        #expect(SpamRules.judge(facts, mode: .auto, settings: settings).status == .pending)
        facts.approvedBefore = 2
        #expect(SpamRules.judge(facts, mode: .auto, settings: settings).status == .approved)
        facts.honeypot = "x"
        #expect(SpamRules.judge(facts, mode: .all, settings: settings).status == .spam)
    }

    @Test func reasonsAreReadable() {
        var facts = ordinary()
        facts.linkCount = 3
        facts.duplicates = 1
        let report = SpamRules.judge(facts, mode: .none, settings: settings)
        #expect(report.reasons.contains { $0.hasPrefix("+5.0 links: 3 links") })
        #expect(report.score == report.hits.reduce(0) { $0 + $1.points })
    }
}

/// Facts that come from the text itself.
@Suite struct SpamFactFinderTests {
    @Test func findsLinkHosts() {
        let hosts = SpamFactFinder.linkHosts(text: "see https://Shop.Example.com/x and http://a.b.org?q and www.cheap.example.net, not ftp://x.y", website: "https://me.example")
        #expect(hosts == ["shop.example.com", "a.b.org", "www.cheap.example.net", "me.example"])
        #expect(SpamFactFinder.linkHosts(text: "no links, just 3.14 and e.g. this", website: nil).isEmpty)
        // Only a link's own bytes trigger the full search: upper case, links alone or at the very
        // end, and text in other scripts around them.
        #expect(SpamFactFinder.linkHosts(text: "WWW.SHOUT.EXAMPLE.COM", website: nil) == ["www.shout.example.com"])
        #expect(SpamFactFinder.linkHosts(text: "좋은 글 HTTPS://가게.example.kr", website: nil) == ["가게.example.kr"])
        #expect(SpamFactFinder.linkHosts(text: "awww. so cute: no link", website: nil).isEmpty)
    }

    @Test func byteSearchFindsWhatTheFullSearchWouldLookFor() {
        #expect(UTF8Search.contains("see http://x", "://"))
        #expect(!UTF8Search.contains("see http:/ /x", "://"))
        #expect(UTF8Search.contains("://", "://") && !UTF8Search.contains(":/", "://"))
        #expect(UTF8Search.contains("Wow WWW", "ww", caseInsensitiveASCII: true))
        #expect(!UTF8Search.contains("Wow WWW", "ww"))
        #expect(UTF8Search.contains("글.한국", "."))
        #expect(!UTF8Search.contains("", "."))
    }

    @Test func matchesBlocklists() {
        let list = [
            BlockEntry(kind: .word, value: "viagra"), BlockEntry(kind: .domain, value: "spam.example"),
            BlockEntry(kind: .email, value: "bad@x.org"), BlockEntry(kind: .author, value: "seo expert"),
            BlockEntry(kind: .word, value: "카지노"),
        ]
        func kinds(text: String = "hello", author: String? = nil, email: String? = nil, hosts: [String] = []) -> [BlockKind] {
            SpamFactFinder.matches(list, text: text, author: author, email: email, hosts: hosts).map(\.kind)
        }
        #expect(kinds(text: "Buy VIAGRA now") == [.word])
        #expect(kinds(text: "viagrafalls is a place").isEmpty)
        #expect(kinds(hosts: ["www.spam.example"]) == [.domain])
        #expect(kinds(hosts: ["notspam.example"]).isEmpty)
        #expect(kinds(email: "Bad@X.org") == [.email])
        #expect(kinds(email: "someone@spam.example") == [.domain])
        #expect(kinds(author: "SEO Expert") == [.author])
        #expect(kinds(text: "최고의카지노사이트") == [.word])
    }

    @Test(arguments: [
        ("203.0.113.7", "203.0.113.7", true), ("203.0.113.0/24", "203.0.113.99", true), ("203.0.113.0/24", "203.0.114.1", false),
        ("2001:db8::/32", "2001:db8:1::5", true), ("2001:db8::/32", "2001:db9::1", false), ("10.0.0.0/8", "::ffff:10.1.2.3", true),
        ("198.51.100.1", "198.51.100.2", false),
    ])
    func ipRules(rule: String, address: String, expected: Bool) {
        #expect(IPBlock.matches(rule: rule, address: address) == expected)
    }

    @Test func rateLimitsParseAndPrint() {
        #expect(RateLimit(parsing: "3/min,20/h") == .standard)
        #expect(RateLimit(parsing: "off") == .off)
        #expect(RateLimit(parsing: "5/s, 100/day")?.windows == [.init(count: 5, seconds: 1), .init(count: 100, seconds: 86_400)])
        #expect(RateLimit.standard.description == "3/min,20/h")
        for bad in ["", "3", "3/week", "-1/min", "x/min", "3/min,"] { #expect(RateLimit(parsing: bad) == nil, "\(bad)") }
    }
}

/// The byte-level answers for ASCII text that the shouting and repetition rules use agree with
/// the Unicode ones.
@Suite struct SpamRuleASCIIPathTests {
    @Test func capitalsAndRepeatsAgreeOnEveryASCIIScalarAndRandomText() {
        let everyScalar = String(String.UnicodeScalarView((0..<128).map { Unicode.Scalar(UInt8($0)) }))
        var texts = [everyScalar, "wow!!!!!!!!!!!!", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", "aaaa\r\naaaa", "SHOUT shout"]
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aAzZ09 !\t\r\n.".unicodeScalars)
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...60, using: &generator)
            texts.append(String(String.UnicodeScalarView((0..<length).map { _ in alphabet.randomElement(using: &generator)! })))
        }
        for text in texts {
            #expect(SpamFactFinder.capitals(text, asciiFastPath: true) == SpamFactFinder.capitals(text, asciiFastPath: false), "\(text.debugDescription)")
            #expect(SpamFactFinder.longestRepeat(text, asciiFastPath: true) == SpamFactFinder.longestRepeat(text, asciiFastPath: false), "\(text.debugDescription)")
        }
        #expect(SpamFactFinder.capitals(everyScalar) == (upper: 26, cased: 52))
    }
}
