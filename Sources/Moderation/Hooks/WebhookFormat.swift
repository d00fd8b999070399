import Comments
import Foundation

/// The generic webhook (Standard Webhooks): the event as JSON, `type`, `timestamp` and `data`
/// (the stored event data with the signed `links`), signed with the hook's secret.
enum WebhookFormat {
    /// The request for one attempt at unix seconds `now / 1000`.
    static func request(hook: Hook, eventID: String, type: HookEventType, eventTime: Int64, data: HookEventData, links: [HookLink],
                        now: Int64) throws -> HookRequest {
        let body = body(type: type, eventTime: eventTime, data: data, links: links)
        let timestamp = now / 1000
        guard let secret = hook.secret, let signature = HookSignature.sign(secret: secret, id: eventID, timestamp: timestamp, body: body)
        else { throw HookFailure("the hook has no usable signing secret; rotate it (margin hooks update \(hook.id) --rotate-secret)") }
        return HookRequest(url: hook.url, headers: [
            ("webhook-id", eventID), ("webhook-timestamp", String(timestamp)), ("webhook-signature", signature),
        ], body: body)
    }

    /// `{"data": {…, "links": {…} | null}, "timestamp": "…", "type": "comment.held"}`.
    static func body(type: HookEventType, eventTime: Int64, data: HookEventData, links: [HookLink]) -> [UInt8] {
        let linkURLs = links.isEmpty ? nil : Dictionary(uniqueKeysWithValues: links.map { ($0.action.rawValue, $0.url) })
        let envelope = Envelope(type: type.rawValue, timestamp: HookText.iso(millis: eventTime),
                                data: DataWithLinks(event: data, links: linkURLs))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, numbers and nulls only: encoding cannot fail.
        return (try? encoder.encode(envelope)).map { Array($0) } ?? Array("{}".utf8)
    }

    /// The body's top level: the event's `type`, its `timestamp` and its `data`.
    private struct Envelope: Encodable {
        var type: String
        var timestamp: String
        var data: DataWithLinks
    }

    /// The event data's keys and `links` beside them, in one object.
    private struct DataWithLinks: Encodable {
        var event: HookEventData
        var links: [String: String]?

        enum CodingKeys: String, CodingKey { case links }

        func encode(to encoder: any Encoder) throws {
            try event.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(links, forKey: .links)
        }
    }
}
