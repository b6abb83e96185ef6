//! Authentication: argon2id password hashes, the JWTs the service issues and
//! strictly validates, and the account check that confirms a token still
//! speaks for an active account with the role it claims.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::Id;
use crate::db::{users, Db};
use crate::domain::access::Caller;
use crate::domain::access::Role;
use crate::error::{AppError, FieldError};
use crate::messages::Rule;
use crate::settings::AuthSettings;

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longer inputs are refused before hashing, so nobody can make the server
/// hash megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

pub fn hash_password(password: &SecretString) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing a password: {e}")))
}

/// Verifies against a stored PHC string. An unknown user, or one whose
/// stored hash does not parse (a placeholder account), is checked against a
/// fixed hash so every path takes the same time.
pub fn verify_password(password: &SecretString, stored_hash: Option<&str>) -> bool {
    static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = || {
        DUMMY_HASH.get_or_init(|| {
            hash_password(&SecretString::from("no such user, no such password")).unwrap_or_default()
        })
    };
    let (parsed, known_user) = match stored_hash.map(PasswordHash::new) {
        Some(Ok(parsed)) => (Some(parsed), true),
        Some(Err(_)) | None => (PasswordHash::new(dummy()).ok(), false),
    };
    let Some(parsed) = parsed else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.expose_secret().as_bytes(), &parsed)
        .is_ok();
    matches && known_user
}

pub fn check_password_strength(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "password",
            FieldError::new(Rule::TooShort).with("min", MIN_PASSWORD_CHARS),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::invalid(
            "password",
            FieldError::new(Rule::TooManyBytes).with("max", MAX_PASSWORD_BYTES),
        ));
    }
    Ok(())
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<Uuid>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// The account's token version when the token was issued: the token
    /// counts only while that is still the account's.
    pub ver: i64,
}

/// How many checked tokens [`TokenService`] remembers before starting over.
const MAX_VERIFIED_TOKENS: usize = 10_000;

/// Issues and validates tokens. HS256 only: a token naming any other
/// algorithm, `none` included, is refused.
pub struct TokenService {
    /// Tokens whose signature and claims were checked, by their exact text;
    /// only their time window is checked again. Saves the HMAC and the JSON
    /// parsing on every request of a polling dashboard.
    verified: Mutex<HashMap<Box<str>, Arc<Claims>>>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: u64,
}

impl TokenService {
    pub fn new(settings: &AuthSettings, secret: &SecretString) -> TokenService {
        let key = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = settings.leeway_secs;
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.set_audience(&[settings.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        TokenService {
            verified: Mutex::default(),
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl_secs: settings.token_ttl_secs,
        }
    }

    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    pub fn issue(
        &self,
        user_id: Uuid,
        role: Role,
        enterprise_id: Option<Uuid>,
        token_version: i64,
    ) -> Result<String, AppError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            role,
            enterprise_id,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            nbf: now,
            exp: now + i64::try_from(self.ttl_secs).unwrap_or(i64::MAX / 2),
            ver: token_version,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("signing a token: {e}")))
    }

    pub fn validate(&self, token: &str) -> Result<Arc<Claims>, AppError> {
        let remembered = self
            .verified
            .lock()
            .ok()
            .and_then(|verified| verified.get(token).cloned());
        if let Some(claims) = remembered {
            // The checks `jsonwebtoken` makes of `exp` and `nbf`.
            let now = jsonwebtoken::get_current_timestamp() as i64;
            let leeway = self.validation.leeway as i64;
            if claims.exp >= now - leeway && claims.nbf <= now + leeway {
                return Ok(claims);
            }
            if let Ok(mut verified) = self.verified.lock() {
                verified.remove(token);
            }
            return Err(AppError::Unauthorized(
                "the access token is invalid or expired",
            ));
        }
        let claims = Arc::new(self.verify(token)?);
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= MAX_VERIFIED_TOKENS {
                verified.clear();
            }
            verified.insert(token.into(), claims.clone());
        }
        Ok(claims)
    }

    fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                tracing::debug!(error = %e, "token refused");
                AppError::Unauthorized("the access token is invalid or expired")
            })?;
        let claims = data.claims;
        // An enterprise token must name its enterprise, and only it may.
        if (claims.role == Role::Enterprise) != claims.enterprise_id.is_some() {
            return Err(AppError::Unauthorized(
                "the access token is invalid or expired",
            ));
        }
        Ok(claims)
    }
}

/// How long a confirmed account is trusted before the database is asked
/// again: disabling a user or changing their role takes effect within this.
const ACCOUNT_RECHECK: Duration = Duration::from_secs(10);

/// Confirms that a token's account still exists, is active, and still has
/// the role and enterprise the token claims. Remembers answers briefly so
/// a busy dashboard does not cost a query per request.
#[derive(Default)]
pub struct AccountCheck {
    confirmed: Mutex<HashMap<Uuid, (Instant, Account)>>,
}

/// What a token is confirmed against.
#[derive(Debug, Clone, Copy)]
struct Account {
    caller: Caller,
    /// Tokens issued under another version no longer count.
    token_version: i64,
}

impl AccountCheck {
    /// `token_version` is the token's `ver`.
    pub async fn confirm(
        &self,
        db: &Db,
        caller: Caller,
        token_version: i64,
    ) -> Result<Caller, AppError> {
        if let Some(answer) = self.remembered(caller, token_version) {
            return answer;
        }
        let id = Id::from(caller.user_id);
        let user = db.run(move |conn| users::find(conn, id)).await?;
        let current = user.filter(|u| u.active).map(|u| Account {
            caller: Caller {
                user_id: caller.user_id,
                role: u.role,
                enterprise_id: u.enterprise_id.map(Id::uuid),
            },
            token_version: u.token_version,
        });
        if let (Some(current), Ok(mut map)) = (current, self.confirmed.lock()) {
            if map.len() > 100_000 {
                map.clear();
            }
            map.insert(caller.user_id, (Instant::now(), current));
        }
        judge(current, caller, token_version)
    }

    /// [`AccountCheck::confirm`]'s answer if the account was confirmed
    /// within [`ACCOUNT_RECHECK`], without waiting; `None` when the
    /// database must be asked.
    pub fn remembered(
        &self,
        caller: Caller,
        token_version: i64,
    ) -> Option<Result<Caller, AppError>> {
        let (at, current) = self.confirmed.lock().ok()?.get(&caller.user_id).copied()?;
        (at.elapsed() < ACCOUNT_RECHECK).then(|| judge(Some(current), caller, token_version))
    }

    /// Forgets an account at once (after it was changed here).
    pub fn forget(&self, user_id: Uuid) {
        if let Ok(mut map) = self.confirmed.lock() {
            map.remove(&user_id);
        }
    }
}

/// Whether a token issued under `token_version` for `caller` still stands
/// for the account as it is now (`None`: gone or disabled).
fn judge(current: Option<Account>, caller: Caller, token_version: i64) -> Result<Caller, AppError> {
    match current {
        Some(current) if current.token_version != token_version => Err(AppError::Unauthorized(
            "this token was revoked (password changed or signed out everywhere); sign in again",
        )),
        Some(current) if current.caller == caller => Ok(caller),
        Some(_) => Err(AppError::Unauthorized(
            "the account changed since this token was issued; sign in again",
        )),
        None => Err(AppError::Unauthorized(
            "the account behind this token no longer exists or is disabled",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AuthSettings {
        AuthSettings {
            jwt_secret: SecretString::from("x".repeat(40)),
            require_explicit_secret: false,
            issuer: "iss".into(),
            audience: "aud".into(),
            token_ttl_secs: 60,
            leeway_secs: 0,
            login_attempts_per_minute_per_account: 10,
            login_attempts_per_minute_per_address: 30,
        }
    }

    #[test]
    fn an_unparseable_stored_hash_costs_a_hash_as_a_wrong_password_does() {
        let password = SecretString::from("correct horse battery".to_owned());
        let stored = hash_password(&password).unwrap();
        assert!(verify_password(&password, Some(&stored)));
        // Warm the fixed hash, then compare one wrong password against a
        // placeholder that is no hash at all: both must run argon2.
        assert!(!verify_password(&password, None));
        let timed = |hash: Option<&str>| {
            let started = Instant::now();
            for _ in 0..3 {
                assert!(!verify_password(&password, hash));
            }
            started.elapsed()
        };
        let wrong = timed(Some(
            &hash_password(&SecretString::from("other".to_owned())).unwrap(),
        ));
        let placeholder = timed(Some("!disabled"));
        assert!(
            placeholder * 4 > wrong,
            "placeholder {placeholder:?} against wrong password {wrong:?}"
        );
    }

    #[test]
    fn a_token_round_trips_and_another_key_is_refused() {
        let s = settings();
        let service = TokenService::new(&s, &s.jwt_secret);
        let id = Uuid::new_v4();
        let token = service.issue(id, Role::Expert, None, 0).unwrap();
        assert_eq!(service.validate(&token).unwrap().sub, id);
        let other = TokenService::new(&s, &SecretString::from("y".repeat(40)));
        assert!(other.validate(&token).is_err());
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let mut s = settings();
        s.token_ttl_secs = 1;
        let service = TokenService::new(&s, &s.jwt_secret);
        let token = service
            .issue(Uuid::new_v4(), Role::Expert, None, 0)
            .unwrap();
        assert!(service.validate(&token).is_ok());
        assert!(service.validate(&token).is_ok(), "remembered");
        std::thread::sleep(Duration::from_millis(2100));
        assert!(service.validate(&token).is_err());
        // A token one character off is not the remembered one.
        let mut forged = service
            .issue(Uuid::new_v4(), Role::Expert, None, 0)
            .unwrap();
        service.validate(&forged).unwrap();
        let at = forged.len() - 10;
        let swapped = if &forged[at..=at] == "A" { "B" } else { "A" };
        forged.replace_range(at..=at, swapped);
        assert!(service.validate(&forged).is_err());
    }

    #[test]
    fn passwords_verify_only_with_the_right_text() {
        let hash = hash_password(&SecretString::from("correct horse")).unwrap();
        assert!(verify_password(
            &SecretString::from("correct horse"),
            Some(&hash)
        ));
        assert!(!verify_password(
            &SecretString::from("wrong horse"),
            Some(&hash)
        ));
        assert!(!verify_password(&SecretString::from("correct horse"), None));
    }
}
