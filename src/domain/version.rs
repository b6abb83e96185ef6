//! Optimistic concurrency: the versions of a record a client's change was
//! made against (from `If-Match`), checked against the record as it is.

use crate::error::AppError;

/// Which versions a change may apply to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// `*`: any version of a record that exists.
    Any,
    /// One of these versions; an empty list admits none.
    OneOf(Vec<i64>),
}

impl ExpectedVersion {
    pub fn admits(&self, version: i64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::OneOf(versions) => versions.contains(&version),
        }
    }
}

/// Refuses (`412`) a change made against a version that is not current;
/// no precondition admits any version.
pub fn check_version(expected: Option<&ExpectedVersion>, current: i64) -> Result<(), AppError> {
    match expected {
        Some(expected) if !expected.admits(current) => Err(AppError::PreconditionFailed),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_listed_version_or_any_is_admitted() {
        assert!(check_version(None, 3).is_ok());
        assert!(check_version(Some(&ExpectedVersion::Any), 3).is_ok());
        assert!(check_version(Some(&ExpectedVersion::OneOf(vec![2, 3])), 3).is_ok());
        assert!(check_version(Some(&ExpectedVersion::OneOf(vec![2])), 3).is_err());
        assert!(check_version(Some(&ExpectedVersion::OneOf(vec![])), 3).is_err());
    }
}
