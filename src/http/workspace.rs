//! The park's screens under `/app/`, embedded in the binary (no network at
//! run time): plain HTML, ES modules and CSS, clients of the public API
//! like any other — the workspace (`/app/`: sign-in, open items, a
//! hazard's page) and the wall screen (`/app/dashboard`). Served with a strict Content-Security-Policy: no inline
//! script or style, nothing from elsewhere.

use actix_web::http::header;
use actix_web::HttpResponse;

/// Only the service's own scripts, styles and API; no inline code. Photos
/// are fetched with the token and shown from `blob:` addresses, and so is
/// a source's placard, whose one inline stylesheet is allowed by its hash.
pub fn policy() -> &'static str {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self' {placard}; \
             img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; worker-src 'self'; \
             manifest-src 'self'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
            placard = crate::http::major_sources::placard_style_source()
        )
    })
}

const WORKSPACE_HTML: &str = include_str!("../../web/workspace.html");
const WORKSPACE_JS: &str = include_str!("../../web/workspace.js");
const SERVICE_WORKER_JS: &str = include_str!("../../web/sw.js");
const MANIFEST: &str = include_str!("../../web/manifest.webmanifest");
const ICON_SVG: &str = include_str!("../../web/icon.svg");
const DASHBOARD_HTML: &str = include_str!("../../web/dashboard.html");
const DASHBOARD_JS: &str = include_str!("../../web/dashboard.js");
const APP_CSS: &str = include_str!("../../web/app.css");
const TERMS_JSON: &str = include_str!("../../web/terms.json");

fn page(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, policy()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// The workspace of the park's people: `/app/`.
pub async fn workspace() -> HttpResponse {
    page("text/html; charset=utf-8", WORKSPACE_HTML)
}

/// `/app` is the workspace's folder: its relative links need the slash.
pub async fn to_workspace() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/app/"))
        .finish()
}

pub async fn workspace_js() -> HttpResponse {
    page("text/javascript; charset=utf-8", WORKSPACE_JS)
}

/// The service worker that keeps the workspace's pages for offline use;
/// served from `/app/` so its scope is the workspace.
pub async fn service_worker() -> HttpResponse {
    page("text/javascript; charset=utf-8", SERVICE_WORKER_JS)
}

/// What makes the workspace installable on a phone's home screen.
pub async fn manifest() -> HttpResponse {
    page("application/manifest+json; charset=utf-8", MANIFEST)
}

pub async fn icon() -> HttpResponse {
    page("image/svg+xml", ICON_SVG)
}

/// The wall screen (大屏): `/app/dashboard#key=<display key>`.
pub async fn dashboard() -> HttpResponse {
    page("text/html; charset=utf-8", DASHBOARD_HTML)
}

/// The park's glossary both pages name things by (`web/terms.json`, the
/// file the service's own names come from).
pub async fn terms() -> HttpResponse {
    page("application/json; charset=utf-8", TERMS_JSON)
}

pub async fn dashboard_js() -> HttpResponse {
    page("text/javascript; charset=utf-8", DASHBOARD_JS)
}

pub async fn app_css() -> HttpResponse {
    page("text/css; charset=utf-8", APP_CSS)
}
