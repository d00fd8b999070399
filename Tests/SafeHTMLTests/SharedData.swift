import Foundation
import TestSupport

/// The shared test corpora in `../shared/data` next to the repository (XSS payloads, Disqus and
/// WordPress exports).
enum SharedData {
    /// `../shared/data`, beside the repository.
    static var directory: URL {
        TestEnvironment.repositoryRoot.appendingPathComponent("../shared/data").standardizedFileURL
    }

    /// The XSS payload corpus, `[{"payload", "sources"}]`.
    static var xssCorpus: URL { directory.appendingPathComponent("xss/dev.json") }

    /// One corpus entry; `sources` names the payload lists it came from.
    struct XSSPayload: Decodable {
        let payload: String
        let sources: [String]
    }

    /// Every entry of the XSS payload corpus.
    static func xssPayloads() throws -> [XSSPayload] {
        try JSONDecoder().decode([XSSPayload].self, from: Data(contentsOf: xssCorpus))
    }
}
