import ArgumentParser
import Comments
import Foundation
import MarginServer
import Moderation

/// `margin moderate …`: the moderator's queue and actions, safe while the server runs.
struct Moderate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, inspect and moderate comments.",
        subcommands: [List.self, Show.self, Approve.self, Reject.self, MarkSpam.self, Delete.self, Link.self, Log.self])

    /// `margin moderate list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List comments, newest first (pending by default).")
        @Option(help: "pending, approved, rejected, spam, deleted or all.")
        var status: String = "pending"
        @Option(help: "Only this site.")
        var site: String?
        @Option(help: "At most this many comments.")
        var limit: Int = 100
        @Flag(help: "Print JSON instead of a table.")
        var json = false
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            guard status == "all" || CommentStatus(rawValue: status) != nil else {
                throw ValidationError("--status is one of pending, approved, rejected, spam, deleted, all.")
            }
        }

        func run() async throws {
            let store = try await database.openAnyStore()
            let rows = try await store.moderationQueue(siteID: site, status: CommentStatus(rawValue: status), limit: limit)
            if json {
                printJSON(rows.map { CommentView(thread: $0.0, comment: $0.1) })
            } else if rows.isEmpty {
                print("No \(status == "all" ? "" : status + " ")comments.")
            } else {
                printTable(
                    ["ID", "STATUS", "SCORE", "SITE", "PAGE", "AUTHOR", "NETWORK", "WHEN", "TEXT"],
                    rows.map { thread, comment in
                        [String(comment.id), comment.status.rawValue, String(format: "%.1f", comment.spamScore), thread.siteID,
                         thread.uri, comment.author ?? "-", comment.ip.map(IPAnonymizer.storedNetwork) ?? "-", formatTime(comment.createdAt),
                         excerpt(comment.body, 50)]
                    })
            }
        }
    }

    /// `margin moderate show ID`
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one comment with its score, reasons and log.")
        @Argument(help: "Comment id.")
        var id: Int64
        @Flag(help: "Print JSON.")
        var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            try await reporting {
                guard let comment = try await store.comment(id: id), let thread = try await store.thread(id: comment.threadID) else {
                    throw CommentsError.commentNotFound(id)
                }
                let log = try await store.moderationLog(commentID: id, limit: 100)
                if json {
                    printJSON(CommentView(thread: thread, comment: comment, log: log))
                    return
                }
                print("Comment \(comment.id) on \(thread.siteID) \(thread.uri)\(thread.title.map { " (\($0))" } ?? "")")
                print("Status:  \(comment.status.rawValue)")
                print("Author:  \(comment.author ?? "Anonymous")\(comment.email.map { " <\($0)>" } ?? "")")
                if let website = comment.website { print("Website: \(website)") }
                if let ip = comment.ip { print("Network: \(IPAnonymizer.storedNetwork(ip))") }
                print("Posted:  \(formatTime(comment.createdAt))\(comment.editedAt.map { ", edited \(formatTime($0))" } ?? "")")
                if let parent = comment.parentID { print("Reply to: \(parent)") }
                print("Score:   \(String(format: "%.1f", comment.spamScore))")
                for reason in comment.spamReasons { print("  \(reason)") }
                print("")
                print(comment.body)
                if !log.isEmpty {
                    print("")
                    print("Log:")
                    for entry in log.reversed() {
                        print("  \(formatTime(entry.at))  \(entry.action) by \(entry.moderator ?? entry.actor.rawValue)\(entry.reason.map { ": \($0)" } ?? "")")
                    }
                }
            }
        }
    }

    /// Shared by approve, reject, spam and delete.
    struct ActionOptions: ParsableArguments {
        @Argument(help: "Comment ids.")
        var ids: [Int64]
        @Option(help: "Why, for the log.")
        var reason: String?
        @Option(name: .customLong("public-url"), help: ArgumentHelp("Public base URL of the server, for links in the mails this causes (env \(ServerSettings.publicURL.key.environment))."))
        var publicURL: String?
        @OptionGroup var database: DatabaseOptions

        func apply(_ action: ModerationAction) async throws {
            let store = try await database.openAnyStore()
            try await reporting {
                // Check every id first, so a typo changes nothing.
                for id in ids where try await store.comment(id: id) == nil { throw CommentsError.commentNotFound(id) }
                let moderator = Moderator(store: store, clock: SystemClock(), notifier: MailOptions.notifier(store: store, publicURL: publicURL, file: try? database.configFile()))
                for id in ids {
                    switch try await moderator.act(on: id, action: action, actor: .cli, reason: reason) {
                    case .applied(let comment):
                        print("\(id): \(comment.map { $0.status.rawValue } ?? "removed")")
                    case .linkAlreadyUsed, .alreadyDecided:
                        print("\(id): unchanged")
                    }
                }
            }
        }
    }

    /// `margin moderate approve ID…`
    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Publish comments (and teach the filter they are not spam).")
        @OptionGroup var options: ActionOptions
        func run() async throws { try await options.apply(.approve) }
    }

    /// `margin moderate reject ID…`
    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hide comments without calling them spam.")
        @OptionGroup var options: ActionOptions
        func run() async throws { try await options.apply(.reject) }
    }

    /// `margin moderate spam ID…`
    struct MarkSpam: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "spam", abstract: "Mark comments as spam (and teach the filter).")
        @OptionGroup var options: ActionOptions
        func run() async throws { try await options.apply(.spam) }
    }

    /// `margin moderate delete ID…`
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete comments (a tombstone stays where replies exist).")
        @OptionGroup var options: ActionOptions
        func run() async throws { try await options.apply(.delete) }
    }

    /// `margin moderate link ID ACTION`
    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a signed, single-use moderation link.")
        @Argument(help: "Comment id.")
        var id: Int64
        @Argument(help: "approve, reject, spam or delete.")
        var action: ModerationAction
        @Option(name: .customLong("public-url"), help: ArgumentHelp("Public base URL of the server (env \(ServerSettings.publicURL.key.environment); default http://127.0.0.1:8080)."))
        var publicURL: String?
        @Option(help: ArgumentHelp("Days until the link expires (default: the \(ServerSettings.linkDays.name) setting, from \(ServerSettings.linkDays.key.environment) or the --config file, else \(ServerSettings.linkDays.defaultValue))."))
        var days: Int?
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            try await reporting {
                guard let comment = try await store.comment(id: id), let thread = try await store.thread(id: comment.threadID) else {
                    throw CommentsError.commentNotFound(id)
                }
                let signer = try await MailOptions.signer(store: store)
                let days = self.days ?? ServerSettings.linkDays.resolved(environment: ProcessInfo.processInfo.environment, file: try? database.configFile())
                let expires = SystemClock().nowMillis() + Int64(days) * 86_400_000
                guard let link = signer.sign(site: thread.siteID, commentID: id, action: action.rawValue, expiresAt: expires,
                                             nonce: LinkSigner.makeNonce(random: SystemRandom()))
                else { throw CommentsError.storageUnavailable("no signing key") }
                print(MailOptions.publicURL(publicURL, file: try? database.configFile()) + link.pathAndQuery)
            }
        }
    }

    /// `margin moderate log [ID]`
    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the moderation log (of one comment, or everything).")
        @Argument(help: "Comment id.")
        var id: Int64?
        @Option(help: "At most this many entries.")
        var limit: Int = 100
        @Flag(help: "Print JSON.")
        var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            let entries = try await store.moderationLog(commentID: id, limit: limit)
            if json {
                printJSON(entries)
            } else if entries.isEmpty {
                print("The log is empty.")
            } else {
                printTable(["WHEN", "COMMENT", "SITE", "ACTION", "BY", "REASON"], entries.map { entry in
                    let by = entry.moderator.map { "\(entry.actor.rawValue) (\($0))" } ?? entry.actor.rawValue
                    return [formatTime(entry.at), String(entry.commentID), entry.siteID, entry.action, by, entry.reason ?? ""]
                })
            }
        }
    }
}

/// A comment as the moderation CLI prints it in JSON (stable field names for scripts).
struct CommentView: Encodable {
    var id: Int64
    var site: String
    var uri: String
    var parent: Int64?
    var status: String
    var author: String?
    var email: String?
    var website: String?
    var text: String
    var score: Double
    var reasons: [String]
    var created: Int64
    var edited: Int64?
    var ip: String?
    var log: [ModerationLogEntry]?

    init(thread: CommentThread, comment: Comment, log: [ModerationLogEntry]? = nil) {
        id = comment.id
        site = thread.siteID
        uri = thread.uri
        parent = comment.parentID
        status = comment.status.rawValue
        author = comment.author
        email = comment.email
        website = comment.website
        text = comment.body
        score = comment.spamScore
        reasons = comment.spamReasons
        created = comment.createdAt
        edited = comment.editedAt
        // The anonymised network with its prefix, as `margin block add ip` takes it.
        ip = comment.ip.map(IPAnonymizer.storedNetwork)
        self.log = log
    }
}

extension ModerationAction: ExpressibleByArgument {}
