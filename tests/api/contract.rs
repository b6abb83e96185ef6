//! The served `/openapi.json` as a generated client meets it: names that
//! are unique and read well, lists that reference their item types, links
//! from each create to what may follow, and the constraints the service
//! enforces written into the schema (the fuzzing in `.ci/run` checks the
//! rest against every request it can generate).

use std::collections::HashSet;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{general_hazard, id_of, TestApp};

backend_tests!(
    operations_and_components_are_named_for_a_generated_client,
    creates_link_to_what_may_follow,
    text_the_schema_refuses_the_service_refuses,
    a_malformed_if_match_is_400_once_the_token_is_good,
    any_cursor_the_pattern_admits_is_a_position,
);

fn schema_name(reference: &str) -> &str {
    reference
        .strip_prefix("#/components/schemas/")
        .unwrap_or_else(|| panic!("{reference} is not a component reference"))
}

fn collect_refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get("$ref") {
                into.push(reference.clone());
            }
            object.values().for_each(|v| collect_refs(v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, into)),
        _ => {}
    }
}

/// Every body is a named component (or a list of one); every list page
/// names its item type; no two operations share an id.
async fn operations_and_components_are_named_for_a_generated_client(app: TestApp) {
    let doc = app.get("/openapi.json").send().await.expect(200).json;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut ids = HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "{id} names two operations");
            let bodies = operation["requestBody"]["content"]
                .as_object()
                .into_iter()
                .chain(
                    operation["responses"]
                        .as_object()
                        .unwrap()
                        .values()
                        .filter_map(|r| r["content"].as_object()),
                )
                .flat_map(|content| content.iter());
            for (media_type, body) in bodies {
                let schema = &body["schema"];
                if media_type.contains("json") {
                    let reference = schema["$ref"]
                        .as_str()
                        .or_else(|| schema["items"]["$ref"].as_str())
                        .unwrap_or_else(|| panic!("{method} {path}: {media_type} body is inline"));
                    assert!(schemas.contains_key(schema_name(reference)), "{reference}");
                } else {
                    // Files, text and forms: a binary or text string, or
                    // the form's named component.
                    let named = schema["$ref"].as_str().map(schema_name);
                    assert!(
                        schema["type"] == "string"
                            || named.is_some_and(|n| schemas.contains_key(n)),
                        "{method} {path} {media_type}: {schema}"
                    );
                }
            }
        }
    }
    let pages: Vec<&String> = schemas.keys().filter(|k| k.ends_with("Page")).collect();
    assert!(pages.len() >= 10, "{pages:?}");
    for page in pages {
        let item = schemas[page]["properties"]["items"]["items"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{page} inlines its items"));
        assert!(schemas.contains_key(schema_name(item)), "{page} → {item}");
    }
    assert!(!schemas.keys().any(|k| k.contains('_') || k == "BTreeMap"));
    // Every reference resolves: a generator drops an operation whose
    // parameter names a schema the document does not hold.
    let mut references = Vec::new();
    collect_refs(&doc, &mut references);
    for reference in references {
        assert!(
            schemas.contains_key(schema_name(&reference)),
            "{reference} names no component"
        );
    }
    assert_eq!(
        doc["paths"]["/api/v1/hazards/{id}/events"]["get"]["operationId"],
        "list_hazard_events"
    );
}

/// A create's `201` links to the reads and actions on what it created,
/// passing its id; an extension's decisions take the hazard from the path.
async fn creates_link_to_what_may_follow(app: TestApp) {
    let doc = app.get("/openapi.json").send().await.expect(200).json;
    let operations: HashSet<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let links = |path: &str| doc["paths"][path]["post"]["responses"]["201"]["links"].clone();
    let hazard = links("/api/v1/hazards");
    for target in [
        "GetHazard",
        "PlanHazard",
        "AcceptHazard",
        "UploadAttachment",
    ] {
        assert_eq!(hazard[target]["parameters"]["id"], "$response.body#/id");
    }
    let extension = links("/api/v1/hazards/{id}/extensions");
    assert_eq!(
        extension["ApproveExtension"]["parameters"],
        json!({"id": "$request.path.id", "ext_id": "$response.body#/id"})
    );
    for path in [
        "/api/v1/enterprises",
        "/api/v1/users",
        "/api/v1/inspections",
        "/api/v1/hazards",
        "/api/v1/hazards/{id}/extensions",
        "/api/v1/hazards/{id}/attachments",
    ] {
        let links = links(path);
        let links = links
            .as_object()
            .unwrap_or_else(|| panic!("{path}: no links"));
        for link in links.values() {
            let target = link["operationId"].as_str().unwrap();
            assert!(
                operations.contains(target),
                "{path} links to unknown {target}"
            );
        }
    }
}

/// What the document forbids in a text is what the service refuses: a
/// blank required text, one longer than `maxLength` (as sent, spaces
/// included), a NUL (on either backend), a code that is not exactly one of
/// the list's.
async fn text_the_schema_refuses_the_service_refuses(app: TestApp) {
    let doc = app.get("/openapi.json").send().await.expect(200).json;
    let title = &doc["components"]["schemas"]["CreateHazard"]["properties"]["title"];
    assert_eq!(title["minLength"], 1);
    assert_eq!(title["maxLength"], 200);
    assert!(title["pattern"].is_string());
    // The category is one named enum of codes; labels are described, not
    // members (a generated client gets members named for the codes).
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["CreateHazard"]["properties"]["category"]["$ref"],
        "#/components/schemas/HazardCategory"
    );
    let categories = schemas["HazardCategory"]["enum"]
        .as_array()
        .unwrap()
        .clone();
    assert!(categories.contains(&json!("unsafe_condition")));
    assert!(!categories.contains(&json!("物的不安全状态")));
    assert!(schemas["HazardCategory"]["description"]
        .as_str()
        .unwrap()
        .contains("物的不安全状态"));
    // Each analysis documents only the parameters it reads.
    let params = |path: &str| -> Vec<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let ageing = params("/api/v1/analytics/ageing");
    assert!(ageing.contains(&"from".to_owned()), "{ageing:?}");
    for unread in ["group_by", "sort", "match_location", "limit"] {
        assert!(!ageing.contains(&unread.to_owned()), "{ageing:?}");
    }
    assert!(params("/api/v1/analytics/rectification-time").contains(&"group_by".to_owned()));
    assert!(!params("/api/v1/analytics/trends").contains(&"from".to_owned()));
    assert!(params("/api/v1/analytics/recurring").contains(&"limit".to_owned()));
    // A one-line text refuses a line break in the document as in the service.
    assert!(title["pattern"]
        .as_str()
        .unwrap()
        .starts_with("^[^\\r\\n]*"));

    let park = app.park().await;
    let refused = |field: &str, value: Value| {
        let mut body = general_hazard(park.enterprise_a);
        body[field] = value;
        body
    };
    for (field, value) in [
        ("title", json!(" \u{3000}\t")),
        ("title", json!(format!("a{}", " ".repeat(200)))),
        ("title", json!("储罐\u{0}区")),
        ("description", json!("a\u{0}")),
        ("category", json!(" unsafe_condition")),
        ("title", json!("储罐区\n报警器")),
        ("specialty", json!("  ")),
    ] {
        let reply = app
            .post("/api/v1/hazards")
            .token(&park.expert)
            .json(&refused(field, value.clone()))
            .send()
            .await
            .expect_problem(422);
        assert!(
            reply.json["errors"][field].is_string(),
            "{field} = {value}: {}",
            reply.json
        );
    }
    // The label is as good as the code, and an empty specialty is none.
    let mut by_label = refused("category", json!("物的不安全状态"));
    by_label["specialty"] = json!("");
    let created = app.report(&park.expert, by_label).await;
    assert_eq!(created["category"], "unsafe_condition");
    assert!(created["specialty"].is_null());
    // A filter holding a NUL matches nothing on either backend: refused.
    app.get("/api/v1/hazards?q=%00")
        .token(&park.expert)
        .send()
        .await
        .expect_problem(422);
}

/// The token is checked first (401), then a malformed `If-Match` (400),
/// before the body; a well-formed stale one is 412.
async fn a_malformed_if_match_is_400_once_the_token_is_good(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let path = format!("/api/v1/hazards/{}/plan", id_of(&hazard));
    app.post(&path)
        .header("If-Match", "")
        .json(&json!({}))
        .send()
        .await
        .expect_problem(401);
    for malformed in ["", "abc", "\"1", "1, \"2\""] {
        // The body is invalid too: the header is judged first.
        app.post(&path)
            .token(&park.expert)
            .header("If-Match", malformed)
            .json(&json!({"measures": 7}))
            .send()
            .await
            .expect_problem(400);
    }
    app.post(&path)
        .token(&park.expert)
        .header("If-Match", "\"9\"")
        .json(&json!({"measures": "更换报警器"}))
        .send()
        .await
        .expect_problem(412);
}

/// A cursor is the position itself: any UUID (or sequence number) the
/// pattern admits pages from there, and the last page says so.
async fn any_cursor_the_pattern_admits_is_a_position(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let page = app
        .get(&format!("/api/v1/hazards?cursor={}", Uuid::nil()))
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(page.json["items"], json!([]));
    let newest_first = app
        .get(&format!("/api/v1/hazards?cursor={}", Uuid::max()))
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(newest_first.json["items"][0]["id"], hazard["id"]);
    let events = app
        .get(&format!(
            "/api/v1/hazards/{}/events?cursor=0",
            id_of(&hazard)
        ))
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(events.json["items"][0]["action"], "report");
}

/// utoipa names a component by its type's name and keeps the last of two
/// types of one name, silently: every documented type's name is unique.
#[test]
fn documented_types_have_unique_names() {
    fn rust_files(dir: &std::path::Path, into: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, into);
            } else if path.extension().is_some_and(|e| e == "rs") {
                into.push(path);
            }
        }
    }
    let mut files = Vec::new();
    rust_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut twice = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(name) = line
                .trim_start()
                .strip_prefix("pub struct ")
                .or_else(|| line.trim_start().strip_prefix("pub enum "))
                .and_then(|rest| {
                    rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                })
            else {
                continue;
            };
            let before = &lines[i.saturating_sub(8)..i];
            let documented = before
                .iter()
                .any(|l| l.contains("ToSchema") || l.contains("vocabulary! {"));
            if !documented {
                continue;
            }
            let place = format!("{}:{}", file.display(), i + 1);
            if let Some(first) = seen.insert(name.to_owned(), place.clone()) {
                twice.push(format!("{name}: {first} and {place}"));
            }
        }
    }
    assert!(seen.len() > 50, "found {} documented types", seen.len());
    assert!(twice.is_empty(), "{}", twice.join("\n"));
}
