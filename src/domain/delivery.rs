//! Where an escalation mail stands in the outbox: waiting to be sent,
//! delivered, waiting for a retry, given up, or no longer wanted.

use super::vocabulary::vocabulary;

vocabulary! {
    /// An outbox message's delivery state.
    pub enum DeliveryState {
        /// Not yet attempted.
        Pending => "pending",
        /// Accepted by the mail server.
        Sent => "sent",
        /// An attempt failed; it will be retried.
        Failed => "failed",
        /// Every attempt failed; given up.
        Dead => "dead",
        /// No longer wanted: the hazard was closed or voided, or its
        /// deadline moved.
        Cancelled => "cancelled",
    }
}

impl DeliveryState {
    /// The states a delivery worker still picks up.
    pub fn waiting() -> [DeliveryState; 2] {
        [DeliveryState::Pending, DeliveryState::Failed]
    }
}
