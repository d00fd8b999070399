import Foundation

/// One import as a front end asks for it (`margin import`, the admin API): which file, in
/// which format, into which site, and how.
public struct ImportRequest: Sendable {
    public var format: ImportFormat
    /// The file to read, already on disk.
    public var file: URL
    /// The site a record format's comments go into (a Margin export names its own sites).
    public var siteID: String
    /// Remap rules applied to each thread's path (record formats).
    public var rules: RemapRules
    /// Reports what would be imported without writing anything.
    public var dryRun: Bool
    /// Skips and counts invalid records instead of refusing the file (record formats).
    public var skipInvalid: Bool
    /// The server's edit window: an imported edit key hash is kept only for comments older than this.
    public var editWindowMillis: Int64
    /// Called now and then with the number of posts read (record formats).
    public var progress: (@Sendable (Int) -> Void)?

    /// A request; everything but the format and the file has the defaults both front ends use.
    public init(format: ImportFormat, file: URL, siteID: String = "default", rules: RemapRules = RemapRules(), dryRun: Bool = false,
                skipInvalid: Bool = false, editWindowMillis: Int64 = Limits.editWindowMillis, progress: (@Sendable (Int) -> Void)? = nil) {
        self.format = format
        self.file = file
        self.siteID = siteID
        self.rules = rules
        self.dryRun = dryRun
        self.skipInvalid = skipInvalid
        self.editWindowMillis = editWindowMillis
        self.progress = progress
    }
}
