//! The OpenAPI 3.1 document, generated from the handlers and types, served
//! at `/openapi.json` with an interactive page at `/docs`.

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::domain::park::CodeLabel;
use crate::http::{
    analytics, attachments, auth, changes, checklists, display_keys, enterprises, exchange,
    filings, grading, hazards, health, imports, inspections, ledger, listing, major_sources,
    metrics, notifications, record_photos, reference, risk, stats, users, webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hazard tracker",
        description = "Tracks hidden safety hazards (隐患) in a chemical-industry park from discovery to closure. \
            Errors are application/problem+json (RFC 9457) with a stable `code`.",
    ),
    paths(
        health::healthz,
        health::readyz,
        metrics::metrics,
        auth::issue_token,
        auth::me,
        users::create_user,
        users::list_users,
        users::get_user,
        users::update_user,
        users::revoke_tokens,
        enterprises::create_enterprise,
        enterprises::list_enterprises,
        enterprises::get_enterprise,
        enterprises::update_enterprise,
        grading::create_assessment,
        grading::list_assessments,
        grading::due,
        grading::grade_counts,
        grading::list_events,
        grading::direct_red_triggers,
        inspections::create_inspection,
        inspections::list_inspections,
        inspections::get_inspection,
        hazards::create_hazard,
        hazards::list_hazards,
        hazards::get_hazard,
        hazards::list_events,
        hazards::get_dossier,
        changes::list_changes,
        ledger::export_hazards,
        webhooks::create_webhook,
        webhooks::list_webhooks,
        webhooks::update_webhook,
        webhooks::list_deliveries,
        display_keys::create_display_key,
        display_keys::list_display_keys,
        display_keys::revoke_display_key,
        filings::list_filings,
        filings::get_filing,
        filings::file_filing,
        checklists::create_checklist,
        checklists::list_checklists,
        checklists::get_checklist,
        checklists::record_results,
        checklists::get_results,
        checklists::upload_photo,
        imports::create_import,
        imports::get_import,
        imports::get_template,
        crate::http::register_import::import_register,
        crate::http::register_import::get_template,
        crate::http::register_edit::edit_object,
        crate::http::register_edit::edit_unit,
        crate::http::register_edit::edit_event,
        crate::http::register_edit::edit_measure,
        crate::http::register_edit::retire_object,
        crate::http::register_edit::retire_unit,
        crate::http::register_edit::retire_event,
        crate::http::register_edit::retire_measure,
        crate::http::register_edit::retire_task,
        crate::http::register_edit::list_revisions,
        checklists::download_photo,
        listing::record_dossier,
        listing::get_listing,
        listing::list,
        listing::record_assessment,
        listing::record_resumption,
        listing::delist,
        hazards::plan,
        hazards::submit,
        hazards::accept,
        hazards::reject,
        hazards::void,
        hazards::reopen,
        hazards::list_extensions,
        hazards::request_extension,
        hazards::approve_extension,
        hazards::refuse_extension,
        attachments::upload_attachment,
        attachments::list_attachments,
        attachments::download_attachment,
        attachments::delete_attachment,
        notifications::list_notifications,
        stats::overview,
        stats::yearly,
        stats::quarterly,
        analytics::rectification_time,
        analytics::ageing,
        analytics::scorecard,
        analytics::recurring,
        analytics::trends,
        analytics::locations,
        reference::calendar_years,
        reference::load_calendar,
        reference::major_hazard_criteria,
        reference::vocabularies,
        risk::create_object,
        risk::get_check_origin,
        risk::create_unit,
        risk::create_event,
        risk::create_measure,
        risk::get_register,
        risk::create_task,
        risk::create_pause,
        risk::list_occurrences,
        risk::create_record,
        risk::list_duties,
        risk::check_figures,
        risk::check_hazards_by_node,
        record_photos::upload_record_photo,
        record_photos::list_record_photos,
        record_photos::download_record_photo,
        exchange::exchange_document,
        risk::evaluation,
        major_sources::create_source,
        major_sources::list_sources,
        major_sources::get_source,
        major_sources::change_inputs,
        major_sources::appoint_person,
        major_sources::record_drill,
        major_sources::record_assessment,
        major_sources::download_assessment,
        major_sources::placard,
        major_sources::duty_lists,
        major_sources::duty_figures,
        major_sources::prevention_board,
    ),
    components(schemas(
        crate::domain::delivery::DeliveryState,
        crate::app::reports::render::ReportFormat,
        analytics::TableFormat,
        imports::ImportAnswer,
        crate::app::imports::ImportKind,
        crate::app::register_import::RegisterImportReport,
        crate::app::register_import::RegisterRowReport,
        crate::app::register_import::NodeCounts,
        crate::domain::risk::edit::ObjectEdit,
        crate::domain::risk::edit::UnitEdit,
        crate::domain::risk::edit::EventEdit,
        crate::domain::risk::edit::MeasureEdit,
        crate::domain::risk::edit::Retirement,
        crate::http::register_edit::RetiredView,
        crate::http::register_edit::RevisionView,
        crate::http::register_edit::RevisionPage,
        crate::app::analytics::GroupBy,
        crate::app::analytics::ScorecardSort,
        hazards::DossierFormat,
        filings::FilingKind,
        ledger::LedgerFormat,
        crate::domain::filing::FilingStatus,
    )),
    modifiers(&BearerAuth, &ProblemResponses),
    tags(
        (name = "auth", description = "Tokens"),
        (name = "users", description = "Local accounts (admin)"),
        (name = "enterprises", description = "Enterprises of the park"),
        (name = "grading", description = "Four-colour risk grading and differentiated supervision"),
        (name = "inspections", description = "Inspections by the five kinds of check"),
        (name = "webhooks", description = "Signed event deliveries to other systems (admin)"),
        (name = "display-keys", description = "Read-only, aggregate-only keys for wall screens (admin)"),
        (name = "changes", description = "Every change in commit order, for systems that sync by polling"),
        (name = "filings", description = "16号令 Art. 14 quarterly and yearly statistical filings"),
        (name = "imports", description = "Hazard ledgers (隐患台账) imported from spreadsheets: dry runs, all-or-nothing idempotent imports, the template"),
        (name = "checklists", description = "Inspection templates (检查表), item results and the hazards failed items become"),
        (name = "hazards", description = "Hazards and their lifecycle"),
        (name = "risk", description = "The risk register (风险分级管控), check tasks on a schedule, their records and the duty list (双重预防)"),
        (name = "major-sources", description = "Major hazard sources (重大危险源): their grade from their chemicals (GB 18218-2018), the three 包保责任人 and their duty checks"),
        (name = "evidence", description = "Evidence files: photos and documents before and after rectification"),
        (name = "stats", description = "Dashboard figures and the yearly and quarterly reports"),
        (name = "analytics", description = "Time to rectify, ageing, enterprise scorecard, recurring hazards, trends and locations"),
        (name = "notifications", description = "The escalation outbox (admin)"),
        (name = "reference", description = "Criteria and vocabularies"),
        (name = "operations", description = "Probes"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every operation can answer with a problem (bad input, a missing token,
/// an unavailable database): say so once, as each operation's `default`
/// response, rather than on every handler.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = ResponseBuilder::new()
            .description("An error, as RFC 9457 problem details (`code` is stable)")
            .content(
                crate::error::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                operation
                    .responses
                    .responses
                    .entry("default".to_owned())
                    .or_insert_with(|| problem.clone().into());
            }
        }
    }
}

/// What the served document needs from the park's configuration: the
/// closed lists a request is checked against.
pub struct Vocabularies<'a> {
    pub categories: &'a [CodeLabel],
    pub specialties: &'a [CodeLabel],
    pub direct_red_triggers: &'a [CodeLabel],
}

/// The document as served at `/openapi.json`: what utoipa derives from the
/// handlers and types, finished so that a generated client reads well and
/// a schema-driven fuzzer meets exactly the rules the service enforces.
/// Each step below is one concern.
pub fn document(vocabularies: &Vocabularies<'_>) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document is JSON");
    name_components(&mut doc);
    name_operations(&mut doc);
    binary_bodies(&mut doc);
    constrain_beyond_derives(&mut doc);
    constrain_texts(&mut doc);
    constrain_vocabularies(&mut doc, vocabularies);
    constrain_headers(&mut doc);
    analytics_parameters(&mut doc);
    link_created_resources(&mut doc);
    link_lists(&mut doc);
    doc
}

/// Pages are named for what they hold (`HazardPage`) and list their items
/// by reference, so a generator reuses the item type; a problem's
/// `errors` map is `FieldErrors`.
fn name_components(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let mut renames: Vec<(String, String)> = vec![("BTreeMap".into(), "FieldErrors".into())];
    for name in schemas.keys() {
        if let Some(item) = name.strip_prefix("Paginated_") {
            renames.push((
                name.clone(),
                format!("{}Page", item.trim_end_matches("View")),
            ));
        }
    }
    for (old, new) in &renames {
        let Some(mut schema) = schemas.remove(old) else {
            continue;
        };
        if let Some(item) = old.strip_prefix("Paginated_") {
            schema["properties"]["items"]["items"] = json!({ "$ref": schema_ref(item) });
        }
        schemas.insert(new.clone(), schema);
    }
    let renames: HashMap<String, String> = renames
        .into_iter()
        .map(|(old, new)| (schema_ref(&old), schema_ref(&new)))
        .collect();
    visit_objects(doc, &mut |object| {
        if let Some(Value::String(target)) = object.get_mut("$ref") {
            if let Some(new) = renames.get(target.as_str()) {
                *target = new.clone();
            }
        }
    });
}

fn schema_ref(name: &str) -> String {
    format!("#/components/schemas/{name}")
}

/// Operation ids are the function names a generated client gets: unique,
/// and saying what they act on.
fn name_operations(doc: &mut Value) {
    const NAMES: &[(&str, &str, &str)] = &[
        ("get", "/api/v1/auth/me", "get_me"),
        ("get", "/api/v1/enterprises/due", "list_supervision_due"),
        (
            "get",
            "/api/v1/enterprises/grade-counts",
            "get_grade_counts",
        ),
        (
            "get",
            "/api/v1/enterprises/{id}/events",
            "list_enterprise_events",
        ),
        ("get", "/api/v1/hazards/{id}/events", "list_hazard_events"),
        ("post", "/api/v1/hazards/{id}/plan", "plan_hazard"),
        ("post", "/api/v1/hazards/{id}/submit", "submit_hazard"),
        ("post", "/api/v1/hazards/{id}/accept", "accept_hazard"),
        ("post", "/api/v1/hazards/{id}/reject", "reject_hazard"),
        ("post", "/api/v1/hazards/{id}/void", "void_hazard"),
        ("post", "/api/v1/hazards/{id}/reopen", "reopen_hazard"),
        (
            "put",
            "/api/v1/hazards/{id}/dossier",
            "record_hazard_dossier",
        ),
        ("get", "/api/v1/hazards/{id}/listing", "get_hazard_listing"),
        (
            "post",
            "/api/v1/hazards/{id}/listing",
            "list_hazard_for_supervision",
        ),
        (
            "post",
            "/api/v1/hazards/{id}/listing/assessment",
            "record_listing_assessment",
        ),
        (
            "post",
            "/api/v1/hazards/{id}/listing/resumption",
            "record_listing_resumption",
        ),
        (
            "post",
            "/api/v1/hazards/{id}/listing/delisting",
            "delist_hazard",
        ),
        (
            "get",
            "/api/v1/reference/direct-red-triggers",
            "list_direct_red_triggers",
        ),
        (
            "get",
            "/api/v1/reference/major-hazard-criteria",
            "get_major_hazard_criteria",
        ),
        ("get", "/api/v1/reference/vocabularies", "get_vocabularies"),
        (
            "get",
            "/api/v1/reports/quarterly/{year}/{quarter}",
            "get_quarterly_report",
        ),
        ("get", "/api/v1/reports/yearly/{year}", "get_yearly_report"),
        ("get", "/api/v1/stats/overview", "get_overview"),
        (
            "get",
            "/api/v1/analytics/rectification-time",
            "get_rectification_time",
        ),
        ("get", "/api/v1/analytics/ageing", "get_ageing"),
        ("get", "/api/v1/analytics/scorecard", "get_scorecard"),
        (
            "get",
            "/api/v1/analytics/recurring",
            "list_recurring_hazards",
        ),
        ("get", "/api/v1/analytics/trends", "get_trends"),
        ("get", "/api/v1/analytics/locations", "list_top_locations"),
        (
            "post",
            "/api/v1/inspections/{id}/checklist-results",
            "record_checklist_results",
        ),
        (
            "get",
            "/api/v1/inspections/{id}/checklist-results",
            "get_checklist_results",
        ),
        (
            "get",
            "/api/v1/webhooks/{id}/deliveries",
            "list_webhook_deliveries",
        ),
        (
            "post",
            "/api/v1/inspections/{id}/checklist-results/{item_id}/photos",
            "upload_checklist_photo",
        ),
        (
            "get",
            "/api/v1/checklist-photos/{id}",
            "download_checklist_photo",
        ),
        (
            "get",
            "/api/v1/imports/template.xlsx",
            "get_import_template",
        ),
        ("get", "/healthz", "get_health"),
        ("get", "/readyz", "get_readiness"),
        ("get", "/metrics", "get_metrics"),
    ];
    for (method, path, name) in NAMES {
        if let Some(operation) = operation_mut(doc, method, path) {
            operation["operationId"] = json!(name);
        }
    }
}

/// A file's bytes are a binary string, not an array of numbers.
fn binary_bodies(doc: &mut Value) {
    visit_operations(doc, |_, _, operation| {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        for response in responses.values_mut() {
            let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
                continue;
            };
            for (media_type, body) in content.iter_mut() {
                let is_bytes = body.pointer("/schema/type") == Some(&json!("array"))
                    && body.pointer("/schema/items/type") == Some(&json!("integer"));
                if is_bytes && !media_type.contains("json") {
                    body["schema"] = json!({ "type": "string", "format": "binary" });
                }
            }
        }
    });
}

/// What a derive cannot say: an inspector is named by a non-blank line,
/// and an upload form has no parts but its own (another is `422`).
fn constrain_beyond_derives(doc: &mut Value) {
    let pointer = "/components/schemas/CreateInspection/properties/inspectors/items";
    if let Some(Value::Object(items)) = doc.pointer_mut(pointer) {
        items.insert("minLength".into(), json!(1));
        items.insert("maxLength".into(), json!(100));
    }
    for form in ["UploadForm", "PhotoForm", "ImportForm"] {
        if let Some(Value::Object(form)) = doc.pointer_mut(&format!("/components/schemas/{form}")) {
            form.insert("additionalProperties".into(), json!(false));
        }
    }
}

/// A text the service requires (`minLength: 1`) must not be blank: it
/// must hold a character that is not white space as `str::trim` sees it.
fn constrain_texts(doc: &mut Value) {
    let line = crate::domain::text::MAX_LINE as u64;
    visit_objects(doc, &mut |object| {
        let is_string = object.get("type") == Some(&json!("string"))
            || object.get("type") == Some(&json!(["string", "null"]));
        let free = is_string && !object.contains_key("pattern") && !object.contains_key("format");
        let required = object.get("minLength").and_then(Value::as_u64) == Some(1);
        // A text bounded as a line is one line (`domain::text`).
        let one_line = object
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|max| max <= line);
        let pattern = match (free, required, one_line) {
            (false, _, _) => return,
            (true, true, true) => {
                format!(r"^[^\r\n]*{NOT_BLANK_PATTERN}[^\r\n]*(?![\s\S])")
            }
            (true, false, true) => r"^[^\r\n]*(?![\s\S])".to_owned(),
            (true, true, false) => NOT_BLANK_PATTERN.to_owned(),
            (true, false, false) => return,
        };
        object.insert("pattern".into(), json!(pattern));
    });
}

/// Categories, specialties and direct-red triggers are the park's closed
/// lists. Categories and specialties are named enums of their codes
/// (`HazardCategory`, `HazardSpecialty`), so a generated client gets one
/// type with members named for the codes; the Chinese labels, which the
/// service also accepts on input, are listed in the description.
fn constrain_vocabularies(doc: &mut Value, vocabularies: &Vocabularies<'_>) {
    let named = |list: &[CodeLabel], what: &str| -> Value {
        let codes: Vec<&str> = list.iter().map(|e| e.code.as_str()).collect();
        let pairs: Vec<String> = list
            .iter()
            .map(|e| format!("`{}` ({})", e.code, e.label))
            .collect();
        json!({
            "type": "string",
            "enum": codes,
            "description": format!(
                "A {what} code of the park's list (`/api/v1/reference/vocabularies`): {}. \
                 On input the Chinese label is accepted in place of its code.",
                pairs.join(", ")
            ),
        })
    };
    let triggers: Vec<Value> = vocabularies
        .direct_red_triggers
        .iter()
        .map(|entry| json!(entry.code))
        .collect();
    let schemas = "/components/schemas";
    if let Some(Value::Object(components)) = doc.pointer_mut(schemas) {
        components.insert(
            "HazardCategory".into(),
            named(vocabularies.categories, "category"),
        );
        components.insert(
            "HazardSpecialty".into(),
            named(vocabularies.specialties, "specialty"),
        );
    }
    let category = json!({ "$ref": schema_ref("HazardCategory") });
    // An empty specialty is the same as none.
    let specialty = json!({
        "anyOf": [
            { "$ref": schema_ref("HazardSpecialty") },
            { "type": "string", "maxLength": 0 },
            { "type": "null" }
        ]
    });
    for (pointer, schema) in [
        (
            format!("{schemas}/CreateHazard/properties/category"),
            &category,
        ),
        (
            format!("{schemas}/FailedItemHazard/properties/category"),
            &category,
        ),
        (
            format!("{schemas}/CreateHazard/properties/specialty"),
            &specialty,
        ),
    ] {
        if let Some(slot) = doc.pointer_mut(&pointer) {
            *slot = schema.clone();
        }
    }
    let pointer = format!("{schemas}/CreateAssessment/properties/direct_red_triggers/items");
    if let Some(Value::Object(schema)) = doc.pointer_mut(&pointer) {
        schema.insert("enum".into(), json!(triggers));
    }
}

/// Each analysis shares one query type; its operation lists only the
/// parameters that analysis reads (`http::analytics::parameters_read`).
fn analytics_parameters(doc: &mut Value) {
    visit_operations(doc, |_, path, operation| {
        let Some(read) = path
            .strip_prefix("/api/v1/analytics/")
            .and_then(crate::http::analytics::parameters_read)
        else {
            return;
        };
        if let Some(parameters) = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
        {
            parameters.retain(|p| {
                p["in"] != "query" || p["name"].as_str().is_some_and(|n| read.contains(&n))
            });
        }
    });
}

/// `If-Match` is `*` or a list of entity tags, an `Idempotency-Key` 1 to
/// 255 visible ASCII characters; anything else is `400`.
fn constrain_headers(doc: &mut Value) {
    visit_operations(doc, |_, _, operation| {
        let Some(parameters) = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
        else {
            return;
        };
        for parameter in parameters {
            if parameter["in"] != "header" {
                continue;
            }
            let pattern = match parameter["name"].as_str() {
                Some("If-Match") => IF_MATCH_PATTERN,
                Some("Idempotency-Key") => IDEMPOTENCY_KEY_PATTERN,
                _ => continue,
            };
            parameter["schema"] = json!({ "type": "string", "minLength": 1, "pattern": pattern });
        }
    });
}

/// Each create links to what may be done with what it created, so a
/// generated client (and a stateful fuzzer) can follow from one call to
/// the next.
fn link_created_resources(doc: &mut Value) {
    let created_id = json!({ "id": "$response.body#/id" });
    let hazard_of_extension = json!({ "id": "$request.path.id", "ext_id": "$response.body#/id" });
    let links: &[(&str, &[&str], &Value)] = &[
        (
            "/api/v1/enterprises",
            &[
                "get_enterprise",
                "update_enterprise",
                "list_assessments",
                "create_assessment",
                "list_enterprise_events",
            ],
            &created_id,
        ),
        ("/api/v1/users", &["get_user", "update_user"], &created_id),
        ("/api/v1/inspections", &["get_inspection"], &created_id),
        (
            "/api/v1/hazards",
            &[
                "get_hazard",
                "list_hazard_events",
                "plan_hazard",
                "submit_hazard",
                "accept_hazard",
                "reject_hazard",
                "void_hazard",
                "reopen_hazard",
                "list_extensions",
                "request_extension",
                "list_attachments",
                "upload_attachment",
            ],
            &created_id,
        ),
        (
            "/api/v1/hazards/{id}/extensions",
            &["approve_extension", "refuse_extension"],
            &hazard_of_extension,
        ),
        (
            "/api/v1/hazards/{id}/attachments",
            &["download_attachment", "delete_attachment"],
            &created_id,
        ),
    ];
    for (path, targets, parameters) in links {
        add_links(doc, "post", path, "201", targets, parameters, None);
    }
}

/// A list links to what may be done with its first item, and the
/// enterprises list to reporting a hazard or an inspection there: with
/// these a client (or a fuzzer) reaches records it did not create.
fn link_lists(doc: &mut Value) {
    let first_item = json!({ "id": "$response.body#/items/0/id" });
    for (path, targets) in [
        (
            "/api/v1/enterprises",
            &["get_enterprise", "list_enterprise_events"][..],
        ),
        (
            "/api/v1/hazards",
            &[
                "get_hazard",
                "list_hazard_events",
                "plan_hazard",
                "submit_hazard",
                "accept_hazard",
                "request_extension",
                "list_extensions",
                "list_attachments",
                "upload_attachment",
            ][..],
        ),
        ("/api/v1/inspections", &["get_inspection"][..]),
    ] {
        add_links(doc, "get", path, "200", targets, &first_item, None);
    }
    let at_first_enterprise = json!({ "enterprise_id": "$response.body#/items/0/id" });
    add_links(
        doc,
        "get",
        "/api/v1/enterprises",
        "200",
        &["create_hazard", "create_inspection"],
        &json!({}),
        Some(&at_first_enterprise),
    );
}

/// Adds a link from the `status` response of `method path` to each of
/// `targets`, passing `parameters` (and `body`, merged into the target's
/// request body).
fn add_links(
    doc: &mut Value,
    method: &str,
    path: &str,
    status: &str,
    targets: &[&str],
    parameters: &Value,
    body: Option<&Value>,
) {
    let Some(response) = operation_mut(doc, method, path)
        .and_then(|operation| operation.get_mut("responses"))
        .and_then(|responses| responses.get_mut(status))
    else {
        return;
    };
    let links = response
        .as_object_mut()
        .map(|response| response.entry("links").or_insert_with(|| json!({})));
    let Some(Value::Object(links)) = links else {
        return;
    };
    for target in targets {
        let mut link = json!({ "operationId": target });
        if parameters.as_object().is_some_and(|p| !p.is_empty()) {
            link["parameters"] = parameters.clone();
        }
        if let Some(body) = body {
            link["requestBody"] = body.clone();
        }
        links.insert(link_name(target), link);
    }
}

/// `get_hazard` → `GetHazard`: the names links are listed under.
fn link_name(operation_id: &str) -> String {
    operation_id
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

/// `If-Match` as the service parses it (RFC 9110 §13.1.1): `*`, or entity
/// tags (`"3"`, `W/"3"`) separated by commas. Patterns end in
/// `(?![\s\S])`, not `$`: in some regex dialects `$` also matches before
/// a final line break.
pub const IF_MATCH_PATTERN: &str = r#"^(\*|(W/)?"[!#-~]*"( ?, ?(W/)?"[!#-~]*")*)(?![\s\S])"#;

/// An `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub const IDEMPOTENCY_KEY_PATTERN: &str = r"^[!-~]{1,255}(?![\s\S])";

/// A character `str::trim` keeps: not white space in Unicode's sense.
pub const NOT_BLANK_PATTERN: &str =
    r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

fn operation_mut<'a>(doc: &'a mut Value, method: &str, path: &str) -> Option<&'a mut Value> {
    doc.get_mut("paths")?.get_mut(path)?.get_mut(method)
}

fn visit_operations(doc: &mut Value, mut visit: impl FnMut(&str, &str, &mut Value)) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            visit(method, path, operation);
        }
    }
}

/// Calls `visit` on every object of the document, depth first.
fn visit_objects(value: &mut Value, visit: &mut impl FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Object(object) => {
            visit(object);
            for child in object.values_mut() {
                visit_objects(child, visit);
            }
        }
        Value::Array(items) => {
            for child in items {
                visit_objects(child, visit);
            }
        }
        _ => {}
    }
}
