//! What a caller may read of people and of single records: the one place
//! that decides it. Viewers and wall screens (display keys) see aggregates
//! only (PRODUCT.md §1): no person's name, phone or account, no free text
//! that may hold them, no row naming one hazard or place. Every view that
//! carries such data implements [`Disclose`] and is sent `seen_by` its
//! caller.

use crate::app::analytics::{Locations, Recurring};
use crate::domain::access::{Caller, Capability};

/// Whether `caller` may read personal data and single records.
pub fn discloses_to(caller: &Caller) -> bool {
    caller.may(Capability::ReadContactDetails)
}

/// A view that holds personal data or single records.
pub trait Disclose: Sized {
    /// The view with every personal or row-level part left out.
    fn aggregate_only(self) -> Self;

    /// The view as `caller` may read it.
    fn seen_by(self, caller: &Caller) -> Self {
        if discloses_to(caller) {
            self
        } else {
            self.aggregate_only()
        }
    }
}

impl Disclose for Recurring {
    /// The count stays; the hazards, enterprises and places go.
    fn aggregate_only(mut self) -> Recurring {
        self.items.clear();
        self.items_withheld = true;
        self
    }
}

impl Disclose for Locations {
    /// Places are free text an enterprise typed: withheld.
    fn aggregate_only(mut self) -> Locations {
        self.items.clear();
        self.items_withheld = true;
        self
    }
}
