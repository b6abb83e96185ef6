//! The OpenAPI 3.1 document, generated from the handlers and types, served
//! at `/openapi.json` with an interactive page at `/docs`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::{
    attachments, auth, enterprises, grading, hazards, health, inspections, metrics, notifications,
    reference, stats, users,
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
        reference::major_hazard_criteria,
        reference::vocabularies,
    ),
    components(schemas(crate::domain::delivery::DeliveryState, crate::app::reports::render::ReportFormat)),
    modifiers(&BearerAuth, &ProblemResponses),
    tags(
        (name = "auth", description = "Tokens"),
        (name = "users", description = "Local accounts (admin)"),
        (name = "enterprises", description = "Enterprises of the park"),
        (name = "grading", description = "Four-colour risk grading and differentiated supervision"),
        (name = "inspections", description = "Inspections by the five kinds of check"),
        (name = "hazards", description = "Hazards and their lifecycle"),
        (name = "evidence", description = "Evidence files: photos and documents before and after rectification"),
        (name = "stats", description = "Dashboard figures and the yearly and quarterly reports"),
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
