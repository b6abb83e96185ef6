//! The ceiling for the API benchmark: actix-web answering one fixed JSON
//! document, with nothing else in the way (no auth, no database).

use actix_web::{web, App, HttpResponse, HttpServer};

const BODY: &str = r#"{"items":[],"next_cursor":null}"#;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:18090".to_owned());
    HttpServer::new(|| {
        App::new().route(
            "/static",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(BODY)
            }),
        )
    })
    .workers(1)
    .bind(bind)?
    .run()
    .await
}
