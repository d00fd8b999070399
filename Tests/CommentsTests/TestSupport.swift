import Comments
import Testing

/// Swift Testing has a `Comment` type too; in these tests the word means ours.
typealias Comment = Comments.Comment
