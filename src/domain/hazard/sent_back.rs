//! What "sent back" (被驳回) means: a hazard whose rectification was
//! rejected at acceptance (驳回) and not submitted again. It is still
//! rectifying, and a rejection came with no reopening after it (a reopened
//! hazard's earlier rejection is history). The list's `rejected=true`
//! filter is this definition in SQL.

use super::{HazardAction, HazardState};

/// The state a sent-back hazard is in.
pub const STATE: HazardState = HazardState::Rectifying;
/// The step that sends a hazard back.
pub const SENT_BY: HazardAction = HazardAction::Reject;
/// The step after which an earlier sending back no longer counts.
pub const CLEARED_BY: HazardAction = HazardAction::Reopen;

/// Whether a hazard in `state` whose steps were `steps` (in order) is sent
/// back.
pub fn is_sent_back(state: HazardState, steps: &[HazardAction]) -> bool {
    state == STATE
        && steps
            .iter()
            .rposition(|step| *step == SENT_BY)
            .is_some_and(|last| !steps[last..].contains(&CLEARED_BY))
}

#[cfg(test)]
mod tests {
    use super::*;
    use HazardAction as A;

    #[test]
    fn a_rejection_counts_until_a_reopening_or_a_new_submission() {
        let rejected = [A::Plan, A::Submit, A::Reject];
        assert!(is_sent_back(HazardState::Rectifying, &rejected));
        // Submitted again: pending acceptance, no longer sent back.
        assert!(!is_sent_back(HazardState::PendingAcceptance, &rejected));
        // Reopened after the rejection: that rejection is history.
        let reopened = [
            A::Plan,
            A::Submit,
            A::Reject,
            A::Submit,
            A::Accept,
            A::Reopen,
        ];
        assert!(!is_sent_back(HazardState::Rectifying, &reopened));
        // Rejected again after a reopening: sent back again.
        let again = [A::Submit, A::Reject, A::Reopen, A::Submit, A::Reject];
        assert!(is_sent_back(HazardState::Rectifying, &again));
        assert!(!is_sent_back(HazardState::Rectifying, &[A::Plan]));
    }
}
