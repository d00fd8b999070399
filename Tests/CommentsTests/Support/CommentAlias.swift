import Comments
import Testing

/// Swift Testing has a `Comment` type too; in these tests the word means ours. The alias must be
/// declared in this module: only a declaration of the module itself shadows imported ones (an
/// alias imported from TestSupport would be a third candidate, as ambiguous as the other two).
typealias Comment = Comments.Comment
