import Comments
import Foundation
import Moderation

extension HookRoutes {
    /// The body of `POST /api/v1/admin/hooks`; `HookRegistry.add` checks the rest.
    struct AddRequest: JSONRequest {
        var input: HookInput

        init(_ json: JSONFields) throws {
            let presetText = try json.string("preset")
            guard let presetText, let preset = Hook.Preset(rawValue: presetText) else {
                throw CommentsError.invalidField(
                    field: "preset", message: "must be \(Hook.Preset.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            input = HookInput(preset: preset)
            input.name = try json.string("name")
            input.siteID = try HookRoutes.site(json)
            input.url = try json.string("url")
            input.target = try json.string("target")
            input.token = try json.string("token")
            input.events = try HookRoutes.events(json)
            input.trusted = try json.boolean("trusted") ?? false
            input.allowPrivate = try json.boolean("allow_private") ?? false
            input.enabled = try json.boolean("enabled") ?? true
        }
    }

    /// The body of `PATCH /api/v1/admin/hooks/{id}`: only the fields sent change; `site: null`
    /// makes it hear every site.
    struct Changes: JSONRequest {
        var changes = HookChanges()

        init(_ json: JSONFields) throws {
            changes.name = try json.string("name")
            if json.values.keys.contains("site") { changes.siteID = .some(try HookRoutes.site(json)) }
            changes.url = try json.string("url")
            changes.target = try json.string("target")
            changes.token = try json.string("token")
            changes.events = try HookRoutes.events(json)
            changes.trusted = try json.boolean("trusted")
            changes.allowPrivate = try json.boolean("allow_private")
            changes.enabled = try json.boolean("enabled")
            changes.rotateSecret = try json.boolean("rotate_secret") ?? false
        }
    }

    /// `site`: a site id, or nil (null or absent) for every site; an empty one is a mistake.
    static func site(_ json: JSONFields) throws -> String? {
        let site = try json.string("site")
        if site?.isEmpty == true { throw CommentsError.invalidField(field: "site", message: "must be a site id, or null for every site") }
        return site
    }

    /// `events`: event names (`comment.held` or `held`), or `["all"]`; nil when absent or null.
    static func events(_ json: JSONFields) throws -> [HookEventType]? {
        guard let items = try json.strings("events") else { return nil }
        // Each item is one name: `HookEventType.parseList` would read "held,spam" as two.
        if let bad = items.first(where: { $0.contains(",") || $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw CommentsError.invalidField(field: "events", message: "unknown event '\(bad)'")
        }
        return try HookEventType.parseList(items.joined(separator: ","))
    }
}
