/// Limits on what a reader may submit; the widget reads them from `/api/v1/config`.
public enum Limits {
    public static let textMax = 10_000
    public static let authorMax = 100
    public static let emailMax = 254
    public static let websiteMax = 254
    public static let titleMax = 200
    public static let userAgentMax = 512
    /// The largest request body the API reads.
    public static let bodyBytesMax = 64 * 1024
    /// How many uris one counts request may name.
    public static let countsMax = 100
    /// How long an author may edit or delete their comment by default (the `edit_window` setting).
    public static let editWindowSeconds = 900
    /// `editWindowSeconds` in milliseconds, as stored times are.
    public static var editWindowMillis: Int64 { Int64(editWindowSeconds) * 1000 }
}
