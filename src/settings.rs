//! Configuration: `config/default.toml`, then `config/$HT_ENV.toml`, then
//! `HT__SECTION__KEY` environment variables (and `DATABASE_URL`). Owns the
//! typed settings, their validation, and the development JWT secret that a
//! first start generates.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::domain::evaluation::EvaluationRules;
use crate::domain::grading::{
    score_to_centi, Grade, SupervisionIntervals, Thresholds, MAX_REASSESSMENT_DAYS,
};
use crate::domain::hazard::CheckSource;
use crate::domain::major_source::{DutyFrequencies, GradeThresholds};
pub use crate::domain::park::CodeLabel;
use crate::domain::park::Park;
use crate::domain::risk::Bands;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub storage: StorageSettings,
    pub attachments: AttachmentSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
    pub park: ParkSettings,
    pub grading: GradingSettings,
    pub smtp: SmtpSettings,
    pub escalation: EscalationSettings,
    pub stats: StatsSettings,
    pub read_cache: ReadCacheSettings,
    pub metrics: MetricsSettings,
    pub records: RecordsSettings,
    #[serde(default)]
    pub regulation: RegulationSettings,
    #[serde(default)]
    pub webhooks: WebhookSettings,
    #[serde(default)]
    pub risk: RiskSettings,
    #[serde(default)]
    pub major_sources: MajorSourceSettings,
    #[serde(default)]
    pub exchange: ExchangeSettings,
}

/// The province's exchange interface (`[exchange]`): what the sources of
/// its field lists differ on, and our sources mapped onto its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExchangeSettings {
    /// How times are written (chrono's `strftime`): `%Y-%m-%d %H:%M:%S`
    /// as the interface's hazard fields are documented; some provinces'
    /// uploaders write `%Y%m%d%H%M%S`.
    pub time_format: String,
    /// `dangerSrc` for each kind of check and for a check task's finding.
    pub danger_sources: crate::domain::exchange::DangerSources,
}

impl Default for ExchangeSettings {
    fn default() -> Self {
        ExchangeSettings {
            time_format: "%Y-%m-%d %H:%M:%S".into(),
            danger_sources: Default::default(),
        }
    }
}

impl ExchangeSettings {
    fn validate(&self) -> anyhow::Result<()> {
        use chrono::format::{Item, StrftimeItems};
        if self.time_format.is_empty()
            || StrftimeItems::new(&self.time_format).any(|item| matches!(item, Item::Error))
        {
            bail!("exchange.time_format is not a valid strftime format");
        }
        self.danger_sources
            .validate()
            .map_err(|m| anyhow::anyhow!("exchange.danger_sources: {m}"))
    }
}

/// Major hazard sources and their 包保责任人 (`[major_sources]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MajorSourceSettings {
    /// Where the grades begin on R (GB 18218-2018: 100, 50, 10).
    pub grades: GradeThresholds,
    /// How often each kind of 包保责任人 checks the source.
    pub duty_frequency: DutyFrequencies,
    /// The safety assessment is due again this many years after the last.
    pub assessment_every_years: u32,
    /// Days after a change of inputs that moved R (or a registration
    /// without an assessment) within which a new assessment is due.
    pub reassessment_within_days: u32,
    /// A kind whose duty checks were completed at a lower rate than this
    /// (0–1) in a period is "behind" in the figures.
    pub behind_below_rate: f64,
    /// Months between drills of the special emergency plan (专项应急预案).
    pub special_plan_drill_months: u32,
    /// Months between drills of the on-site plan (现场处置方案).
    pub onsite_plan_drill_months: u32,
}

impl Default for MajorSourceSettings {
    fn default() -> Self {
        MajorSourceSettings {
            grades: GradeThresholds::default(),
            duty_frequency: DutyFrequencies::default(),
            assessment_every_years: 3,
            reassessment_within_days: 90,
            behind_below_rate: 1.0,
            special_plan_drill_months: 12,
            onsite_plan_drill_months: 6,
        }
    }
}

impl MajorSourceSettings {
    /// When a source's next safety assessment falls due.
    pub fn assessment_rule(&self) -> crate::domain::major_source::AssessmentRule {
        crate::domain::major_source::AssessmentRule {
            every_years: self.assessment_every_years,
            after_change_days: self.reassessment_within_days,
        }
    }

    /// Months between drills of a kind.
    pub fn drill_months(&self, kind: crate::domain::major_source::DrillKind) -> u32 {
        match kind {
            crate::domain::major_source::DrillKind::SpecialPlan => self.special_plan_drill_months,
            crate::domain::major_source::DrillKind::OnsitePlan => self.onsite_plan_drill_months,
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.grades
            .validate()
            .map_err(|m| anyhow::anyhow!("major_sources.grades: {m}"))?;
        self.duty_frequency
            .validate()
            .map_err(|m| anyhow::anyhow!("major_sources.duty_frequency: {m}"))?;
        if !(1..=10).contains(&self.assessment_every_years) {
            bail!("major_sources.assessment_every_years must be 1 to 10");
        }
        if self.reassessment_within_days > 366 {
            bail!("major_sources.reassessment_within_days must be 0 to 366");
        }
        if !(0.0..=1.0).contains(&self.behind_below_rate) {
            bail!("major_sources.behind_below_rate must be between 0 and 1");
        }
        if !(1..=60).contains(&self.special_plan_drill_months)
            || !(1..=60).contains(&self.onsite_plan_drill_months)
        {
            bail!("major_sources: drill intervals must be 1 to 60 months");
        }
        Ok(())
    }
}

/// The risk register and its check tasks (双重预防).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskSettings {
    /// Where each method's levels begin (`[risk.bands.ls]`, `[risk.bands.lec]`).
    pub bands: Bands,
    /// How many days back the duty list still shows occurrences nobody
    /// recorded.
    pub duty_overdue_days: u32,
    /// An enterprise whose check tasks' completion rate over the last
    /// `completion_window_days` is below this (0–1) is listed in
    /// `/enterprises/due`.
    pub completion_alert_rate: f64,
    pub completion_window_days: u32,
    /// The month's evaluation E = (A + B) × α (`[risk.evaluation]`).
    pub evaluation: EvaluationRules,
}

impl Default for RiskSettings {
    fn default() -> Self {
        RiskSettings {
            bands: Bands::default(),
            duty_overdue_days: 7,
            completion_alert_rate: 0.9,
            completion_window_days: 30,
            evaluation: EvaluationRules::default(),
        }
    }
}

impl RiskSettings {
    fn validate(&self) -> anyhow::Result<()> {
        self.bands
            .ls
            .validate()
            .map_err(|m| anyhow::anyhow!("risk.bands.ls: {m}"))?;
        self.bands
            .lec
            .validate()
            .map_err(|m| anyhow::anyhow!("risk.bands.lec: {m}"))?;
        if self.duty_overdue_days > 366 {
            bail!("risk.duty_overdue_days must be at most 366");
        }
        if !(0.0..=1.0).contains(&self.completion_alert_rate) {
            bail!("risk.completion_alert_rate must be between 0 and 1");
        }
        if !(1..=366).contains(&self.completion_window_days) {
            bail!("risk.completion_window_days must be 1 to 366");
        }
        self.evaluation
            .validate()
            .map_err(|m| anyhow::anyhow!("risk.evaluation: {m}"))?;
        Ok(())
    }
}

/// Outbound webhook deliveries.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// Allow endpoints on loopback, private and link-local addresses (a
    /// park's own network; tests).
    pub allow_private_targets: bool,
    /// When not empty, the only hosts endpoints may name.
    pub allowed_hosts: Vec<String>,
    /// How long one delivery attempt may take.
    pub timeout_secs: u64,
    /// Attempts before a delivery is `dead`.
    pub max_attempts: u32,
    /// Deliveries the webhook worker claims per run.
    pub batch_size: u32,
    /// Deliveries sent at once to one endpoint.
    pub concurrency_per_endpoint: usize,
    /// Deliveries sent at once in all.
    pub max_concurrency: usize,
    /// The key endpoints' signing secrets are kept encrypted under: 32
    /// bytes, base64 or hex. Empty: derived from the token secret
    /// (development only; a profile that requires explicit secrets requires
    /// this one too).
    pub secret_key: SecretString,
}

impl Default for WebhookSettings {
    fn default() -> WebhookSettings {
        WebhookSettings {
            allow_private_targets: false,
            allowed_hosts: Vec::new(),
            timeout_secs: 10,
            max_attempts: 8,
            batch_size: 50,
            concurrency_per_endpoint: 4,
            max_concurrency: 16,
            secret_key: SecretString::default(),
        }
    }
}

/// What a claimed batch's lease leaves beyond its sends: the database
/// writes that record them.
pub const WEBHOOK_LEASE_MARGIN: std::time::Duration = std::time::Duration::from_secs(30);

impl WebhookSettings {
    /// How long one attempt may take.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_secs)
    }

    /// How long a claimed batch stays leased to its worker: longer than the
    /// batch can take. Whenever a delivery waits for a slot, at least
    /// `min(concurrency_per_endpoint, max_concurrency)` sends are under way,
    /// each done within the timeout; so the batch is done within
    /// `timeout × (ceil(batch_size / that) + 1)`, and the margin is left for
    /// recording. (Defaults: 10 s × 14 + 30 s = 170 s.)
    pub fn lease(&self) -> std::time::Duration {
        let at_once = self
            .concurrency_per_endpoint
            .min(self.max_concurrency)
            .max(1);
        let waves = (self.batch_size as usize).div_ceil(at_once) + 1;
        self.timeout()
            .saturating_mul(u32::try_from(waves).unwrap_or(u32::MAX))
            .saturating_add(WEBHOOK_LEASE_MARGIN)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.timeout_secs == 0
            || self.max_attempts == 0
            || self.batch_size == 0
            || self.concurrency_per_endpoint == 0
            || self.max_concurrency == 0
        {
            bail!(
                "webhooks: timeout_secs, max_attempts, batch_size, concurrency_per_endpoint and max_concurrency must be positive"
            );
        }
        if !self.secret_key.expose_secret().trim().is_empty() {
            decode_key(self.secret_key.expose_secret())
                .map_err(|m| anyhow::anyhow!("webhooks.secret_key {m}"))?;
        }
        Ok(())
    }

    /// Whether no key is configured, so one is derived.
    pub fn derives_secret_key(&self) -> bool {
        self.secret_key.expose_secret().trim().is_empty()
    }

    /// The key webhook secrets are sealed under: the configured one, or in
    /// development one derived from the token secret (so instances that
    /// share a token secret share it too).
    pub fn resolve_secret_key(
        &self,
        auth: &AuthSettings,
        jwt_secret: &SecretString,
    ) -> anyhow::Result<[u8; 32]> {
        let configured = self.secret_key.expose_secret();
        if !configured.trim().is_empty() {
            return decode_key(configured).map_err(|m| anyhow::anyhow!("webhooks.secret_key {m}"));
        }
        if auth.require_explicit_secret {
            bail!(
                "webhooks.secret_key is not set, and this profile requires explicit secrets: \
                 set HT__WEBHOOKS__SECRET_KEY to 32 random bytes, base64 (openssl rand -base64 32)"
            );
        }
        use sha2::Digest;
        let mut derived = sha2::Sha256::new();
        derived.update(b"hazard-tracker webhook secrets v1\0");
        derived.update(jwt_secret.expose_secret().as_bytes());
        Ok(derived.finalize().into())
    }
}

/// A 32-byte key written as 64 hexadecimal digits or in base64.
fn decode_key(text: &str) -> Result<[u8; 32], String> {
    use base64::Engine;
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[i * 2..i * 2 + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| "is not hexadecimal".to_owned())?
    } else {
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE,
        ];
        engines
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or("must be 32 bytes, base64 or 64 hexadecimal digits")?
    };
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("must be 32 bytes, not {}", bytes.len()))
}

/// How strictly the 16号令 record of a major hazard is enforced.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RegulationSettings {
    /// Refuse to plan a major hazard before its Art. 14 report contents are
    /// recorded (`PUT /hazards/{id}/dossier`). Off by default for one
    /// release so that clients written before the dossier existed keep
    /// working; a park turns it on once its clients send the report.
    #[serde(default)]
    pub major_report_before_plan: bool,
}

/// Paper records entered after the fact (补录).
#[derive(Debug, Clone, Deserialize)]
pub struct RecordsSettings {
    /// A step or a find dated more than this many minutes before it is
    /// recorded is an entered record: the work of experts, supervisors and
    /// admins, marked `entered_late`.
    pub backdate_tolerance_minutes: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub bind: String,
    pub workers: usize,
    pub max_body_bytes: usize,
    pub public_base_url: String,
    pub client_request_timeout_secs: u64,
    /// Seconds an idle keep-alive connection stays open.
    pub keep_alive_secs: u64,
    /// Seconds allowed for a client to acknowledge the close of its
    /// connection before it is dropped.
    pub client_disconnect_timeout_secs: u64,
    /// Origins (`https://host[:port]`) whose browsers may call the API.
    /// Empty: no CORS headers at all. A comma-separated string is accepted
    /// too, so `HT__SERVER__CORS_ALLOWED_ORIGINS` can set it.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub cors_allowed_origins: Vec<String>,
    /// Seconds an upload's body may stall before it is cut with `408`.
    pub body_idle_timeout_secs: u64,
    /// The park's own proxies (addresses or CIDR ranges): only from these
    /// are `Forwarded` / `X-Forwarded-For` believed. Empty: the TCP peer is
    /// the client. Comma-separated in `HT__SERVER__TRUSTED_PROXIES`.
    #[serde(default, deserialize_with = "list_or_comma_separated")]
    pub trusted_proxies: Vec<String>,
    /// Hours a stored response replays its `Idempotency-Key`; older ones
    /// are forgotten, and the key may be used afresh.
    #[serde(default = "default_idempotency_retention_hours")]
    pub idempotency_retention_hours: u64,
}

fn default_idempotency_retention_hours() -> u64 {
    24
}

impl ServerSettings {
    /// How long a stored response replays its `Idempotency-Key` (however
    /// large the configured number, never past what a duration holds).
    pub fn idempotency_retention(&self) -> chrono::TimeDelta {
        i64::try_from(self.idempotency_retention_hours)
            .ok()
            .and_then(chrono::TimeDelta::try_hours)
            .unwrap_or(chrono::TimeDelta::MAX)
    }

    fn validate(&self) -> anyhow::Result<()> {
        for proxy in &self.trusted_proxies {
            crate::domain::network::Cidr::parse(proxy)
                .map_err(|e| anyhow::anyhow!("server.trusted_proxies: {e}"))?;
        }
        if self.max_body_bytes == 0 {
            bail!("server.max_body_bytes must be positive");
        }
        for origin in &self.cors_allowed_origins {
            if origin == "*" {
                bail!(
                    "server.cors_allowed_origins: \"*\" is not allowed; list the origins of the web clients"
                );
            }
            let parsed = url::Url::parse(origin).map_err(|e| {
                anyhow::anyhow!("server.cors_allowed_origins: {origin:?} is not an origin: {e}")
            })?;
            // Browsers send the bare origin; anything else would never match.
            if !matches!(parsed.scheme(), "http" | "https")
                || parsed.origin().ascii_serialization() != origin.as_str()
            {
                bail!(
                    "server.cors_allowed_origins: {origin:?} must be exactly scheme://host[:port], without a path or trailing slash"
                );
            }
        }
        Ok(())
    }
}

/// The read cache (`read_cache`).
#[derive(Debug, Clone, Deserialize)]
pub struct ReadCacheSettings {
    /// Serve repeated reads of hazards and hazard pages from memory.
    pub enabled: bool,
    /// The most memory the stored answers take, in bytes.
    pub max_bytes: usize,
    /// How often the watcher looks for changes made by other processes
    /// (other instances, the command line), in milliseconds: the most such
    /// a change can take to show here. This process's own changes show at
    /// once.
    pub poll_interval_ms: u64,
}

/// Dashboard figures.
#[derive(Debug, Clone, Deserialize)]
pub struct StatsSettings {
    /// How long the data's change marker is trusted before the database is
    /// asked again, in milliseconds: the most a poller can lag behind a
    /// change made elsewhere (this service's own changes show at once) and
    /// behind midnight. 0 asks every time.
    pub marker_ttl_ms: u64,
    /// Figures and reports computed at once; more wait their turn.
    pub max_concurrent_computations: usize,
    /// How long a computation waits for its turn before `503`, in
    /// milliseconds.
    pub computation_wait_ms: u64,
}

/// `/metrics`.
#[derive(Debug, Clone, Deserialize)]
pub struct MetricsSettings {
    /// Empty: `/metrics` is open (bind it to an internal network). Set: the
    /// scraper must send `Authorization: Bearer <token>`.
    pub token: SecretString,
    /// Refuse to start without a token (the production profile): an open
    /// `/metrics` is for development only.
    #[serde(default)]
    pub require_token: bool,
}

impl MetricsSettings {
    fn validate(&self) -> anyhow::Result<()> {
        if self.require_token && self.token.expose_secret().trim().is_empty() {
            bail!(
                "metrics.token is not set, and this profile requires one: set HT__METRICS__TOKEN \
                 to a random string the Prometheus scraper sends as a bearer token"
            );
        }
        Ok(())
    }
}

/// A list from a configuration file, or one string of comma-separated items
/// from an environment variable.
fn list_or_comma_separated<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        Text(String),
    }
    Ok(match ListOrString::deserialize(deserializer)? {
        ListOrString::List(items) => items,
        ListOrString::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    pub sqlite_wal: bool,
    pub sqlite_busy_timeout_ms: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StorageSettings {
    pub data_dir: PathBuf,
    /// Where evidence files are kept: `local` (under `data_dir`) or `s3`.
    pub backend: StorageBackend,
    pub s3: S3Settings,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Local,
    S3,
}

/// An S3-compatible object store, for several instances sharing evidence.
/// Empty values fall back to the standard `AWS_*` environment variables.
#[derive(Debug, Clone, Deserialize)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// Empty for AWS itself; e.g. `http://127.0.0.1:9000` for MinIO.
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    /// Key prefix inside the bucket, e.g. `hazard-tracker/`.
    pub prefix: String,
    /// Allow a plain-HTTP endpoint (a store on the same host or network).
    pub allow_http: bool,
    /// `https://BUCKET.endpoint/key` instead of `https://endpoint/BUCKET/key`.
    pub virtual_hosted_style: bool,
}

impl StorageSettings {
    fn validate(&self) -> anyhow::Result<()> {
        if self.backend == StorageBackend::S3 && self.s3.bucket.trim().is_empty() {
            bail!("storage.backend is \"s3\" but storage.s3.bucket is empty");
        }
        Ok(())
    }
}

/// Evidence files: limits and the policy that needs them.
#[derive(Debug, Clone, Deserialize)]
pub struct AttachmentSettings {
    /// Largest single file, in bytes (larger -> 413 while it streams in).
    pub max_file_bytes: u64,
    /// Most bytes of evidence one hazard may hold.
    pub max_hazard_bytes: u64,
    /// Evidence all of one enterprise's hazards may hold → `413`
    /// `quota_exceeded`.
    pub max_enterprise_bytes: u64,
    /// Parts an upload form may have (file, phase, caption, occurred_at).
    pub max_form_parts: usize,
    /// Media types accepted, as detected from the bytes themselves.
    pub allowed_types: Vec<String>,
    /// A general hazard, too, needs an `after` file before it is submitted
    /// for acceptance (a major one always does).
    pub require_after_for_general: bool,
}

impl AttachmentSettings {
    fn validate(&self) -> anyhow::Result<()> {
        if self.max_file_bytes == 0 || self.max_hazard_bytes < self.max_file_bytes {
            bail!("attachments.max_file_bytes must be positive and at most attachments.max_hazard_bytes");
        }
        if self.allowed_types.is_empty() {
            bail!("attachments.allowed_types must list at least one media type");
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    pub require_explicit_secret: bool,
    pub issuer: String,
    pub audience: String,
    pub token_ttl_secs: u64,
    pub leeway_secs: u64,
    /// Sign-in attempts one account may receive per minute (0: no limit).
    pub login_attempts_per_minute_per_account: u32,
    /// Sign-in attempts one client address may make per minute (0: no limit).
    pub login_attempts_per_minute_per_address: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ParkSettings {
    pub timezone: String,
    pub categories: Vec<CodeLabel>,
    pub specialties: Vec<CodeLabel>,
}

/// Where mail goes.
#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://…:465`
    /// (TLS), `smtp://host:25` (plain, for a local relay). Empty: mails are
    /// written to `outbox_dir` instead (and still recorded).
    pub url: SecretString,
    /// The From header.
    pub from: String,
    /// Seconds one send may take, connection included.
    pub timeout_secs: u64,
    /// Folder for mails when no SMTP server is configured.
    pub outbox_dir: PathBuf,
}

/// The escalation policy and the outbox workers.
#[derive(Debug, Clone, Deserialize)]
pub struct EscalationSettings {
    /// Run the scanner and sender inside `serve`.
    pub enabled: bool,
    /// Seconds between scanner and sender runs; also the first retry delay.
    pub interval_secs: u64,
    /// Cap of the doubling retry delay, in seconds.
    pub max_backoff_secs: u64,
    /// Attempts before a message is given up as `dead`.
    pub max_attempts: u32,
    /// Seconds a claimed message stays reserved for its worker.
    pub lease_secs: u64,
    /// Messages claimed per run.
    pub batch_size: u32,
    /// Link to a hazard in mails; `{base}` is `server.public_base_url`,
    /// `{id}` the hazard id.
    pub hazard_link: String,
    /// Fixed address lists, named in rules as `list:NAME`.
    pub lists: std::collections::BTreeMap<String, Vec<String>>,
    pub rules: Vec<EscalationRule>,
}

/// When a rule fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleTrigger {
    /// A major hazard is reported: at once.
    MajorReported,
    /// `days` before the deadline day, while not yet submitted.
    BeforeDeadline,
    /// `days` after the deadline day ended (0: the day after the deadline).
    Overdue,
    /// `days` before a listed hazard's 督办期限, while still listed.
    BeforeListingDue,
    /// `days` after a listed hazard's 督办期限 ended, while still listed.
    ListingOverdue,
    /// `days` after an Art. 14 filing's due day ended, while not filed.
    FilingOverdue,
    /// An occurrence of a check task on a 重大 or 较大 risk unit was
    /// missed: `days` after its on-time limit passed unrecorded. A
    /// 包保责任人's duty checks have their own two triggers below.
    CheckMissed,
    /// An occurrence of a 包保责任人's duty check was missed, `days` after
    /// its on-time limit.
    DutyMissed,
    /// The same, when the occurrence before it was missed too (two in a
    /// row).
    DutyMissedTwice,
    /// `days` before a major hazard source's next safety assessment or
    /// drill of an emergency plan falls due, until that day ends.
    BeforeSourceDue,
    /// `days` after a major hazard source's assessment or drill day ended
    /// with none recorded.
    SourceOverdue,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EscalationRule {
    /// Stable name, shown in the outbox.
    pub code: String,
    /// The mail's headline.
    pub title: String,
    pub when: RuleTrigger,
    #[serde(default)]
    pub days: u32,
    /// `enterprise_contacts`, `role:<role>`, `list:<name>`, an address, or
    /// (duty rules) `assignee`: the person the missed duty check is theirs.
    pub recipients: Vec<String>,
}

impl EscalationSettings {
    fn validate(&self) -> anyhow::Result<()> {
        if self.interval_secs == 0
            || self.max_attempts == 0
            || self.lease_secs == 0
            || self.batch_size == 0
        {
            bail!("escalation: interval_secs, max_attempts, lease_secs and batch_size must be positive");
        }
        let mut codes = std::collections::BTreeSet::new();
        for rule in &self.rules {
            if !codes.insert(rule.code.as_str()) {
                bail!("escalation.rules: the code {:?} is used twice", rule.code);
            }
            for recipient in &rule.recipients {
                if let Some(list) = recipient.strip_prefix("list:") {
                    if !self.lists.contains_key(list) {
                        bail!(
                            "escalation.rules.{}: no list named {list:?} in escalation.lists",
                            rule.code
                        );
                    }
                } else if let Some(role) = recipient.strip_prefix("role:") {
                    role.parse::<crate::domain::access::Role>().map_err(|_| {
                        anyhow::anyhow!("escalation.rules.{}: unknown role {role:?}", rule.code)
                    })?;
                } else if recipient == "assignee"
                    && !matches!(
                        rule.when,
                        RuleTrigger::DutyMissed | RuleTrigger::DutyMissedTwice
                    )
                {
                    bail!(
                        "escalation.rules.{}: the recipient \"assignee\" is only for duty_missed rules",
                        rule.code
                    );
                } else if recipient != "enterprise_contacts" && recipient != "assignee" {
                    crate::domain::email::Email::parse(recipient).map_err(|m| {
                        anyhow::anyhow!(
                            "escalation.rules.{}: recipient {recipient:?} {m}",
                            rule.code
                        )
                    })?;
                }
            }
        }
        for (name, addresses) in &self.lists {
            for address in addresses {
                crate::domain::email::Email::parse(address)
                    .map_err(|m| anyhow::anyhow!("escalation.lists.{name}: {address:?} {m}"))?;
            }
        }
        Ok(())
    }
}

/// Risk grading and differentiated supervision.
#[derive(Debug, Clone, Deserialize)]
pub struct GradingSettings {
    /// Names the threshold set; stored with every assessment graded by it.
    pub thresholds_version: String,
    pub red_below: f64,
    pub orange_below: f64,
    pub yellow_below: f64,
    /// Situations that make an enterprise red whatever its score.
    pub direct_red_triggers: Vec<CodeLabel>,
    /// An enterprise with more overdue hazards than this is flagged for a
    /// grade review (as is one with an open major hazard).
    pub review_overdue_hazards: u32,
    /// Inspections of these sources count as the park's supervision visits.
    pub supervision_sources: Vec<String>,
    /// A producing enterprise owes a `self_check` inspection at least this
    /// often (days); 0 turns the check off.
    pub self_check_interval_days: u32,
    pub intervals: GradeIntervals,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct GradeIntervals {
    pub red: SupervisionIntervals,
    pub orange: SupervisionIntervals,
    pub yellow: SupervisionIntervals,
    pub blue: SupervisionIntervals,
}

impl GradeIntervals {
    pub fn of(&self, grade: Grade) -> SupervisionIntervals {
        match grade {
            Grade::Red => self.red,
            Grade::Orange => self.orange,
            Grade::Yellow => self.yellow,
            Grade::Blue => self.blue,
        }
    }
}

impl GradingSettings {
    pub fn thresholds(&self) -> anyhow::Result<Thresholds> {
        let centi = |name: &str, points: f64| {
            score_to_centi(points).map_err(|m| anyhow::anyhow!("grading.{name} {m}"))
        };
        let thresholds = Thresholds {
            version: self.thresholds_version.clone(),
            red_below: centi("red_below", self.red_below)?,
            orange_below: centi("orange_below", self.orange_below)?,
            yellow_below: centi("yellow_below", self.yellow_below)?,
        };
        thresholds.check().map_err(|m| anyhow::anyhow!(m))?;
        Ok(thresholds)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.thresholds()?;
        for grade in Grade::ALL {
            let every = self.intervals.of(grade);
            if every.inspection_interval_days == 0 || every.reassessment_interval_days == 0 {
                bail!("grading.intervals.{grade}: intervals must be at least one day");
            }
            if every.reassessment_interval_days > MAX_REASSESSMENT_DAYS {
                bail!(
                    "grading.intervals.{grade}.reassessment_interval_days must be at most {MAX_REASSESSMENT_DAYS} (3 years)"
                );
            }
        }
        for source in &self.supervision_sources {
            source.parse::<CheckSource>().map_err(|_| {
                anyhow::anyhow!("grading.supervision_sources: unknown source {source:?}")
            })?;
        }
        Ok(())
    }
}

impl ParkSettings {
    pub fn time_zone(&self) -> anyhow::Result<chrono_tz::Tz> {
        self.timezone.parse::<chrono_tz::Tz>().map_err(|e| {
            anyhow::anyhow!("park.timezone {:?} is not a time zone: {e}", self.timezone)
        })
    }

    /// The park these settings describe: its time zone and vocabularies.
    pub fn park(&self) -> anyhow::Result<Park> {
        Ok(Park {
            time_zone: self.time_zone()?,
            categories: self.categories.clone(),
            specialties: self.specialties.clone(),
        })
    }
}

/// A parsed database URL. The scheme alone picks the backend: anything else
/// is refused, so a typo never silently becomes an empty database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> anyhow::Result<DatabaseUrl> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                bail!("database.url {url:?} names no file: use sqlite://data/hazards.sqlite3");
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let scheme = url.split_once(':').map_or("(none)", |(scheme, _)| scheme);
        bail!(
            "database.url has the unsupported scheme {scheme:?}: use sqlite://PATH or postgres://user@host:port/db"
        )
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgresql",
        }
    }
}

/// Where the configuration files live: `HT_CONFIG_DIR`, else `./config`.
pub fn config_dir() -> PathBuf {
    std::env::var_os("HT_CONFIG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("config"))
}

impl Settings {
    /// Reads the layered configuration from `dir` and the environment.
    pub fn load_from(dir: &Path) -> anyhow::Result<Settings> {
        let environment = std::env::var("HT_ENV").unwrap_or_else(|_| "development".into());
        let mut builder = config::Config::builder()
            .add_source(config::File::from(dir.join("default.toml")).required(true))
            .add_source(
                config::File::from(dir.join(format!("{environment}.toml"))).required(false),
            );
        // DATABASE_URL is the convention most tools share; the service's own
        // HT__DATABASE__URL wins when both are set. (An override outranks
        // every source, so it is only set when the service's own is absent.)
        if std::env::var_os("HT__DATABASE__URL").is_none() {
            if let Ok(url) = std::env::var("DATABASE_URL") {
                builder = builder.set_override("database.url", url)?;
            }
        }
        let settings: Settings = builder
            .add_source(
                config::Environment::with_prefix("HT")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()
            .context("reading configuration")?
            .try_deserialize()
            .context("configuration has a missing or mistyped value")?;
        settings.validate()?;
        Ok(settings)
    }

    /// Reads the configuration from [`config_dir`].
    pub fn load() -> anyhow::Result<Settings> {
        Self::load_from(&config_dir())
    }

    fn validate(&self) -> anyhow::Result<()> {
        DatabaseUrl::parse(&self.database.url)?;
        self.storage.validate()?;
        self.attachments.validate()?;
        self.park.time_zone()?;
        self.server.validate()?;
        if self.database.pool_size == 0 {
            bail!("database.pool_size must be positive");
        }
        self.grading.validate()?;
        self.escalation.validate()?;
        self.metrics.validate()?;
        self.webhooks.validate()?;
        self.risk.validate()?;
        self.major_sources.validate()?;
        self.exchange.validate()?;
        if self.park.categories.is_empty() {
            bail!("park.categories must list at least one category");
        }
        Ok(())
    }
}

const MIN_SECRET_BYTES: usize = 32;
const GENERATED_SECRET_FILE: &str = "jwt-secret";

impl AuthSettings {
    /// The signing secret: the configured one, or in development a generated
    /// one kept in the data folder so tokens survive a restart.
    pub fn resolve_secret(&self, data_dir: &Path) -> anyhow::Result<SecretString> {
        let configured = self.jwt_secret.expose_secret();
        if !configured.is_empty() {
            if configured.len() < MIN_SECRET_BYTES {
                bail!("auth.jwt_secret must be at least {MIN_SECRET_BYTES} bytes long");
            }
            return Ok(self.jwt_secret.clone());
        }
        if self.require_explicit_secret {
            bail!(
                "auth.jwt_secret is not set, and this profile requires an explicit secret: \
                 set HT__AUTH__JWT_SECRET to at least {MIN_SECRET_BYTES} random bytes"
            );
        }
        let path = data_dir.join(GENERATED_SECRET_FILE);
        if let Ok(existing) = std::fs::read_to_string(&path) {
            let existing = existing.trim();
            if existing.len() >= MIN_SECRET_BYTES {
                return Ok(SecretString::from(existing.to_owned()));
            }
        }
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating data folder {}", data_dir.display()))?;
        let secret = generate_secret();
        write_private_file(&path, &secret)
            .with_context(|| format!("writing {}", path.display()))?;
        tracing::warn!(
            path = %path.display(),
            "no auth.jwt_secret configured: generated one for development; set HT__AUTH__JWT_SECRET in production"
        );
        Ok(SecretString::from(secret))
    }
}

fn generate_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(unix)]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idempotency_retention_is_hours_and_never_overflows() {
        let mut server: ServerSettings = serde_json::from_value(serde_json::json!({
            "bind": "127.0.0.1:0", "workers": 1, "max_body_bytes": 1,
            "public_base_url": "http://x", "client_request_timeout_secs": 1,
            "keep_alive_secs": 1, "client_disconnect_timeout_secs": 1,
            "cors_allowed_origins": [], "body_idle_timeout_secs": 1
        }))
        .unwrap();
        assert_eq!(server.idempotency_retention(), chrono::TimeDelta::hours(24));
        server.idempotency_retention_hours = u64::MAX;
        assert_eq!(server.idempotency_retention(), chrono::TimeDelta::MAX);
    }

    #[test]
    fn a_webhook_batch_is_leased_longer_than_it_can_take() {
        let defaults = WebhookSettings::default();
        // 50 deliveries, 4 at once to one endpoint: 13 rounds of 10 s at
        // most, one more for rounds that do not line up, and the margin.
        assert_eq!(defaults.lease(), std::time::Duration::from_secs(170));
        let one_at_a_time = WebhookSettings {
            max_concurrency: 1,
            batch_size: 3,
            timeout_secs: 2,
            ..WebhookSettings::default()
        };
        assert_eq!(one_at_a_time.lease(), std::time::Duration::from_secs(38));
    }

    #[test]
    fn a_webhook_key_is_32_bytes_in_base64_or_hex() {
        let bytes: Vec<u8> = (0..32).collect();
        let hex = crate::domain::hex::hex(&bytes);
        assert_eq!(decode_key(&hex).unwrap().to_vec(), bytes);
        assert_eq!(decode_key(&hex.to_uppercase()).unwrap().to_vec(), bytes);
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert_eq!(decode_key(&b64).unwrap().to_vec(), bytes);
        let url_safe = base64::engine::general_purpose::URL_SAFE.encode(&bytes);
        assert_eq!(decode_key(&url_safe).unwrap().to_vec(), bytes);
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        assert!(decode_key(&short).unwrap_err().contains("not 16"));
        assert!(decode_key("not a key").is_err());
    }
}
