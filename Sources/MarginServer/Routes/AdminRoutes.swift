import Comments
import Foundation
import Hummingbird
import NIOCore

/// Exports and imports in the admin API (`/api/v1/admin/export`, `/import`), for admin tokens
/// and admins signed in to the console (`ConsoleGate`): streamed exports and uploads to import.
struct AdminRoutes: Sendable {
    let store: any CommentStore
    let clock: any MarginClock
    /// Admin tokens and admins' console sessions.
    let gate: ConsoleGate
    /// The server's edit window: an imported edit key hash is kept only for comments older than this.
    var editWindowMillis: Int64 = Limits.editWindowMillis
    /// Largest upload accepted for import.
    static let uploadBytesMax = 1 << 30
    /// Where uploads to import go: the one route whose body may exceed the API's body limit.
    static let importPath = "/api/v1/admin/import"

    func register(on router: Router<MarginRequestContext>) {
        let admin = router.group("api/v1/admin")
        admin.get("export", use: export)
        admin.post("import", use: importUpload)
    }

    /// Ten failed token attempts a minute from one client network; counted in memory, per node.
    static let failureLimit = RateLimit(windows: [.init(count: 10, seconds: 60)])

    static func tooManyFailures(_ wait: Int) -> APIError {
        APIError(.tooManyRequests, code: "rate_limited", message: "Too many failed attempts; wait \(wait) s.",
                 headers: [.retryAfter: String(wait)])
    }

    /// `GET /api/v1/admin/export?format=margin|disqus|csv[&site=]`, streamed.
    @Sendable func export(_ request: Request, context: MarginRequestContext) async throws -> Response {
        try await gate.caller(request, context: context).requireAdmin()
        let query = request.uri.queryParameters
        let formatText = query["format"].map(String.init) ?? "margin"
        guard let format = ExportFormat(rawValue: formatText) else {
            throw CommentsError.invalidField(field: "format", message: "must be \(ExportFormat.listed)")
        }
        let site = query["site"].map(String.init)
        if let site, try await store.site(id: site) == nil { throw CommentsError.siteNotFound(site) }
        // Export to a temporary file first, then stream it: the database read stays short and
        // memory stays flat whatever the size.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("margin-export-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        do {
            try await Transfer(store: store, clock: clock).export(format: format, siteID: site) { bytes in
                try handle.write(contentsOf: Data(bytes))
            }
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: file)
            throw error
        }
        let contentType = switch format {
        case .margin: "application/x-ndjson; charset=utf-8"
        case .disqus: "application/xml; charset=utf-8"
        case .csv: "text/csv; charset=utf-8"
        }
        let body = ResponseBody { writer in
            defer { try? FileManager.default.removeItem(at: file) }
            let reader = try FileHandle(forReadingFrom: file)
            defer { try? reader.close() }
            while let chunk = try reader.read(upToCount: 1 << 16), !chunk.isEmpty {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [
            .contentType: contentType, .cacheControl: "no-store",
            .contentDisposition: "attachment; filename=\"margin-export.\(format == .margin ? "jsonl" : format == .csv ? "csv" : "xml")\"",
        ], body: body)
    }

    /// `POST /api/v1/admin/import?format=disqus|wordpress|isso|margin[&site=][&dry_run=1|true|0|false]` with the file as the body.
    @Sendable func importUpload(_ request: Request, context: MarginRequestContext) async throws -> Response {
        try await gate.changingCaller(request, context: context).requireAdmin()
        let query = request.uri.queryParameters
        guard let format = query["format"].map(String.init).flatMap(ImportFormat.init(rawValue:)) else {
            throw CommentsError.invalidField(field: "format", message: "must be \(ImportFormat.listed)")
        }
        let site = query["site"].map(String.init) ?? "default"
        let dryRun: Bool
        switch query["dry_run"].map(String.init) {
        case nil, "0", "false": dryRun = false
        case "1", "true": dryRun = true
        // Anything else was once taken as "no", importing what was meant as a trial run.
        default: throw CommentsError.invalidField(field: "dry_run", message: "must be 1, true, 0 or false")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("margin-import-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        var received = 0
        do {
            for try await buffer in request.body {
                received += buffer.readableBytes
                if received > Self.uploadBytesMax { throw NIOTooManyBytesError(maxBytes: Self.uploadBytesMax) }
                try handle.write(contentsOf: Data(buffer.readableBytesView))
            }
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        let importRequest = ImportRequest(format: format, file: file, siteID: site, dryRun: dryRun, editWindowMillis: editWindowMillis)
        let summary: ImportSummary
        do {
            summary = try await Transfer(store: store, clock: clock).importFile(importRequest)
        } catch let error as ImportError {
            let position = error.line > 0 ? "Line \(error.line), column \(error.column): " : ""
            throw APIError(.unprocessableContent, code: "malformed_import", message: "\(position)\(error.message). Nothing was imported.")
        }
        return try JSONBody.response(encoding: summary)
    }
}
