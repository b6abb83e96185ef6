//! Builds the HTTP server from `Settings`: the pool, migrations, the token
//! service, middleware, routes, `/openapi.json` and `/docs`.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Service;
use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::HttpMessage;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use tracing_actix_web::{RequestId, TracingLogger};

use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::app::auth::TokenService;
use crate::app::escalation::{self, Escalation};
use crate::cache::figures::FiguresCache;
use crate::clock::SystemClock;
use crate::db::Db;
use crate::email::Mailer;
use crate::error::{problem_response, PROBLEM_JSON};
use crate::http;
use crate::http::openapi::Vocabularies;
use crate::http::state::AppState;
use crate::settings::Settings;

/// How long a stopping instance waits for its outbox and webhook workers to
/// finish the database calls in progress (bounded by `database.connect_timeout_secs`
/// plus one short query).
const WORKERS_STOP_GRACE: Duration = Duration::from_secs(10);

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    /// Connects, migrates, and binds; the server runs once awaited.
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        let state = build_state(settings)?;
        let migrations = state.db.migrate().context("migrating the database")?;
        for name in &migrations {
            tracing::info!(migration = %name, "applied migration");
        }
        if state.settings.webhooks.derives_secret_key() {
            tracing::warn!(
                "no webhooks.secret_key configured: webhook secrets are sealed under a key derived from the token secret (development only); set HT__WEBHOOKS__SECRET_KEY in production"
            );
        }
        // Webhook secrets kept in clear by an earlier version are sealed.
        let mut conn = state.db.get().context("sealing webhook secrets")?;
        let sealed = crate::app::webhooks::seal_clear_secrets(&mut conn, &state.webhooks.sealer())
            .context("sealing webhook secrets")?;
        drop(conn);
        if sealed > 0 {
            tracing::info!(sealed, "webhook secrets sealed");
        }
        let listener = TcpListener::bind(&state.settings.server.bind)
            .with_context(|| format!("binding {}", state.settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let server = run(listener, state.clone())?;
        tracing::info!(
            port,
            backend = state.db.url().backend_name(),
            "hazard tracker listening"
        );
        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the server stops (SIGTERM: requests in flight finish
    /// first; SIGINT, SIGQUIT: at once), with the outbox and webhook workers
    /// alongside; on the way out this instance's leases are given back so
    /// another instance can send those messages at once.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let worker = escalation::worker_name();
        // The mail's loop and the webhooks' apart: a slow endpoint never
        // holds a mail back.
        let workers = self.state.settings.escalation.enabled.then(|| {
            (
                escalation::spawn_workers(self.state.outbox(), worker.clone()),
                self.state.webhook_worker(worker.clone()).spawn(),
            )
        });
        if workers.is_some() {
            tracing::info!(worker = %worker, mail = %self.state.mailer.describe(), "outbox and webhook workers started");
        }
        let watcher = if self.state.settings.read_cache.enabled {
            let poll =
                Duration::from_millis(self.state.settings.read_cache.poll_interval_ms.max(1));
            Some(crate::cache::reads::Watcher::spawn(
                self.state.db.clone(),
                &self.state.reads,
                poll,
            )?)
        } else {
            None
        };
        // Read the analytics' facts now rather than on the first analysis.
        let facts = self.state.facts.clone();
        let park = self.state.park.clone();
        let db = self.state.db.clone();
        actix_web::rt::spawn(async move {
            let warmed = db
                .run(move |conn| facts.with(conn, &park, |_, _| Ok(())))
                .await;
            if let Err(error) = warmed {
                tracing::warn!(%error, "could not read the analytics' facts");
            }
        });
        // Render the hazard rows that carry no rendering (from before
        // `db::hazards::rendered`); until then they are read whole.
        let db = self.state.db.clone();
        actix_web::rt::spawn(async move {
            match db.write(crate::app::hazards::render_missing).await {
                Ok(0) => {}
                Ok(rendered) => tracing::info!(rendered, "hazard rows rendered"),
                Err(error) => tracing::warn!(%error, "could not render the hazard rows"),
            }
        });
        let served = self.server.await;
        if let Some(watcher) = watcher {
            let _ = actix_web::web::block(move || watcher.stop()).await;
        }
        if let Some((mail, webhooks)) = workers {
            // Stopped, not aborted: a claim or a record still running on the
            // blocking pool would land after the release below.
            futures_util::future::join(
                mail.stop(WORKERS_STOP_GRACE),
                webhooks.stop(WORKERS_STOP_GRACE),
            )
            .await;
            let owner = worker.clone();
            let now = self.state.clock.now();
            match self
                .state
                .db
                .write(move |conn| {
                    Ok((
                        crate::db::outbox::release_leases(conn, &owner, now)?,
                        crate::db::webhooks::release_leases(conn, &owner)?,
                    ))
                })
                .await
            {
                Ok((mail, webhooks)) => {
                    tracing::info!(mail, webhooks, "outbox and webhook leases released")
                }
                Err(error) => tracing::warn!(%error, "could not release outbox and webhook leases"),
            }
        }
        served
    }
}

/// The shared state, without binding anything (also used by the CLI).
pub fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    let db = Db::connect(&settings.database)?;
    let reads = Arc::new(crate::cache::reads::ReadCache::new(
        &settings.read_cache,
        db.commit_counter(),
    ));
    let secret = settings.auth.resolve_secret(&settings.storage.data_dir)?;
    let tokens = Arc::new(TokenService::new(&settings.auth, &secret));
    let park = Arc::new(settings.park.park()?);
    let evidence = Arc::new(crate::storage::EvidenceStore::open(&settings.storage)?);
    let escalation = Arc::new(Escalation::new(&settings)?);
    let mailer = Arc::new(Mailer::from_settings(&settings.smtp)?);
    let webhook_key = settings
        .webhooks
        .resolve_secret_key(&settings.auth, &secret)?;
    let webhooks = Arc::new(crate::app::webhooks::Sender::new(
        settings.webhooks.clone(),
        Arc::new(crate::domain::webhook::SecretSealer::new(&webhook_key)),
        Duration::from_secs(settings.escalation.interval_secs.max(1)),
        Duration::from_secs(settings.escalation.max_backoff_secs.max(1)),
    )?);
    Ok(AppState {
        db,
        tokens,
        accounts: Arc::default(),
        display_keys: Arc::default(),
        park,
        evidence,
        escalation,
        mailer,
        webhooks,
        clock: Arc::new(SystemClock),
        figures: Arc::new(FiguresCache::new(
            settings.stats.max_concurrent_computations,
            Duration::from_millis(settings.stats.computation_wait_ms),
        )),
        facts: Arc::default(),
        metrics: Arc::new(crate::http::metric_series::Metrics::new()?),
        reads,
        login_throttle: Arc::new(crate::http::login_throttle::LoginThrottle::from_settings(
            &settings.auth,
        )),
        settings: Arc::new(settings),
    })
}

fn run(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let settings = state.settings.clone();
    let max_body = settings.server.max_body_bytes;
    let openapi = web::Bytes::from(
        serde_json::to_vec(&crate::http::openapi::document(&Vocabularies {
            categories: &state.park.categories,
            specialties: &state.park.specialties,
            direct_red_triggers: &state.settings.grading.direct_red_triggers,
        }))
        .context("writing the OpenAPI document")?,
    );
    let data = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(max_body))
            // Inside the error handlers, so a refused preflight is problem+json.
            .wrap(crate::http::headers::cors(&data.settings.server))
            .wrap(ErrorHandlers::new().default_handler(problem_for_bare_errors))
            // Outside the error handlers, so the problems they write are
            // written in the caller's language too.
            .wrap(actix_web::middleware::from_fn(crate::http::language::speak))
            .wrap_fn(|req, srv| {
                // Echo the id of the request's log span so a client report
                // can be matched with the logs.
                let request_id = req.extensions().get::<RequestId>().copied();
                let call = srv.call(req);
                async move {
                    let mut response = call.await?;
                    if let Some(id) = request_id {
                        crate::http::headers::echo_request_id(response.headers_mut(), &id);
                    }
                    Ok(response)
                }
            })
            .wrap_fn(crate::http::headers::secure)
            // Inside the logger, whose request id its log line carries.
            .wrap_fn(crate::http::request_log::observe_request)
            .wrap(TracingLogger::<crate::http::request_log::RequestSpan>::new())
            // Outermost: a revalidation it can answer skips the rest.
            .wrap_fn(crate::http::revalidation::answer_early)
            .configure(|cfg| http::configure(cfg, max_body))
            .route(
                "/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header((header::LOCATION, "/docs/"))
                        .finish()
                }),
            )
            .route("/openapi.json", {
                let openapi = openapi.clone();
                web::get().to(move || {
                    let openapi = openapi.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(openapi)
                    }
                })
            })
            .service(SwaggerUi::new("/docs/{_:.*}").config(Config::from("/openapi.json")))
            .default_service(web::to(http::not_found))
    })
    .client_request_timeout(Duration::from_secs(
        settings.server.client_request_timeout_secs,
    ))
    .keep_alive(Duration::from_secs(settings.server.keep_alive_secs))
    .client_disconnect_timeout(Duration::from_secs(
        settings.server.client_disconnect_timeout_secs,
    ))
    .shutdown_timeout(30)
    .listen(listener)?;
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}

/// Any error response that is not problem+json yet (actix's own: payload
/// errors, panics caught by the runtime, …) is rewritten as one.
fn problem_for_bare_errors<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, original) = res.into_parts();
    let code = status
        .canonical_reason()
        .unwrap_or("error")
        .to_lowercase()
        .replace([' ', '-'], "_");
    let detail = if status.is_server_error() {
        "an internal error occurred; it has been logged".to_owned()
    } else {
        format!(
            "the request was refused: {}",
            status.canonical_reason().unwrap_or("error")
        )
    };
    let mut problem = problem_response(status, &code, detail, None);
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let response = ServiceResponse::new(req, problem).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(response))
}
