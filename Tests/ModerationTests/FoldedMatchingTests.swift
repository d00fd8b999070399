import Comments
import Moderation
import Testing

/// Blocklist, duplicate and author matching see through dressed-up letters, and a form
/// timestamp stops counting after `formMaxAgeHours`.
@Suite struct FoldedMatchingTests {
    static let hour: Int64 = 3_600_000

    @Test func disguisedWordsHitAWordBlock() {
        // Given a word block on viagra
        let block = [BlockEntry(kind: .word, value: "viagra", createdAt: 1)]
        // When texts spell it in full-width letters, capitals, or with invisible characters
        for text in ["Buy ＶＩＡＧＲＡ now", "cheap vi\u{200B}agra here", "VIAGRA!", "vi\u{00AD}ag\u{2060}ra", "v\u{FEFF}iagra"] {
            // Then each hits it
            #expect(SpamFactFinder.matches(block, text: text, author: nil, email: nil, hosts: []) == block, "\(text.debugDescription)")
        }
        // And a word merely containing it does not
        #expect(SpamFactFinder.matches(block, text: "viagras", author: nil, email: nil, hosts: []).isEmpty)
    }

    @Test func authorsAndEmailsAreFoldedOnBothSides() {
        // Given author and email blocks written with capitals and full-width letters
        let author = BlockEntry(kind: .author, value: "Ｓpam Ｂot", createdAt: 1)
        let email = BlockEntry(kind: .email, value: "Bot@Example.ORG", createdAt: 1)
        // When a comment names them in another dress, then both match
        #expect(SpamFactFinder.matches([author], text: "hi", author: "spam\u{200B} bot", email: nil, hosts: []) == [author])
        #expect(SpamFactFinder.matches([email], text: "hi", author: nil, email: "ｂｏｔ@example.org", hosts: []) == [email])
    }

    @Test func aFormTimestampOlderThanTheMaximumEarnsNothing() {
        let now: Int64 = 1_700_000_000_000
        func hit(renderedHoursAgo hours: Int64, maximum: Int = 24) -> RuleHit? {
            SpamRules.formTiming(SpamFacts(text: "hello", formTimestampSent: true, formRenderedAt: now - hours * Self.hour, now: now),
                                 SpamSettings(formMaxAgeHours: maximum))
        }
        // Given a valid signed form time 23 h old, then it still counts
        #expect(hit(renderedHoursAgo: 23) == nil)
        // Given one 25 h old, then it scores like no form time at all
        let stale = hit(renderedHoursAgo: 25)
        #expect(stale?.rule == "stale-form-time")
        #expect(stale?.points == SpamRules.formTiming(SpamFacts(text: "hello", now: now), SpamSettings())?.points)
        // Given a longer maximum, then the same form counts again
        #expect(hit(renderedHoursAgo: 25, maximum: 48) == nil)
    }
}
