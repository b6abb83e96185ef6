//! Inspection templates (检查表) and running them: a template is recorded
//! with its items; an inspection records each item's result against one
//! template, and a failed item becomes a hazard of that inspection in the
//! same transaction (a major one, with its basis, for an item of the
//! built-in 121号 template). Any result, pass or fail or not applicable,
//! can carry photos.

use std::collections::HashMap;

use uuid::Uuid;

use crate::app::hazards::{self, Context};
use crate::db::checklists::{self as store, ChecklistRow, ItemRow, PhotoRow, ResultRow};
use crate::db::inspections::{self, Inspection};
use crate::db::{write_transaction, DbConnection, Id};
use crate::domain::access::Caller;
use crate::domain::checklist::{
    self, Checklist, FailedItemHazard, Item, ItemOutcome, NewChecklist, RecordResults,
};
use crate::domain::hazard::new::CreateHazard;
use crate::domain::hazard::HazardLevel;
use crate::domain::inspection::check_source_rules;
use crate::domain::park::Park;
use crate::error::{AppError, FieldErrors};
use crate::messages::{Detail, Rule};

/// Records a new template.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    new: NewChecklist,
    now: chrono::NaiveDateTime,
) -> Result<Checklist, AppError> {
    let id: Id = Uuid::now_v7().into();
    let row = ChecklistRow {
        id,
        name: new.name,
        description: new.description,
        created_by: caller.user_id.into(),
        created_at: now,
    };
    let items: Vec<ItemRow> = new
        .items
        .into_iter()
        .zip(1..)
        .map(|((text, basis, specialty), position)| ItemRow {
            id: Uuid::now_v7().into(),
            checklist_id: id,
            position,
            text,
            basis,
            specialty,
        })
        .collect();
    write_transaction(conn, |conn| store::insert(conn, &row, &items))?;
    Ok(assemble(row, items))
}

fn assemble(row: ChecklistRow, items: Vec<ItemRow>) -> Checklist {
    Checklist {
        id: row.id.uuid(),
        name: row.name,
        description: row.description,
        built_in: false,
        items: items
            .into_iter()
            .map(|item| Item {
                id: item.id.uuid(),
                position: item.position,
                text: item.text,
                basis: item.basis,
                specialty: item.specialty,
                major_basis_code: None,
            })
            .collect(),
    }
}

/// A template by id: the built-in one or a recorded one.
pub fn find(conn: &mut DbConnection, id: Uuid) -> Result<Checklist, AppError> {
    if id == checklist::BUILT_IN_ID {
        return Ok(checklist::built_in());
    }
    let row = store::find(conn, id.into())?.ok_or(AppError::NotFound("checklist"))?;
    let items = store::items_of(conn, &[row.id])?;
    Ok(assemble(row, items))
}

/// A page of templates, newest first; the first page starts with the
/// built-in one.
pub fn list(
    conn: &mut DbConnection,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Checklist>, AppError> {
    let first_page = before.is_none();
    let stored_limit = if first_page { limit - 1 } else { limit };
    let rows = store::list(conn, before.map(Id::from), stored_limit.max(0))?;
    let ids: Vec<Id> = rows.iter().map(|r| r.id).collect();
    let mut items: HashMap<Id, Vec<ItemRow>> = HashMap::new();
    for item in store::items_of(conn, &ids)? {
        items.entry(item.checklist_id).or_default().push(item);
    }
    let mut page = Vec::with_capacity(rows.len() + 1);
    if first_page && limit > 0 {
        page.push(checklist::built_in());
    }
    for row in rows {
        let its = items.remove(&row.id).unwrap_or_default();
        page.push(assemble(row, its));
    }
    Ok(page)
}

/// What an inspection recorded against its template.
pub struct InspectionResults {
    pub inspection_id: Uuid,
    /// Absent until a first result is recorded.
    pub checklist: Option<Checklist>,
    pub results: Vec<ResultRow>,
    /// Photos of the results, oldest first.
    pub photos: Vec<PhotoRow>,
}

/// An inspection the caller may see; another enterprise's is not found.
fn visible_inspection(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Inspection, AppError> {
    inspections::find(conn, id.into())?
        .filter(|i| caller.can_see_enterprise(i.enterprise_id.uuid()))
        .ok_or(AppError::NotFound("inspection"))
}

/// The results an inspection has recorded, with their template.
pub fn results(
    conn: &mut DbConnection,
    caller: &Caller,
    inspection_id: Uuid,
) -> Result<InspectionResults, AppError> {
    let inspection = visible_inspection(conn, caller, inspection_id)?;
    let results = store::results_of(conn, inspection.id)?;
    let checklist = match results.first() {
        Some(first) => Some(find(conn, first.checklist_id.uuid())?),
        None => None,
    };
    let photos = store::photos_of(conn, inspection.id)?;
    Ok(InspectionResults {
        inspection_id,
        checklist,
        results,
        photos,
    })
}

/// Records item results for an inspection, all or nothing: each item once,
/// all from the one template the inspection runs; a failed item becomes a
/// hazard of the inspection.
pub fn record_results(
    conn: &mut DbConnection,
    caller: &Caller,
    inspection_id: Uuid,
    request: &RecordResults,
    park: &Park,
    context: &Context,
) -> Result<InspectionResults, AppError> {
    write_transaction(conn, |conn| {
        let inspection = visible_inspection(conn, caller, inspection_id)?;
        check_source_rules(
            caller,
            inspection.source,
            inspection.enterprise_id.uuid(),
            inspection.checking_enterprise_id.map(Id::uuid),
        )?;
        let template = find(conn, request.checklist_id).map_err(|e| match e {
            AppError::NotFound(_) => AppError::invalid("checklist_id", Rule::UnknownChecklist),
            other => other,
        })?;
        request.check(&template)?;
        let recorded = store::results_of(conn, inspection.id)?;
        check_against_recorded(&recorded, request, &template)?;
        let mut rows = Vec::with_capacity(request.results.len());
        for (i, result) in request.results.iter().enumerate() {
            let item = template
                .items
                .iter()
                .find(|item| item.id == result.item_id)
                .ok_or_else(|| AppError::invalid("results", Rule::UnknownItem))?;
            let hazard_id = match (&result.outcome, &result.hazard) {
                (ItemOutcome::Fail, Some(details)) => {
                    let found = FailedItem {
                        inspection: &inspection,
                        item,
                        note: result.note.as_deref(),
                        details,
                        index: i,
                    };
                    Some(report_failed_item(conn, caller, found, park, context)?)
                }
                _ => None,
            };
            let row = ResultRow {
                inspection_id: inspection.id,
                item_id: item.id.into(),
                checklist_id: template.id.into(),
                outcome: result.outcome,
                note: result
                    .note
                    .as_deref()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
                hazard_id,
                recorded_by: caller.user_id.into(),
                recorded_at: context.now.utc,
            };
            store::insert_result(conn, &row)?;
            rows.push(row);
        }
        let mut results = recorded;
        results.extend(rows);
        let photos = store::photos_of(conn, inspection.id)?;
        Ok(InspectionResults {
            inspection_id,
            checklist: Some(template),
            results,
            photos,
        })
    })
}

/// An inspection runs one template, and an item's result, once recorded,
/// stands (a failed one has become a hazard).
fn check_against_recorded(
    recorded: &[ResultRow],
    request: &RecordResults,
    template: &Checklist,
) -> Result<(), AppError> {
    if let Some(first) = recorded.first() {
        if first.checklist_id.uuid() != template.id {
            return Err(AppError::conflict(
                Detail::OtherChecklist.with("checklist_id", first.checklist_id.to_string()),
            ));
        }
    }
    let done: Vec<Uuid> = recorded.iter().map(|r| r.item_id.uuid()).collect();
    let again: Vec<String> = request
        .results
        .iter()
        .filter(|r| done.contains(&r.item_id))
        .map(|r| r.item_id.to_string())
        .collect();
    if !again.is_empty() {
        return Err(AppError::conflict(
            Detail::ItemsHaveResults.with("items", again.join(", ")),
        ));
    }
    Ok(())
}

/// A photo whose bytes have been received and checked, about to become
/// part of an item's result.
#[derive(Debug, Clone)]
pub struct NewPhoto {
    pub sha256: String,
    pub size_bytes: u64,
    pub content_type: String,
    pub file_name: String,
    pub caption: Option<String>,
}

/// The result a photo is to join: the inspection visible to the caller,
/// who may record its results, and the item's result recorded already
/// (record the result first; a photo says what the result saw). Answers
/// the bytes its photos already hold.
pub fn room_for_photo(
    conn: &mut DbConnection,
    caller: &Caller,
    inspection_id: Uuid,
    item_id: Uuid,
) -> Result<u64, AppError> {
    let inspection = visible_inspection(conn, caller, inspection_id)?;
    check_source_rules(
        caller,
        inspection.source,
        inspection.enterprise_id.uuid(),
        inspection.checking_enterprise_id.map(Id::uuid),
    )?;
    if store::find_result(conn, inspection.id, item_id.into())?.is_none() {
        return Err(AppError::NotFound("checklist result"));
    }
    store::bytes_of_result(conn, inspection.id, item_id.into())
}

/// Adds a photo to an item's result, within the per-result byte limit.
/// Storing the bytes is the caller's part, inside the same transaction.
pub fn add_photo(
    conn: &mut DbConnection,
    caller: &Caller,
    (inspection_id, item_id): (Uuid, Uuid),
    new: NewPhoto,
    max_result_bytes: u64,
    now: chrono::NaiveDateTime,
) -> Result<PhotoRow, AppError> {
    write_transaction(conn, |conn| {
        let held = room_for_photo(conn, caller, inspection_id, item_id)?;
        if held.saturating_add(new.size_bytes) > max_result_bytes {
            return Err(AppError::payload_too_large(
                Detail::ItemPhotosFull
                    .with("held", held)
                    .with("max_bytes", max_result_bytes),
            ));
        }
        let photo = PhotoRow {
            id: Uuid::now_v7().into(),
            inspection_id: inspection_id.into(),
            item_id: item_id.into(),
            sha256: new.sha256,
            size_bytes: i64::try_from(new.size_bytes)
                .map_err(|_| AppError::payload_too_large(Detail::FileSizeOverflow))?,
            content_type: new.content_type,
            file_name: new.file_name,
            caption: new.caption,
            uploaded_by: caller.user_id.into(),
            uploaded_at: now,
        };
        store::insert_photo(conn, &photo)?;
        Ok(photo)
    })
}

/// A photo whose inspection the caller may see; any other is not found.
pub fn visible_photo(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<PhotoRow, AppError> {
    let not_found = || AppError::NotFound("checklist photo");
    let photo = store::find_photo(conn, id.into())?.ok_or_else(not_found)?;
    visible_inspection(conn, caller, photo.inspection_id.uuid()).map_err(|_| not_found())?;
    Ok(photo)
}

/// A failed item and where it was found.
struct FailedItem<'a> {
    inspection: &'a Inspection,
    item: &'a Item,
    note: Option<&'a str>,
    details: &'a FailedItemHazard,
    /// Its place in the request, for error fields.
    index: usize,
}

/// Reports the hazard a failed item is, by the same rules as any report.
fn report_failed_item(
    conn: &mut DbConnection,
    caller: &Caller,
    found: FailedItem,
    park: &Park,
    context: &Context,
) -> Result<Id, AppError> {
    let FailedItem {
        inspection,
        item,
        note,
        details,
        index,
    } = found;
    let basis = item
        .basis
        .as_deref()
        .map(|b| format!("\n依据:{b}"))
        .unwrap_or_default();
    let note = note.map(|n| format!("\n{}", n.trim())).unwrap_or_default();
    let request = CreateHazard {
        enterprise_id: inspection.enterprise_id.uuid(),
        source: inspection.source,
        checking_enterprise_id: inspection.checking_enterprise_id.map(Id::uuid),
        inspection_id: Some(inspection.id.uuid()),
        title: details
            .title
            .clone()
            .unwrap_or_else(|| item.text.chars().take(200).collect()),
        description: format!("检查表项不符合:{}{basis}{note}", item.text),
        location: details.location.clone(),
        category: details.category.clone(),
        specialty: item.specialty.clone(),
        level: if item.major_basis_code.is_some() {
            HazardLevel::Major
        } else {
            HazardLevel::General
        },
        major_basis_code: item.major_basis_code,
        supervised_listing: None,
        found_at: None,
        deadline: details.deadline,
    };
    let in_request = |e: AppError| match e {
        AppError::Validation { errors, .. } => AppError::invalid_fields(
            errors
                .into_iter()
                .map(|(field, message)| (format!("results[{index}].hazard.{field}"), message))
                .collect::<FieldErrors>(),
        ),
        other => other,
    };
    let new = request.parse(park, &context.now).map_err(in_request)?;
    let hazard = hazards::report_hazard(
        conn,
        caller,
        new,
        context.now,
        context.policy,
        &context.escalation,
    )
    .map_err(in_request)?;
    Ok(hazard.id)
}
