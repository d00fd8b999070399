import ArgumentParser
import Comments
import Foundation
import Moderation

/// `margin spam …`: try and measure the spam filter, and seed its learned part.
struct Spam: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a comment against the spam filter, measure it, or train it on a labelled corpus.",
        subcommands: [Check.self, Eval.self, Train.self])

    /// `margin spam check --text …`
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Score a comment as if a first-time author posted it through the widget now.")
        @Option(help: "The comment text.")
        var text: String
        @Option(help: "Author name.")
        var author: String?
        @Option(help: "Author email.")
        var email: String?
        @Option(help: "Author website.")
        var website: String?
        @Option(help: "Site whose moderation mode applies (default: default).")
        var site: String = "default"
        @Flag(help: "Print JSON.")
        var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            try await reporting {
                let site = try await store.site(id: site) ?? Site(id: site, name: site, origins: [])
                let clock = SystemClock()
                let secret = try await store.secret(named: FormTimestamp.secretName, make: { SystemRandom().bytes(32) }, at: clock.nowMillis())
                let formTimestamp = FormTimestamp(secret: secret)
                let screening = SpamScreening(store: store, formTimestamp: formTimestamp, settings: SpamSettings(), clock: clock)
                let comment = Comment(threadID: 0, status: .pending, author: author, email: email, website: website, body: text, html: "",
                                      createdAt: clock.nowMillis())
                let ts = formTimestamp.sign(millis: clock.nowMillis() - 30_000, site: site.id)
                let facts = try await screening.facts(for: Draft(site: site, thread: nil, comment: comment, formTimestamp: ts))
                let report = SpamRules.judge(facts, mode: site.moderation, settings: SpamSettings())
                let verdict = switch report.status {
                case .spam: "spam"
                case .pending: "hold"
                default: "publish"
                }
                if json {
                    printJSON(CheckView(score: report.score, verdict: verdict, reasons: report.hits))
                } else {
                    print("Score \(String(format: "%.1f", report.score)): \(verdict)")
                    for hit in report.hits {
                        print("  \(hit.points >= 0 ? "+" : "")\(String(format: "%.1f", hit.points))  \(hit.rule): \(hit.reason)")
                    }
                    if report.hits.isEmpty { print("  no rule matched") }
                }
            }
        }
    }

    /// What `spam check --json` prints.
    struct CheckView: Encodable {
        var score: Double
        var verdict: String
        var reasons: [RuleHit]
    }

    /// `margin spam eval --train FILE… --test FILE…`
    struct Eval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a fresh filter on labelled CSVs and measure it on others (UCI YouTube spam format).")
        @Option(parsing: .upToNextOption, help: "Labelled CSV files to train on.")
        var train: [String]
        @Option(parsing: .upToNextOption, help: "Labelled CSV files to test on.")
        var test: [String]
        @Flag(help: "Print {spam_caught, ham_marked_spam, ham_held, precision, rows} as JSON.")
        var json = false

        func validate() throws {
            if train.isEmpty || test.isEmpty { throw ValidationError("Give at least one --train and one --test file.") }
        }

        func run() async throws {
            let training = try load(train)
            let testing = try load(test)
            let result = SpamEvaluation.run(training: training, test: testing)
            if json {
                printJSON(result)
            } else {
                print("Rows tested:     \(result.rows)")
                print("Spam caught:     \(percent(result.spamCaught)) (held or marked spam)")
                print("Ham marked spam: \(percent(result.hamMarkedSpam))")
                print("Ham held:        \(percent(result.hamHeld))")
                print("Precision:       \(percent(result.precision))")
            }
        }

        func load(_ paths: [String]) throws -> [LabelledComment] {
            try paths.flatMap { path in
                do { return try LabelledCSV.load(path: path) } catch { throw ValidationError("\(path): \(error)") }
            }
        }

        func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
    }

    /// `margin spam train FILE…`
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Seed the learned filter in the database with labelled CSVs.")
        @Argument(help: "Labelled CSV files (CONTENT and CLASS columns; 1 = spam).")
        var files: [String]
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            var spam = 0, ham = 0
            for path in files {
                let rows: [LabelledComment]
                do { rows = try LabelledCSV.load(path: path) } catch { throw ValidationError("\(path): \(error)") }
                for row in rows {
                    try await store.train(features: SpamClassifier.features(row.content), asSpam: row.isSpam)
                    if row.isSpam { spam += 1 } else { ham += 1 }
                }
            }
            print("Trained on \(spam) spam and \(ham) ham comments.")
        }
    }
}
