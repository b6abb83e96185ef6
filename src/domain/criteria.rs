//! The 20 national criteria for a major hazard in chemical and
//! hazardous-chemical enterprises (安监总管三〔2017〕121号), shipped with the
//! service as data. A major hazard cites one of them by code.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const CRITERIA_JSON: &str = include_str!("../../reference/major-hazard-criteria.json");

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MajorHazardCriteria {
    /// The standard the items come from.
    pub standard: String,
    pub note: String,
    pub items: Vec<Criterion>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Criterion {
    /// Item number, 1–20.
    pub code: i32,
    pub text: String,
}

/// The criteria, parsed once. The file is part of the binary and checked by
/// a test, so a parse failure here is a build defect.
pub fn major_hazard_criteria() -> &'static MajorHazardCriteria {
    static CRITERIA: OnceLock<MajorHazardCriteria> = OnceLock::new();
    CRITERIA.get_or_init(|| {
        serde_json::from_str(CRITERIA_JSON).unwrap_or_else(|e| MajorHazardCriteria {
            standard: format!("criteria file unreadable: {e}"),
            note: String::new(),
            items: Vec::new(),
        })
    })
}

pub fn is_major_basis_code(code: i32) -> bool {
    major_hazard_criteria()
        .items
        .iter()
        .any(|item| item.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_has_twenty_numbered_items() {
        let criteria = major_hazard_criteria();
        assert!(criteria.standard.contains("121"));
        let codes: Vec<i32> = criteria.items.iter().map(|item| item.code).collect();
        assert_eq!(codes, (1..=20).collect::<Vec<_>>());
        assert!(is_major_basis_code(1) && is_major_basis_code(20));
        assert!(!is_major_basis_code(0) && !is_major_basis_code(21));
    }
}
