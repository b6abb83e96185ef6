//! Inspection templates (检查表): what a template holds, the built-in
//! "重大事故隐患判定" template generated from the 121号 criteria, an item's
//! result (pass, fail, not applicable) and what a failed item needs to
//! become a hazard. Pure rules; `app::checklists` records them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::criteria::major_hazard_criteria;
use crate::domain::park::Park;
use crate::domain::text::{optional_text, required_text, MAX_LINE, MAX_TEXT};
use crate::domain::vocabulary::vocabulary;
use crate::error::{AppError, FieldError, FieldErrors};
use crate::messages::Rule;

/// The most items one template holds, and one request records.
pub const MAX_ITEMS: usize = 500;

/// The built-in template's id: fixed, so clients may keep it.
pub const BUILT_IN_ID: Uuid = Uuid::from_u128(0x0195_0000_0121_7000_8000_0000_0000_0000);

/// The built-in template's item for criterion `code`.
pub fn built_in_item_id(code: i32) -> Uuid {
    Uuid::from_u128(BUILT_IN_ID.as_u128() + u128::from(code.unsigned_abs()))
}

vocabulary! {
    /// What an inspection found for one item.
    pub enum ItemOutcome {
        /// 符合
        Pass => "pass",
        /// 不符合: the item becomes a hazard.
        Fail => "fail",
        /// 不适用
        NotApplicable => "not_applicable",
    }
}

/// One item of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: Uuid,
    pub position: i32,
    pub text: String,
    /// The clause the item checks (依据).
    pub basis: Option<String>,
    pub specialty: Option<String>,
    /// An item of the built-in template: failing it is a major hazard
    /// with this 121号 basis.
    pub major_basis_code: Option<i32>,
}

/// A template and its items.
#[derive(Debug, Clone)]
pub struct Checklist {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub built_in: bool,
    pub items: Vec<Item>,
}

/// "重大事故隐患判定": one item per criterion of 安监总管三〔2017〕121号.
pub fn built_in() -> Checklist {
    let criteria = major_hazard_criteria();
    Checklist {
        id: BUILT_IN_ID,
        name: "重大事故隐患判定".to_owned(),
        description: Some(criteria.standard.clone()),
        built_in: true,
        items: criteria
            .items
            .iter()
            .map(|c| Item {
                id: built_in_item_id(c.code),
                position: c.code,
                text: c.text.clone(),
                basis: Some(format!("安监总管三〔2017〕121号 第{}项", c.code)),
                specialty: None,
                major_basis_code: Some(c.code),
            })
            .collect(),
    }
}

/// A template as sent.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChecklist {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    #[schema(min_items = 1, max_items = 500)]
    pub items: Vec<CreateItem>,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateItem {
    /// What to check.
    #[schema(min_length = 1, max_length = 200)]
    pub text: String,
    /// The clause it checks (依据).
    #[schema(max_length = 200)]
    pub basis: Option<String>,
    /// A specialty code (or label) from `/reference/vocabularies`.
    pub specialty: Option<String>,
}

/// A template, checked: its fields and its items in order.
pub struct NewChecklist {
    pub name: String,
    pub description: Option<String>,
    pub items: Vec<(String, Option<String>, Option<String>)>,
}

impl CreateChecklist {
    pub fn parse(&self, park: &Park) -> Result<NewChecklist, AppError> {
        let mut errors = FieldErrors::new();
        let name = AppError::gather(
            &mut errors,
            "name",
            required_text("name", &self.name, MAX_LINE),
        );
        let description = AppError::gather(
            &mut errors,
            "description",
            optional_text("description", self.description.as_deref(), MAX_TEXT),
        )
        .flatten();
        if self.items.is_empty() || self.items.len() > MAX_ITEMS {
            errors.insert(
                "items".into(),
                FieldError::new(Rule::ItemCount).with("max", MAX_ITEMS),
            );
        }
        let mut items = Vec::with_capacity(self.items.len());
        for (i, item) in self.items.iter().enumerate() {
            let field = |name: &str| format!("items[{i}].{name}");
            let text = AppError::gather(
                &mut errors,
                &field("text"),
                required_text(&field("text"), &item.text, MAX_LINE),
            );
            let basis = AppError::gather(
                &mut errors,
                &field("basis"),
                optional_text(&field("basis"), item.basis.as_deref(), MAX_LINE),
            )
            .flatten();
            let specialty = match item.specialty.as_deref() {
                None | Some("") => None,
                Some(given) => match park.specialty_code(given) {
                    Some(code) => Some(code.to_owned()),
                    None => {
                        errors.insert(field("specialty"), Rule::NotSpecialty.into());
                        None
                    }
                },
            };
            items.push((text.unwrap_or_default(), basis, specialty));
        }
        if !errors.is_empty() {
            return Err(AppError::invalid_fields(errors));
        }
        Ok(NewChecklist {
            name: name.unwrap_or_default(),
            description,
            items,
        })
    }
}

/// The results an inspection records for items of one template.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordResults {
    pub checklist_id: Uuid,
    #[schema(min_items = 1, max_items = 500)]
    pub results: Vec<ItemResult>,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemResult {
    pub item_id: Uuid,
    pub outcome: ItemOutcome,
    #[schema(max_length = 10000)]
    pub note: Option<String>,
    /// Required for a failed item: what the hazard it becomes needs
    /// beyond what the item says.
    pub hazard: Option<FailedItemHazard>,
}

/// What a failed item's hazard needs: where, what kind, by when. Its title
/// is the item's text, its specialty the item's, its description the note
/// (or the item), and an item of the built-in template makes it major with
/// that basis.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailedItemHazard {
    #[schema(min_length = 1, max_length = 200)]
    pub location: String,
    /// A category code (or label) from `/reference/vocabularies`.
    pub category: String,
    pub deadline: NaiveDate,
    /// Instead of the item's text.
    #[schema(max_length = 200)]
    pub title: Option<String>,
}

impl RecordResults {
    /// Checks the shape of the request against the template: known items,
    /// each once, notes bounded, a failed item with its hazard's details
    /// and no details on one that did not fail.
    pub fn check(&self, checklist: &Checklist) -> Result<(), AppError> {
        let mut errors = FieldErrors::new();
        if self.results.is_empty() || self.results.len() > MAX_ITEMS {
            errors.insert(
                "results".into(),
                FieldError::new(Rule::ResultCount).with("max", MAX_ITEMS),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (i, result) in self.results.iter().enumerate() {
            let field = |name: &str| format!("results[{i}].{name}");
            if !checklist.items.iter().any(|item| item.id == result.item_id) {
                errors.insert(field("item_id"), Rule::NotChecklistItem.into());
            } else if !seen.insert(result.item_id) {
                errors.insert(field("item_id"), Rule::AppearsTwice.into());
            }
            let note = optional_text(&field("note"), result.note.as_deref(), MAX_TEXT);
            AppError::gather(&mut errors, &field("note"), note);
            match (result.outcome, &result.hazard) {
                (ItemOutcome::Fail, None) => {
                    errors.insert(field("hazard"), Rule::FailedItemNeedsHazard.into());
                }
                (ItemOutcome::Pass | ItemOutcome::NotApplicable, Some(_)) => {
                    errors.insert(field("hazard"), Rule::OnlyForFailedItem.into());
                }
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::invalid_fields(errors))
        }
    }
}

/// Items checked out of all, in percent with one decimal.
pub fn coverage_percent(checked: usize, total: usize) -> f64 {
    if total == 0 {
        return 0.0;
    }
    (checked as f64 * 1000.0 / total as f64).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_template_has_the_twenty_criteria() {
        let list = built_in();
        assert_eq!(list.items.len(), 20);
        assert_eq!(list.items[11].major_basis_code, Some(12));
        assert_eq!(list.items[11].id, built_in_item_id(12));
        let ids: std::collections::HashSet<Uuid> = list.items.iter().map(|i| i.id).collect();
        assert_eq!(ids.len(), 20);
        assert!(!ids.contains(&BUILT_IN_ID));
    }

    #[test]
    fn coverage_rounds_to_one_decimal() {
        assert_eq!(coverage_percent(1, 3), 33.3);
        assert_eq!(coverage_percent(20, 20), 100.0);
        assert_eq!(coverage_percent(0, 0), 0.0);
    }
}
