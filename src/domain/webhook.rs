//! Webhooks: the event types an endpoint subscribes to, what an endpoint's
//! address may be (http or https; private and loopback targets only where
//! the park allows them), and the Standard Webhooks signature
//! (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`).

use std::net::IpAddr;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::AppError;

/// What a webhook is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, utoipa::ToSchema)]
pub enum EventType {
    #[serde(rename = "hazard.reported")]
    HazardReported,
    #[serde(rename = "hazard.state_changed")]
    HazardStateChanged,
    #[serde(rename = "hazard.overdue")]
    HazardOverdue,
    #[serde(rename = "hazard.major_reported")]
    HazardMajorReported,
    #[serde(rename = "enterprise.grade_changed")]
    EnterpriseGradeChanged,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HazardReported => "hazard.reported",
            Self::HazardStateChanged => "hazard.state_changed",
            Self::HazardOverdue => "hazard.overdue",
            Self::HazardMajorReported => "hazard.major_reported",
            Self::EnterpriseGradeChanged => "enterprise.grade_changed",
        }
    }
}

/// The longest endpoint address.
pub const MAX_URL: usize = 2000;

/// Checks an endpoint's address: an absolute http(s) URL with a host and
/// no credentials in it.
pub fn check_url(url: &str) -> Result<reqwest::Url, AppError> {
    let invalid = |message: &str| AppError::invalid("url", message);
    if url.chars().count() > MAX_URL {
        return Err(invalid("must be at most 2000 characters"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid("must be an absolute URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("must name a host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "must not carry credentials: the signature authenticates",
        ));
    }
    Ok(parsed)
}

/// Whether an address is loopback, private, link-local or otherwise not
/// on the public internet: such targets are refused unless configured.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// A new secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The `webhook-signature` header of a message.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, AppError> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("a stored webhook secret: {e}")))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("a webhook key: {e}")))?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signed = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn addresses_are_checked() {
        assert!(check_url("https://ehs.example.cn/hook").is_ok());
        assert!(check_url("ftp://ehs.example.cn/hook").is_err());
        assert!(check_url("https://user:pw@ehs.example.cn/").is_err());
        assert!(check_url("/relative").is_err());
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.1.1",
            "::1",
            "fd00::1",
            "100.64.0.1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        assert!(!is_private("8.8.8.8".parse().unwrap()));
    }
}
