/// What deleting a comment did.
public enum DeletionOutcome: Sendable, Equatable {
    /// The row is gone (it had no replies).
    case removed
    /// The row stays as a content-free tombstone so its replies keep their place.
    case tombstoned
}
