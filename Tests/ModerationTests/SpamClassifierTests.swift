import Foundation
import TestSupport
import Testing
@testable import Moderation

/// The labelled-CSV reader.
@Suite struct LabelledCSVTests {
    @Test func readsQuotesEscapesNewlinesAndCRLF() throws {
        let text = "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\r\n"
            + "1,Ann,,plain,0\r\n"
            + "2,\"Lee, Bo\",2015-01-01,\"He said \"\"hi\"\", then left\",1\r\n"
            + "3,Cy,,\"two\nlines\",0\n"
            + "4,Di,,\"crlf\r\ninside\",1"
        let rows = try LabelledCSV.parse(text)
        #expect(rows == [
            LabelledComment(author: "Ann", content: "plain", isSpam: false),
            LabelledComment(author: "Lee, Bo", content: "He said \"hi\", then left", isSpam: true),
            LabelledComment(author: "Cy", content: "two\nlines", isSpam: false),
            LabelledComment(author: "Di", content: "crlf\r\ninside", isSpam: true),
        ])
    }

    @Test func matchesHeaderNamesCaseInsensitivelyInAnyOrder() throws {
        let rows = try LabelledCSV.parse(" Class ,content\n1,Buy now\n0,Nice post\n")
        #expect(rows == [
            LabelledComment(author: "", content: "Buy now", isSpam: true),
            LabelledComment(author: "", content: "Nice post", isSpam: false),
        ])
    }

    @Test func stripsByteOrderMarksAndSkipsBlankLines() throws {
        let rows = try LabelledCSV.parse("\u{FEFF}AUTHOR,CONTENT,CLASS\n\nAl,Cool\u{FEFF},0\n\n")
        #expect(rows == [LabelledComment(author: "Al", content: "Cool", isSpam: false)])
    }

    @Test func keepsEmptyAndQuotedEmptyFields() throws {
        let rows = try LabelledCSV.parse("AUTHOR,CONTENT,CLASS\n,\"\",1\n")
        #expect(rows == [LabelledComment(author: "", content: "", isSpam: true)])
    }

    @Test(arguments: [
        // An unterminated quote is reported where it opens, after an embedded newline moved the count on.
        ("CONTENT,CLASS\n\"a\nb\",0\n\"never closed,1\n", 4),
        ("CONTENT,CLASS\nfine,0\nmissing class\n", 3),
        ("CONTENT,CLASS\nfine,0\n\"two\nlines\",0\nbad,2\n", 5),
        ("CONTENT,CLASS\nfine,yes\n", 2),
        ("CONTENT,CLASS\n\"closed\"junk,1\n", 2),
        ("AUTHOR,TEXT,CLASS\nAl,hi,0\n", 1),
        ("", 1),
    ])
    func reportsTheLineOfMalformedInput(text: String, line: Int) {
        let error = #expect(throws: LabelledCSVError.self) { try LabelledCSV.parse(text) }
        #expect(error?.line == line)
    }

    @Test func errorsDescribeTheLine() {
        #expect(LabelledCSVError(line: 7, reason: "CLASS must be 0 or 1, found \"x\"").description
            == "line 7: CLASS must be 0 or 1, found \"x\"")
    }
}

/// Features of a text.
@Suite struct SpamFeatureTests {
    @Test(arguments: ["这篇文章写得很好，谢谢分享。", "この記事はとても役に立ちました。", "좋은 글 감사합니다.", "บทความนี้ดีมาก"])
    func unspacedScriptsGetCharacterNGrams(text: String) {
        let features = SpamClassifier.features(text)
        #expect(!features.isEmpty)
        #expect(features.contains { $0.hasPrefix("ng:") })
    }

    @Test func chineseBigrams() {
        let features = SpamClassifier.features("谢谢分享")
        #expect(features == ["ng:谢谢", "ng:谢分", "ng:分享"])
    }

    @Test func wordsAreLowerCasedUnicodeTokensWithBigrams() {
        let features = SpamClassifier.features("Спасибо, ОЧЕНЬ полезно! Don’t STOP")
        #expect(features.contains("спасибо"))
        #expect(features.contains("очень полезно"))
        #expect(features.contains("don't"))
        #expect(features.contains("don't stop"))
    }

    @Test func decodesEntitiesAndDropsTags() {
        let features = SpamClassifier.features("I&#39;m &quot;here&quot;<br />Tom &amp; Jerry &lt;3 &#x41;BC")
        #expect(features.contains("i'm"))
        #expect(features.contains("here"))
        #expect(features.contains("tom"))
        #expect(features.contains("jerry"))
        #expect(features.contains("abc"))
        #expect(!features.contains("br"))
        #expect(!features.contains("quot"))
        #expect(!features.contains("has:a-href"))
    }

    @Test func anchorsBecomeLinkFeatures() {
        let html = "see <a rel=\"nofollow\" href=\"https://m.Facebook.com/page?a=1&amp;b=2\">this</a>"
        let features = SpamClassifier.features(html)
        #expect(features.contains("has:a-href"))
        #expect(features.contains("has:url"))
        #expect(features.contains("domain:facebook.com"))
        #expect(features.contains("host:m.facebook.com"))
        #expect(features.contains("this"))
        #expect(!features.contains("href"))
        #expect(!features.contains("nofollow"))
    }

    @Test func linksAreReducedToHostAndDomain() {
        let features = SpamClassifier.features("go to https://www.example.co.uk/a/b?x=1, or shop.example.com/deal and bit.ly/abc.")
        #expect(features.contains("has:url"))
        #expect(features.contains("domain:example.co.uk"))
        #expect(features.contains("domain:example.com"))
        #expect(features.contains("host:shop.example.com"))
        #expect(features.contains("domain:bit.ly"))
        #expect(!features.contains("deal"))
        #expect(!features.contains("https"))
        #expect(features.contains("go to"))
    }

    @Test func ordinaryAbbreviationsAndNumbersAreNotLinks() {
        let features = SpamClassifier.features("e.g. version 2.1 is out... awww.so cute, love this song.it rocks")
        #expect(!features.contains("has:url"))
        #expect(features.contains("song"))
        #expect(features.contains("it rocks"))
        #expect(SpamClassifier.features("youtu.be/abc").contains("domain:youtu.be"))
    }

    @Test func byteOrderMarksAndRepeatsAreNormalised() {
        #expect(SpamClassifier.features("Cool\u{FEFF}") == SpamClassifier.features("Cool"))
        #expect(SpamClassifier.features("pleeeease") == SpamClassifier.features("pleeease"))
        #expect(SpamClassifier.features("ＤＡＭＮ") == ["damn"])
        #expect(SpamClassifier.features("call 07935454150") == ["call", "num:long", "call num:long"])
    }

    @Test func featuresAreDistinctDeterministicAndBounded() {
        let words = (0..<5_000).map { "word\($0)" }.joined(separator: " ")
        let features = SpamClassifier.features(words + " " + words)
        #expect(features.count == SpamClassifier.maximumFeatures)
        #expect(Set(features).count == features.count)
        #expect(SpamClassifier.features(words) == features)
        #expect(SpamClassifier.features("") == [])
        #expect(SpamClassifier.features("<<<>>> &&&; ... \u{FEFF}") == [])
    }
}

/// The learned probability.
@Suite struct SpamProbabilityTests {
    @Test func untrainedIsNeutral() {
        let classifier = InMemorySpamClassifier()
        #expect(classifier.probability("Check out my channel http://spam.example") == 0.5)
        #expect(SpamClassifier.probability(features: ["a"], counts: ["a": TokenCounts(spam: 3, ham: 0)], spamDocuments: 3, hamDocuments: 0) == 0.5)
        #expect(SpamClassifier.probability(features: [], counts: [:], spamDocuments: 10, hamDocuments: 10) == 0.5)
    }

    @Test func featuresSeenOnceOrTwiceAreNotDecisive() {
        var classifier = InMemorySpamClassifier()
        classifier.train("cheap pills", isSpam: true)
        classifier.train("nice post", isSpam: false)
        let once = classifier.probability("cheap pills")
        #expect(once > 0.5 && once < 0.8)
        classifier.train("cheap pills", isSpam: true)
        let twice = classifier.probability("cheap pills")
        #expect(twice > once && twice < 0.9)
        #expect(classifier.probability("nice post") < 0.5)
    }

    @Test func separatesObviousSpamFromHam() {
        var classifier = InMemorySpamClassifier()
        for index in 0..<20 {
            classifier.train("Check out my channel and subscribe http://promo\(index).example.com", isSpam: true)
            classifier.train("Great song, I love the chorus \(index)", isSpam: false)
        }
        #expect(classifier.spamDocuments == 20 && classifier.hamDocuments == 20)
        #expect(classifier.probability("please subscribe to my channel http://other.example.com") > 0.95)
        #expect(classifier.probability("I love this song") < 0.05)
    }

    @Test func staysInRangeOnInconsistentCounts() {
        let counts = ["a": TokenCounts(spam: 50, ham: -3), "b": TokenCounts(spam: 0, ham: 0), "c": TokenCounts(spam: 1, ham: 99)]
        let probability = SpamClassifier.probability(features: ["a", "b", "c", "a"], counts: counts, spamDocuments: 2, hamDocuments: 2)
        #expect((0...1).contains(probability))
    }

    @Test func orderOfFeaturesDoesNotMatter() {
        var classifier = InMemorySpamClassifier()
        classifier.train("win money now", isSpam: true)
        classifier.train("money talk is fine", isSpam: false)
        let features = SpamClassifier.features("now money win talk")
        let forward = SpamClassifier.probability(features: features, counts: classifier.counts, spamDocuments: 1, hamDocuments: 1)
        let backward = SpamClassifier.probability(features: features.reversed(), counts: classifier.counts, spamDocuments: 1, hamDocuments: 1)
        #expect(forward == backward)
    }
}

/// Leave-one-video-out on the YouTube Spam Collection in `../shared/data/spam` next to the repository.
///
/// Measured (train on two videos, test on the third), share of spam / ham with P(spam) ≥ t:
///
/// | test video | AUC   | t = 0.75      | t = 0.9       | t = 0.99     |
/// |------------|-------|---------------|---------------|--------------|
/// | Psy        | 0.913 | 98.9% / 52.6% | 89.1% / 24.0% | 47.4% / 0.0% |
/// | LMFAO      | 0.986 | 94.1% / 9.4%  | 86.4% / 0.0%  | 69.9% / 0.0% |
/// | Eminem     | 0.975 | 92.7% / 5.4%  | 84.9% / 0.0%  | 42.9% / 0.0% |
///
/// Psy's ham is long talk about view counts, where words that only spam used in the other two
/// videos ("check", "youtube", "on") are common; its numbers show the cost of a topic shift and
/// are guarded loosely. The assertions leave a few points' margin below these numbers.
@Suite(.enabled(if: SpamCorpus.isAvailable || TestEnvironment.underCI, "needs ../shared/data/spam next to the repository"))
struct SpamLeaveOneVideoOutTests {
    /// Holding threshold: most spam above, few ham.
    static let hold = 0.75
    /// Spam threshold: almost no ham above.
    static let spam = 0.99

    struct VideoExpectation: Sendable, CustomStringConvertible {
        var video: String
        var minimumAUC: Double
        var minimumSpamHeld: Double
        var maximumHamHeld: Double
        var minimumSpamMarked: Double
        var description: String { video }
    }

    @Test(arguments: [
        VideoExpectation(video: "Youtube01-Psy.csv", minimumAUC: 0.89, minimumSpamHeld: 0.95, maximumHamHeld: 0.60, minimumSpamMarked: 0.40),
        VideoExpectation(video: "Youtube03-LMFAO.csv", minimumAUC: 0.97, minimumSpamHeld: 0.91, maximumHamHeld: 0.12, minimumSpamMarked: 0.60),
        VideoExpectation(video: "Youtube04-Eminem.csv", minimumAUC: 0.96, minimumSpamHeld: 0.90, maximumHamHeld: 0.08, minimumSpamMarked: 0.37),
    ])
    func separatesAnUnseenVideo(_ expected: VideoExpectation) throws {
        var classifier = InMemorySpamClassifier()
        for video in SpamCorpus.videos where video != expected.video {
            for row in try SpamCorpus.load(video) { classifier.train(row.content, isSpam: row.isSpam) }
        }
        let rows = try SpamCorpus.load(expected.video)
        let spam = rows.filter(\.isSpam).map { classifier.probability($0.content) }
        let ham = rows.filter { !$0.isSpam }.map { classifier.probability($0.content) }
        func share(_ scores: [Double], atLeast threshold: Double) -> Double {
            Double(scores.filter { $0 >= threshold }.count) / Double(scores.count)
        }

        #expect(SpamCorpus.auc(spam: spam, ham: ham) >= expected.minimumAUC)
        #expect(share(spam, atLeast: Self.hold) >= expected.minimumSpamHeld)
        #expect(share(ham, atLeast: Self.hold) <= expected.maximumHamHeld)
        #expect(share(spam, atLeast: Self.spam) >= expected.minimumSpamMarked)
        #expect(share(ham, atLeast: Self.spam) <= 0.01)
    }

    @Test(arguments: [
        "좋은 글 감사합니다. 많이 배웠어요.",
        "这篇文章写得很好，谢谢分享。",
        "Спасибо за статью, очень полезно.",
        "この記事はとても役に立ちました。ありがとうございます。",
        "شكرا على المقال، مفيد جدا",
        "บทความนี้ดีมากครับ ขอบคุณ",
    ])
    func nonLatinTextIsNoSpamSignal(sentence: String) throws {
        var classifier = InMemorySpamClassifier()
        for video in SpamCorpus.videos {
            for row in try SpamCorpus.load(video) { classifier.train(row.content, isSpam: row.isSpam) }
        }
        #expect(classifier.probability(sentence) <= 0.55)

        var light = InMemorySpamClassifier()
        light.train("Check out my channel and subscribe!", isSpam: true)
        light.train("Great post, thank you.", isSpam: false)
        #expect(light.probability(sentence) <= 0.55)
    }
}

/// The labelled YouTube comment files.
enum SpamCorpus {
    static let videos = ["Youtube01-Psy.csv", "Youtube03-LMFAO.csv", "Youtube04-Eminem.csv"]

    /// `<repository>/../shared/data/spam`; the repository root is three levels above this file.
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/data/spam").standardized

    static var isAvailable: Bool {
        videos.allSatisfy { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
    }

    static func load(_ video: String) throws -> [LabelledComment] {
        try LabelledCSV.load(path: directory.appendingPathComponent(video).path)
    }

    /// The probability that a random spam scores above a random ham (ties count half).
    static func auc(spam: [Double], ham: [Double]) -> Double {
        var wins = 0.0
        for s in spam {
            for h in ham { wins += s > h ? 1 : s == h ? 0.5 : 0 }
        }
        return wins / Double(spam.count * ham.count)
    }
}

/// The byte-level path for ASCII text gives exactly the features of the Unicode path.
@Suite struct SpamFeaturesASCIIPathTests {
    /// Texts built to probe the edges: CR LF, backticks and apostrophes, repeats, long numbers and
    /// words, entities that decode to non-ASCII, tags, links.
    static let edgeCases = [
        "", "'", "''a''", "don't`stop` rock'n'roll '''", "aaaa\r\naaaa\r\n\r\nbbb", "plzzzzz soooo gooood!!!!!",
        "1234 12345 123456789 0 007", String(repeating: "x", count: 31) + " " + String(repeating: "ab", count: 16),
        "I&#39;m &quot;here&quot;<br />Tom &amp; Jerry &lt;3 &#x41;BC &#8217; &eacute;", "<a href=\"http://spam.example.com/x\">win</a>",
        "see www.example.com/path and https://Sub.Example.co.uk/a?b=c, or bit.ly/xyz.", "Tab\there\u{0B}vt\u{0C}ff end.",
        "MiXeD CaSe WORDS and_underscores-dashes.dots", "`a` `b` ``c``",
    ]

    @Test(arguments: edgeCases)
    func edgeCasesAgree(text: String) {
        #expect(SpamClassifier.features(text, asciiFastPath: true) == SpamClassifier.features(text, asciiFastPath: false))
    }

    @Test func randomASCIIAgrees() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aAbBzZ09'`.:/ \t\r\n&;#<>\"!-_wW".unicodeScalars)
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...80, using: &generator)
            let text = String(String.UnicodeScalarView((0..<length).map { _ in alphabet.randomElement(using: &generator)! }))
            #expect(SpamClassifier.features(text, asciiFastPath: true) == SpamClassifier.features(text, asciiFastPath: false), "\(text.debugDescription)")
        }
    }

    @Test(.enabled(if: SpamCorpus.isAvailable || TestEnvironment.underCI, "needs ../shared/data/spam next to the repository"))
    func corpusAgrees() throws {
        var compared = 0
        for video in SpamCorpus.videos {
            for row in try SpamCorpus.load(video) {
                #expect(SpamClassifier.features(row.content, asciiFastPath: true) == SpamClassifier.features(row.content, asciiFastPath: false), "\(row.content.debugDescription)")
                compared += 1
            }
        }
        #expect(compared > 1_000)
    }
}
