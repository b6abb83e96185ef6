//! Who is asking: the authenticated caller of a request, and what it may
//! see.

use uuid::Uuid;

use crate::domain::hazard::Role;
use crate::error::AppError;

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user_id: Uuid,
    pub role: Role,
    /// Set exactly when `role` is `Enterprise`.
    pub enterprise_id: Option<Uuid>,
}

impl Caller {
    /// Refuses with `403` unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role], what: &str) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "the {} role may not {what}",
                self.role
            )))
        }
    }

    /// The enterprise an enterprise contact is confined to; `None` for the
    /// park's own roles, who see every enterprise.
    pub fn scope(&self) -> Option<Uuid> {
        self.enterprise_id
    }

    /// Whether the caller may see data of `enterprise_id` at all. Callers who
    /// may not get `404`, never `403`: another enterprise's data does not
    /// exist for them.
    pub fn can_see_enterprise(&self, enterprise_id: Uuid) -> bool {
        self.enterprise_id.is_none_or(|own| own == enterprise_id)
    }
}
