//! The ceiling for the API benchmark: actix-web answering one fixed JSON
//! document, with nothing else in the way (no auth, no database).
//!
//! `BODY_FILE` names a file whose bytes are the document (so the ceiling
//! for a page of 50 hazards serves the same 57 kB the API does); without it
//! the document is an empty page.

use actix_web::{web, App, HttpResponse, HttpServer};

const EMPTY_PAGE: &str = r#"{"items":[],"next_cursor":null}"#;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:18090".to_owned());
    let body = match std::env::var("BODY_FILE") {
        Ok(path) => web::Bytes::from(std::fs::read(path)?),
        Err(_) => web::Bytes::from_static(EMPTY_PAGE.as_bytes()),
    };
    HttpServer::new(move || {
        let body = body.clone();
        App::new().route(
            "/static",
            web::get().to(move || {
                let body = body.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(body)
                }
            }),
        )
    })
    .workers(1)
    .bind(bind)?
    .run()
    .await
}
