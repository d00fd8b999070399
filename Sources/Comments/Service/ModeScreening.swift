/// Screening by the site's moderation mode alone: `all` holds everything, anything else publishes.
public struct ModeScreening: Screening {
    public init() {}
    public func judge(_ draft: Draft) async throws -> Judgement {
        plan(for: draft).decide(draft.thread, nil)
    }

    public func plan(for draft: Draft) -> ScreeningPlan {
        let holdsAll = draft.site.moderation == .all
        return ScreeningPlan(query: nil) { _, _ in
            holdsAll ? Judgement(status: .pending, reasons: ["site holds every comment for review"]) : Judgement(status: .approved)
        }
    }
}
