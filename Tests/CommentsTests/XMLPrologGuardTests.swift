import Comments
import Foundation
import Testing

/// The DOCTYPE guard of the XML importers reads the whole prolog, however long, in UTF-8 and
/// UTF-16, and refuses encodings it cannot read as the parser would.
@Suite struct XMLPrologGuardTests {
    static let header = #"<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">"#
    static let body = header + #"<thread dsq:id="1"><link>http://b.example/p/</link></thread><post dsq:id="1"><thread dsq:id="1"/><message>&x;</message></post></disqus>"#
    static let subset = "<!DOCTYPE disqus [\n<!ENTITY x \"expanded\">\n]>\n"
    /// 1.1 MiB of comments, a line each, before the DOCTYPE.
    static let padding = String(repeating: "<!-- " + String(repeating: "p", count: 1000) + " -->\n", count: 1_150)

    /// Writes `bytes` to a scratch file and reads it as a Disqus export; the error, if any.
    func readDisqus(_ bytes: Data) throws -> ImportError? {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("margin-prolog-\(UUID().uuidString).xml")
        try bytes.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            try DisqusReader(url: url).read(skipInvalid: false) { _ in }
            return nil
        } catch let error as ImportError {
            return error
        }
    }

    func utf16(_ text: String, bigEndian: Bool, bom: Bool) -> Data {
        var data = Data()
        if bom { data += bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE] }
        for unit in text.utf16 {
            data += bigEndian ? [UInt8(unit >> 8), UInt8(unit & 0xFF)] : [UInt8(unit & 0xFF), UInt8(unit >> 8)]
        }
        return data
    }

    @Test func aSubsetAfterMoreThanAMebibyteOfCommentsIsRefused() throws {
        // Given an export with 1.1 MiB of comments before an internal subset
        let text = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n" + Self.padding + Self.subset + Self.body
        #expect(Self.padding.utf8.count > 1_100_000)
        // When it is read, in UTF-8, UTF-16 with either byte order mark, and UTF-16 without one
        let utf16Text = text.replacingOccurrences(of: "UTF-8", with: "UTF-16")
        let forms: [(String, Data)] = [
            ("UTF-8", Data(text.utf8)),
            ("UTF-8 with BOM", Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8)),
            ("UTF-16LE with BOM", utf16(utf16Text, bigEndian: false, bom: true)),
            ("UTF-16BE with BOM", utf16(utf16Text, bigEndian: true, bom: true)),
            ("UTF-16LE without BOM", utf16(utf16Text, bigEndian: false, bom: false)),
            ("UTF-16BE without BOM", utf16(utf16Text, bigEndian: true, bom: false)),
        ]
        for (name, bytes) in forms {
            let error = try readDisqus(bytes)
            // Then it is refused by the guard, naming the DOCTYPE's line
            #expect(error?.message.contains("DOCTYPE with an internal subset") == true, "\(name): \(String(describing: error))")
            #expect(error?.line == 1_152, "\(name)")
        }
    }

    @Test func encodingsTheGuardCannotReadAreRefused() throws {
        // Given prologs in encodings where '<' or '[' are other bytes than in ASCII
        let cases: [(Data, String)] = [
            (Data((#"<?xml version="1.0" encoding="UTF-7"?>"# + "\n" + Self.subset + Self.body).utf8), "the encoding 'UTF-7' is not accepted"),
            (Data([0x00, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x00, 0x3C]), "UTF-32 is not accepted"),
            (Data([0x4C, 0x6F, 0xA7, 0x94, 0x40]), "EBCDIC is not accepted"),
            // A declaration padded past what the guard reads, to hide its encoding
            (Data((#"<?xml version="1.0""# + String(repeating: " ", count: 5000) + #"encoding="IBM037"?>"# + "\n"
                   + Self.subset + Self.body).utf8), "the XML declaration does not end within 4096 characters"),
        ]
        for (bytes, message) in cases {
            // When read, then refused by name
            let error = try readDisqus(bytes)
            #expect(error?.message.contains(message) == true, "\(String(describing: error))")
        }
    }

    @Test func aLongPrologWithoutASubsetStillReads() throws {
        // Given 1.1 MiB of comments and a DOCTYPE without a subset before an ordinary export
        let text = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n" + Self.padding + "<!DOCTYPE disqus>\n"
            + Self.header + #"<thread dsq:id="1"><link>http://b.example/p/</link></thread><post dsq:id="1"><thread dsq:id="1"/><message>hi</message></post></disqus>"#
        // When it is read, then the guard lets it through
        #expect(try readDisqus(Data(text.utf8)) == nil)
    }
}

/// `~REGEX` remap rules run with a time limit per path (in `scripts/test`'s quiet pass, as its
/// clock would measure the other tests beside the parallel suites).
@Suite struct RemapRuleTimingTests {
    @Test func aCatastrophicPatternEndsWithAClearError() throws {
        // Given a rule that backtracks exponentially on a run of a's ending in b
        let rules = try RemapRules(parsing: "/keep/ /kept/\n~^/(a+)+$ /x/\n")
        let path = "/" + String(repeating: "a", count: 40) + "b"
        // When it is applied
        let clock = ContinuousClock(), started = clock.now
        let error = #expect(throws: CommentsError.self) { _ = try rules.apply(path, timeLimit: .milliseconds(200)) }
        // Then it stops soon after the limit, naming the rule's line and the path
        #expect(clock.now - started < .seconds(5), "took \(clock.now - started)")
        guard case .invalidField(let field, let message)? = error else { Issue.record("no invalidField"); return }
        #expect(field == "map")
        #expect(message.contains("line 2") && message.contains("took longer than") && message.contains("/aaaa"), "\(message)")
        // And ordinary patterns still replace every match, with captures
        let ordinary = try RemapRules(parsing: "~^/([^/]+)/$ /blog/$1.html\n~a b\n")
        #expect(try ordinary.apply("/post/") == "/blog/post.html")
        #expect(try ordinary.apply("/a-a-x") == "/b-b-x")
    }
}
