import Foundation

/// The learned classifier's maths, pure: features of a text, and a probability from counts the store looked up.
///
/// Features are distinct strings. Word unigrams and bigrams are the words themselves (`check`,
/// `check out`); everything else carries a prefix with a colon, which a word never contains:
/// `has:url`, `host:…`, `domain:…`, `has:a-href`, `ng:…` (character n-grams), `num:long`, `tok:long`.
///
/// The probability is Gary Robinson's: each feature's spam probability is smoothed towards 0.5 by
/// how often it was seen, the strongest ones are kept, and Fisher's chi-square method combines them
/// (as SpamBayes does). Training counts documents, not occurrences: a feature counts once per text.
public enum SpamClassifier {
    /// The most features one text yields.
    static let maximumFeatures = 2_000
    /// Only this many leading characters of a text are read, so a huge text costs no more than a long one.
    static let maximumCharacters = 20_000
    /// Robinson's `s`: how many documents' worth of weight the neutral prior 0.5 gets. With 3, a feature
    /// seen in one spam document only scores 0.625, and in two only 0.7.
    static let priorStrength = 3.0
    /// Feature probabilities are kept within `clamp ... 1 - clamp`, so that no single feature, however
    /// often seen, can outweigh several others; it makes the score robust to words that were one-sided
    /// in the training data by accident of topic.
    static let clamp = 0.06
    /// Features whose probability is closer than this to 0.5 say too little to be used.
    static let minimumDeviation = 0.1
    /// At most this many of the strongest features are combined.
    static let maximumClues = 150
    /// Word tokens longer than this are noise (hashes, keyboard mashing) and become `tok:long`.
    static let maximumWordLength = 30
    /// Digit strings longer than this (phone numbers, view counts, ids) become `num:long`.
    static let maximumNumberLength = 4

    // MARK: Features

    /// The distinct features of a text, in order of first appearance and at most 2,000 of them.
    ///
    /// - Words: lower-cased Unicode letter/digit tokens (`don't` keeps its apostrophe) after NFKC, with
    ///   runs of three or more equal characters cut to two (`plzzzz` → `plzz`), long digit strings as
    ///   `num:long` and overlong tokens as `tok:long`; plus the bigram of each pair of adjacent words.
    /// - Scripts written without spaces (Han, kana, Hangul, Thai, Lao, Khmer, Myanmar): character
    ///   bigrams `ng:…` of each run, so that such text has features at all.
    /// - Links (`http(s)://`, `www.`, bare `name.com`): `has:url`, the registrable-ish `domain:…`
    ///   and, when longer, the `host:…`; the rest of the link is dropped.
    /// - HTML as found in imported comments: tags are dropped (`has:a-href` records an `<a href>`,
    ///   whose link counts like one in the text) and entities (`&#39;`, `&quot;`, `&amp;`, `&lt;`,
    ///   `&gt;`, numeric) are decoded. U+FEFF and zero-width spaces are ignored.
    public static func features(_ text: String) -> [String] {
        features(text, asciiFastPath: true)
    }

    /// `features(_:)`, optionally without the byte-level path for ASCII text, which must give the
    /// same answer (a test compares the two); on ASCII the Unicode steps are identities, and they
    /// were most of the CPU time of posting a comment.
    static func features(_ text: String, asciiFastPath: Bool) -> [String] {
        var features = FeatureList(limit: maximumFeatures)
        let prefix = String(text.prefix(maximumCharacters))
        // Every invisible character is outside ASCII.
        let cleaned = asciiFastPath && UTF8Search.isASCII(prefix) ? prefix : withoutInvisibleCharacters(prefix)
        let (markupFree, hrefs) = ImportedHTML.stripTags(cleaned)
        if !hrefs.isEmpty { features.add("has:a-href") }
        let decoded = ImportedHTML.decodeEntities(markupFree)
        // NFKC leaves ASCII as it is; only the backtick becomes an apostrophe.
        let plain = asciiFastPath && UTF8Search.isASCII(decoded)
            ? String(decoding: decoded.utf8.map { $0 == UInt8(ascii: "`") ? UInt8(ascii: "'") : $0 }, as: UTF8.self)
            : normalized(decoded)
        let (prose, links) = TextLinks.extract(from: plain)
        for link in hrefs.map(ImportedHTML.decodeEntities) + links {
            for feature in TextLinks.features(of: link) { features.add(feature) }
        }
        let lowered = prose.lowercased()
        if asciiFastPath && UTF8Search.isASCII(lowered) {
            addASCIIWords(of: lowered, to: &features)
        } else {
            addWords(of: lowered, to: &features)
        }
        return features.items
    }

    /// Characters that carry no meaning but leak into imported text: the byte-order mark U+FEFF
    /// (a label leak in the YouTube corpus), zero-width space and word joiner.
    private static let invisibleCharacters: Set<Unicode.Scalar> = ["\u{FEFF}", "\u{200B}", "\u{2060}"]

    /// `text` without `invisibleCharacters`.
    private static func withoutInvisibleCharacters(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { !invisibleCharacters.contains($0) }))
    }

    /// Apostrophe look-alikes, unified before NFKC (which would turn U+00B4 into a space and a combining accent).
    private static let apostrophes: Set<Unicode.Scalar> = ["\u{2019}", "\u{2018}", "\u{00B4}", "\u{02BC}", "`"]

    /// NFKC, so that full-width and styled letters (ＤＡＭＮ) read as plain ones, with apostrophes unified.
    private static func normalized(_ text: String) -> String {
        let unified = text.unicodeScalars.map { apostrophes.contains($0) ? "'" : $0 }
        return String(String.UnicodeScalarView(unified)).precomposedStringWithCompatibilityMapping
    }

    /// Adds the word unigrams and bigrams of lower-cased `text`, and character bigrams of its runs of
    /// scripts that are written without spaces.
    private static func addWords(of text: String, to features: inout FeatureList) {
        var word = ""
        var run: [Character] = []
        var previousWord: String?

        func endWord() {
            guard let token = wordToken(word) else { word = ""; return }
            features.add(token)
            if let previousWord { features.add(previousWord + " " + token) }
            previousWord = token
            word = ""
        }
        func endRun() {
            guard !run.isEmpty else { return }
            if run.count == 1 {
                features.add("ng:" + String(run[0]))
            } else {
                for index in 0..<(run.count - 1) { features.add("ng:" + String(run[index]) + String(run[index + 1])) }
            }
            run = []
            // A bigram across a run of another script would pair words that were not adjacent.
            previousWord = nil
        }

        for character in text {
            if isUnspacedScript(character) {
                endWord()
                run.append(character)
            } else if character.isLetter || character.isNumber {
                endRun()
                word.append(character)
            } else if character == "'" && !word.isEmpty {
                word.append(character)
            } else {
                endWord()
                endRun()
            }
        }
        endWord()
        endRun()
    }

    /// `addWords(of:to:)` for ASCII text, byte by byte: ASCII has no unspaced scripts, its letters
    /// and digits are `[a-z0-9]` once lower-cased, and each byte is a character (CR LF, the one
    /// two-byte character, separates words either way).
    private static func addASCIIWords(of text: String, to features: inout FeatureList) {
        var word: [UInt8] = []
        var previousWord: String?

        func endWord() {
            defer { word.removeAll(keepingCapacity: true) }
            guard let token = asciiWordToken(word) else { return }
            features.add(token)
            if let previousWord { features.add(previousWord + " " + token) }
            previousWord = token
        }

        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                word.append(byte)
            case UInt8(ascii: "'") where !word.isEmpty:
                word.append(byte)
            default:
                endWord()
            }
        }
        endWord()
    }

    /// `wordToken(_:)` for an ASCII word.
    private static func asciiWordToken(_ raw: [UInt8]) -> String? {
        var end = raw.count
        while end > 0 && raw[end - 1] == UInt8(ascii: "'") { end -= 1 }
        guard end > 0 else { return nil }
        let word = raw[..<end]
        if word.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return word.count > maximumNumberLength ? "num:long" : String(decoding: word, as: UTF8.self)
        }
        var collapsed: [UInt8] = []
        collapsed.reserveCapacity(word.count)
        var last: UInt8?
        var repeats = 0
        for byte in word {
            repeats = byte == last ? repeats + 1 : 1
            last = byte
            if repeats <= 2 { collapsed.append(byte) }
        }
        return collapsed.count > maximumWordLength ? "tok:long" : String(decoding: collapsed, as: UTF8.self)
    }

    /// The feature for one lower-cased word, or nil when there is nothing left of it.
    private static func wordToken(_ raw: String) -> String? {
        var word = Substring(raw)
        while word.last == "'" { word = word.dropLast() }
        guard !word.isEmpty else { return nil }
        if word.allSatisfy(\.isNumber) {
            return word.count > maximumNumberLength ? "num:long" : String(word)
        }
        let collapsed = collapsingRepeats(word)
        return collapsed.count > maximumWordLength ? "tok:long" : collapsed
    }

    /// `word` with every run of three or more equal characters cut to two, so that `pleeease` and
    /// `pleeeeease` are one feature.
    private static func collapsingRepeats(_ word: Substring) -> String {
        var result = ""
        var last: Character?
        var repeats = 0
        for character in word {
            repeats = character == last ? repeats + 1 : 1
            last = character
            if repeats <= 2 { result.append(character) }
        }
        return result
    }

    /// Whether `character` belongs to a script written without spaces between words (or, for Hangul,
    /// with long agglutinated words), where character n-grams stand in for words.
    private static func isUnspacedScript(_ character: Character) -> Bool {
        guard let value = character.unicodeScalars.first?.value else { return false }
        switch value {
        case 0x0E00...0x0EFF,  // Thai, Lao
             0x1000...0x109F,  // Myanmar
             0x1100...0x11FF,  // Hangul Jamo
             0x1780...0x17FF,  // Khmer
             0x3040...0x30FF,  // Hiragana, Katakana
             0x3130...0x318F,  // Hangul Compatibility Jamo
             0x31F0...0x31FF,  // Katakana Phonetic Extensions
             0x3400...0x4DBF,  // CJK Extension A
             0x4E00...0x9FFF,  // CJK Unified Ideographs
             0xAC00...0xD7AF,  // Hangul Syllables
             0xF900...0xFAFF,  // CJK Compatibility Ideographs
             0x20000...0x3FFFF:  // CJK Extensions B and later
            return true
        default:
            return false
        }
    }

    // MARK: Probability

    /// P(spam) in 0...1 from the document counts of `features` (a feature that was never trained has
    /// no entry in `counts`) and the numbers of spam and ham documents trained.
    ///
    /// Each feature's probability is smoothed towards 0.5 by how often it was seen, so that features
    /// seen once or twice say little; only the strongest (up to 150, and only those at least 0.1 from
    /// 0.5) are combined with Fisher's chi-square method. The result is 0.5 until at least one spam and
    /// one ham document are trained, and when no feature is informative. Counts larger than the document
    /// totals (an inconsistent store) are capped.
    public static func probability(features: [String], counts: [String: TokenCounts], spamDocuments: Int, hamDocuments: Int) -> Double {
        guard spamDocuments > 0, hamDocuments > 0 else { return 0.5 }
        var clues: [(feature: String, probability: Double)] = []
        var seen = Set<String>()
        for feature in features where seen.insert(feature).inserted {
            guard let count = counts[feature],
                  let probability = featureProbability(count, spamDocuments: spamDocuments, hamDocuments: hamDocuments),
                  abs(probability - 0.5) >= minimumDeviation
            else { continue }
            clues.append((feature, probability))
        }
        guard !clues.isEmpty else { return 0.5 }
        // Strongest first; ties by name so that the choice never depends on the input order.
        clues.sort { lhs, rhs in
            let left = abs(lhs.probability - 0.5), right = abs(rhs.probability - 0.5)
            return left != right ? left > right : lhs.feature < rhs.feature
        }
        let strongest = clues.prefix(maximumClues).map(\.probability)
        let degrees = 2 * strongest.count
        let spamminess = 1 - chiSquareSurvival(-2 * strongest.reduce(0) { $0 + log(1 - $1) }, degrees: degrees)
        let hamminess = 1 - chiSquareSurvival(-2 * strongest.reduce(0) { $0 + log($1) }, degrees: degrees)
        return min(max((1 + spamminess - hamminess) / 2, 0), 1)
    }

    /// Robinson's f(w): the share of spam among the documents with the feature, each class weighed by
    /// its own size, smoothed towards 0.5 by `priorStrength` and clamped. Nil when it was never seen.
    private static func featureProbability(_ count: TokenCounts, spamDocuments: Int, hamDocuments: Int) -> Double? {
        // In Double from the start: counts come from a store and must not trap on overflow.
        let spam = Double(max(count.spam, 0)), ham = Double(max(count.ham, 0))
        let spamRate = min(spam / Double(spamDocuments), 1)
        let hamRate = min(ham / Double(hamDocuments), 1)
        guard spamRate + hamRate > 0 else { return nil }
        let seen = spam + ham
        let smoothed = (priorStrength * 0.5 + seen * spamRate / (spamRate + hamRate)) / (priorStrength + seen)
        return min(max(smoothed, clamp), 1 - clamp)
    }

    /// P(X ≥ `chiSquare`) for a chi-square distribution with an even number of `degrees` of freedom.
    /// The series cannot underflow here: with clamped probabilities `chiSquare / 2` stays below
    /// `maximumClues · -log(clamp)` ≈ 422, far from where `exp` reaches zero.
    private static func chiSquareSurvival(_ chiSquare: Double, degrees: Int) -> Double {
        let half = chiSquare / 2
        var term = exp(-half)
        var sum = term
        for index in stride(from: 1, to: degrees / 2, by: 1) {
            term *= half / Double(index)
            sum += term
        }
        return min(sum, 1)
    }
}

/// Spam/ham counts of one feature: how many trained spam and ham documents contained it.
public struct TokenCounts: Sendable, Equatable {
    /// Trained spam documents that had the feature.
    public var spam: Int
    /// Trained ham documents that had the feature.
    public var ham: Int

    /// Counts of `spam` and `ham` documents.
    public init(spam: Int, ham: Int) {
        self.spam = spam
        self.ham = ham
    }
}

/// Distinct features in order of first appearance, up to a limit.
private struct FeatureList {
    let limit: Int
    private(set) var items: [String] = []
    private var seen: Set<String> = []

    init(limit: Int) {
        self.limit = limit
    }

    mutating func add(_ feature: String) {
        guard items.count < limit, seen.insert(feature).inserted else { return }
        items.append(feature)
    }
}
