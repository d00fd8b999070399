import ArgumentParser
import Comments
import Foundation

/// `margin sites …`: the blogs this server serves.
struct Sites: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add, list, update and remove sites.",
        subcommands: [Add.self, List.self, Update.self, Remove.self])

    /// `margin sites add ID --name … --origin …`
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a site.")

        @Argument(help: "Site id, as the embed's data-site names it (letters, digits, - and _).")
        var id: String
        @Option(help: "Display name (default: the id).")
        var name: String?
        @Option(name: .customLong("origin"), help: "An origin allowed to embed and post, e.g. https://blog.example.org; repeat for several; a port of * matches any.")
        var origins: [String] = []
        @Option(help: "none, auto or all (default none).")
        var moderation: ModerationMode = .none
        @Flag(name: .customLong("require-author"), help: "Require a name on every comment.")
        var requireAuthor = false
        @Flag(name: .customLong("require-email"), help: "Require an email address on every comment.")
        var requireEmail = false
        @Option(name: .customLong("rate-limit"), help: "Comments one client may post, e.g. 3/min,20/h, or off (default: the server's, 3/min,20/h).")
        var rateLimit: String?
        @Option(name: .customLong("vote-rate-limit"), help: "Votes one client network may cast, e.g. 30/min,300/h, or off (default: the server's vote_rate_limit).")
        var voteRateLimit: String?
        @Option(name: .customLong("moderator"), help: "Email of a moderator of this site; repeat for several (default: the server's --moderator).")
        var moderators: [String] = []
        @Option(help: "Commenters' pictures: identicon (drawn in the browser, the default) or gravatar (loaded from gravatar.com by each reader's browser).")
        var avatars: AvatarSource = .identicon
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            try SiteArguments.validate(id: id, origins: origins)
            _ = try SiteArguments.rateLimit(rateLimit)
            _ = try SiteArguments.rateLimit(voteRateLimit)
            try SiteArguments.validate(moderators: moderators)
        }

        func run() async throws {
            let store = try await database.openAnyStore()
            let site = Site(
                id: id, name: name ?? id, origins: origins.map(SiteArguments.normalizeOrigin), moderation: moderation,
                requireAuthor: requireAuthor, requireEmail: requireEmail, createdAt: SystemClock().nowMillis(),
                rateLimit: try SiteArguments.rateLimit(rateLimit), moderators: moderators, avatars: avatars,
                voteRateLimit: try SiteArguments.rateLimit(voteRateLimit))
            try await reporting { try await store.addSite(site) }
            print("Added site '\(id)'.")
        }
    }

    /// `margin sites list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sites.")
        @Flag(help: "Print JSON instead of a table.")
        var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            let sites = try await store.sites()
            var rows: [SiteView] = []
            for site in sites {
                rows.append(SiteView(site: site, comments: try await store.commentCount(siteID: site.id)))
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            } else {
                printTable(
                    ["ID", "NAME", "MODERATION", "RATE LIMIT", "COMMENTS", "ORIGINS"],
                    rows.map { [$0.id, $0.name, $0.moderation, $0.rateLimit, String($0.comments), $0.origins.joined(separator: " ")] })
            }
        }
    }

    /// `margin sites update ID …`
    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a site's settings.")
        @Argument(help: "Site id.")
        var id: String
        @Option(help: "New display name.")
        var name: String?
        @Option(name: .customLong("origin"), help: "Replace the allowed origins (repeat for several).")
        var origins: [String] = []
        @Option(help: "none, auto or all.")
        var moderation: ModerationMode?
        @Option(name: .customLong("require-author"), help: "true or false.")
        var requireAuthor: Bool?
        @Option(name: .customLong("require-email"), help: "true or false.")
        var requireEmail: Bool?
        @Option(name: .customLong("rate-limit"), help: "e.g. 3/min,20/h, off, or default.")
        var rateLimit: String?
        @Option(name: .customLong("vote-rate-limit"), help: "Votes per client network, e.g. 30/min,300/h, off, or default.")
        var voteRateLimit: String?
        @Option(name: .customLong("moderator"), help: "Replace the site's moderators (repeat for several; 'none' clears them).")
        var moderators: [String] = []
        @Option(help: "identicon or gravatar.")
        var avatars: AvatarSource?
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            try SiteArguments.validate(id: id, origins: origins)
            if rateLimit != "default" { _ = try SiteArguments.rateLimit(rateLimit) }
            if voteRateLimit != "default" { _ = try SiteArguments.rateLimit(voteRateLimit) }
            if moderators != ["none"] { try SiteArguments.validate(moderators: moderators) }
        }

        func run() async throws {
            let store = try await database.openAnyStore()
            try await reporting {
                guard var site = try await store.site(id: id) else { throw CommentsError.siteNotFound(id) }
                if let name { site.name = name }
                if !origins.isEmpty { site.origins = origins.map(SiteArguments.normalizeOrigin) }
                if let moderation { site.moderation = moderation }
                if let requireAuthor { site.requireAuthor = requireAuthor }
                if let requireEmail { site.requireEmail = requireEmail }
                if let rateLimit { site.rateLimit = rateLimit == "default" ? nil : try SiteArguments.rateLimit(rateLimit) }
                if let voteRateLimit { site.voteRateLimit = voteRateLimit == "default" ? nil : try SiteArguments.rateLimit(voteRateLimit) }
                if !moderators.isEmpty { site.moderators = moderators == ["none"] ? [] : moderators }
                if let avatars { site.avatars = avatars }
                try await store.updateSite(site)
            }
            print("Updated site '\(id)'.")
        }
    }

    /// `margin sites remove ID [--force]`
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a site (refuses while it has comments, unless --force).")
        @Argument(help: "Site id.")
        var id: String
        @Flag(help: "Remove the site even though it has comments, deleting them too.")
        var force = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            let removed = try await reporting { try await store.removeSite(id: id, force: force) }
            print("Removed site '\(id)'" + (removed > 0 ? " and its \(removed) comment(s)." : "."))
        }
    }
}

/// A site as `sites list` shows it.
struct SiteView: Encodable {
    var id: String
    var name: String
    var origins: [String]
    var moderation: String
    var requireAuthor: Bool
    var requireEmail: Bool
    var rateLimit: String
    var voteRateLimit: String
    var moderators: [String]
    var avatars: String
    var comments: Int

    init(site: Site, comments: Int) {
        id = site.id
        name = site.name
        origins = site.origins
        moderation = site.moderation.rawValue
        requireAuthor = site.requireAuthor
        requireEmail = site.requireEmail
        rateLimit = site.rateLimit?.description ?? "default"
        voteRateLimit = site.voteRateLimit?.description ?? "default"
        moderators = site.moderators
        avatars = site.avatars.rawValue
        self.comments = comments
    }

    enum CodingKeys: String, CodingKey {
        case id, name, origins, moderation, comments, moderators, avatars
        case requireAuthor = "require_author"
        case requireEmail = "require_email"
        case rateLimit = "rate_limit"
        case voteRateLimit = "vote_rate_limit"
    }
}

/// Checks on site ids and origins given on the command line.
enum SiteArguments {
    static func validate(id: String, origins: [String]) throws {
        try checked { try SiteRules.id(id); _ = try SiteRules.origins(origins) }
    }

    static func rateLimit(_ text: String?) throws -> RateLimit? {
        try checked { try SiteRules.rateLimit(text) }
    }

    static func validate(moderators: [String]) throws {
        try checked { _ = try SiteRules.moderators(moderators) }
    }

    /// The rule's sentence as a usage error.
    static func checked<T>(_ check: () throws -> T) throws -> T {
        do {
            return try check()
        } catch CommentsError.invalidField(_, let message) {
            throw ValidationError(message)
        }
    }

    /// Lower-cases and drops a trailing slash: browsers send origins that way.
    static func normalizeOrigin(_ origin: String) -> String {
        var value = origin.lowercased()
        if value.hasSuffix("/") { value.removeLast() }
        return value
    }
}

extension ModerationMode: ExpressibleByArgument {}
extension AvatarSource: ExpressibleByArgument {}
