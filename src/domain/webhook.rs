//! Webhooks: the event types an endpoint subscribes to, what an endpoint's
//! address may be (http or https; private and loopback targets only where
//! the park allows them), and the Standard Webhooks signature
//! (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::error::{AppError, FieldError};
use crate::messages::Rule;

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
    let invalid = |message: FieldError| AppError::invalid("url", message);
    if url.chars().count() > MAX_URL {
        return Err(invalid(FieldError::new(Rule::TooLong).with("max", MAX_URL)));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid(Rule::UrlNotAbsolute.into()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(Rule::UrlScheme.into()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid(Rule::UrlNoHost.into()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(Rule::UrlCredentials.into()));
    }
    Ok(parsed)
}

/// Whether an address is a public unicast address on the internet, the
/// only kind a webhook may reach unless the park allows its own network:
/// not loopback, private, shared (CGNAT), link-local, documentation,
/// benchmarking, reserved, multicast or broadcast; and IPv4 carried in
/// IPv6 (IPv4-mapped, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) only where
/// the IPv4 inside is public.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// IPv4 ranges that are not public unicast (RFC 6890's special-purpose
/// registry, multicast and the reserved class E).
const NOT_PUBLIC_V4: &[([u8; 4], u32)] = &[
    ([0, 0, 0, 0], 8),       // "this network"
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // shared address space (carrier-grade NAT)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast (deprecated)
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, and the broadcast address
];

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let address = u32::from(v4);
    !NOT_PUBLIC_V4.iter().any(|&(network, prefix)| {
        let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
        address & mask == u32::from_be_bytes(network) & mask
    })
}

/// Inside global unicast (`2000::/3`), the IPv6 ranges that are not public
/// unicast.
const NOT_PUBLIC_V6: &[(u128, u32)] = &[
    // IETF protocol assignments, Teredo (whose IPv4 is hidden) among them.
    (0x2001_0000 << 96, 23),
    // Documentation.
    (0x2001_0db8 << 96, 32),
    (0x3fff_0000 << 96, 20),
];

fn is_public_v6(v6: Ipv6Addr) -> bool {
    let address = u128::from(v6);
    let within = |network: u128, prefix: u32| {
        let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
        address & mask == network & mask
    };
    let low_v4 = Ipv4Addr::from((address & 0xffff_ffff) as u32);
    // IPv4-mapped (`::ffff:a.b.c.d`) and NAT64 (`64:ff9b::a.b.c.d`): the
    // IPv4 address is what is reached.
    if within(0xffff << 32, 96) || within(0x0064_ff9b << 96, 96) {
        return is_public_v4(low_v4);
    }
    // 6to4 (`2002:AABB:CCDD::/48`): the IPv4 address after the prefix.
    if within(0x2002 << 112, 16) {
        return is_public_v4(Ipv4Addr::from(((address >> 80) & 0xffff_ffff) as u32));
    }
    // Global unicast is `2000::/3`; everything else (the unspecified and
    // loopback addresses, IPv4-compatible `::a.b.c.d`, the local-use NAT64
    // `64:ff9b:1::/48`, discard-only `100::/64`, unique-local `fc00::/7`,
    // link-local `fe80::/10`, site-local `fec0::/10`, multicast `ff00::/8`)
    // is not public.
    within(0x2000 << 112, 3) && !NOT_PUBLIC_V6.iter().any(|&(n, p)| within(n, p))
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

/// How a stored secret sealed by [`SecretSealer`] begins; a stored value
/// without it is a secret kept in clear before secrets were sealed.
pub const SEALED_PREFIX: &str = "v1:";

/// Webhook signing secrets at rest: `v1:` and the base64 of a random
/// 24-byte nonce followed by the XChaCha20-Poly1305 ciphertext of the
/// secret under the park's key, bound to its endpoint's id (associated
/// data), so a value copied onto another endpoint does not open.
pub struct SecretSealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretSealer(..)")
    }
}

const NONCE_BYTES: usize = 24;

impl SecretSealer {
    pub fn new(key: &[u8; 32]) -> SecretSealer {
        SecretSealer {
            cipher: XChaCha20Poly1305::new(&(*key).into()),
        }
    }

    /// Whether a stored value is sealed (rather than a legacy clear one).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED_PREFIX)
    }

    /// The stored form of `endpoint`'s `secret`.
    pub fn seal(&self, endpoint: Uuid, secret: &str) -> Result<String, AppError> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: secret.as_bytes(),
                    aad: endpoint.as_bytes(),
                },
            )
            .map_err(|_| AppError::Internal(anyhow::anyhow!("sealing a webhook secret failed")))?;
        let mut stored = nonce.to_vec();
        stored.extend_from_slice(&sealed);
        Ok(format!(
            "{SEALED_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(stored)
        ))
    }

    /// `endpoint`'s secret from its stored form; a legacy clear value is
    /// answered as it is.
    pub fn open(&self, endpoint: Uuid, stored: &str) -> Result<String, AppError> {
        let Some(sealed) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_owned());
        };
        let broken = |what: &str| {
            AppError::Internal(anyhow::anyhow!(
                "the stored secret of webhook {endpoint} {what} (was webhooks.secret_key changed?)"
            ))
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| broken("is not base64"))?;
        if bytes.len() < NONCE_BYTES {
            return Err(broken("is too short"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| broken("is too short"))?;
        let secret = self
            .cipher
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: ciphertext,
                    aad: endpoint.as_bytes(),
                },
            )
            .map_err(|_| broken("does not open with this key"))?;
        String::from_utf8(secret).map_err(|_| broken("is not text"))
    }
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
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        assert!(is_public("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn secrets_are_sealed_with_a_fresh_nonce_and_open_for_their_endpoint_only() {
        let sealer = SecretSealer::new(&[7u8; 32]);
        let (endpoint, other) = (Uuid::now_v7(), Uuid::now_v7());
        let secret = new_secret();
        let sealed = sealer.seal(endpoint, &secret).unwrap();
        assert!(SecretSealer::is_sealed(&sealed));
        assert!(!sealed.contains(&secret));
        assert!(!sealed.contains(secret.trim_start_matches("whsec_")));
        assert_ne!(
            sealed,
            sealer.seal(endpoint, &secret).unwrap(),
            "a nonce each"
        );
        assert_eq!(sealer.open(endpoint, &sealed).unwrap(), secret);
        assert!(
            sealer.open(other, &sealed).is_err(),
            "bound to its endpoint"
        );
        assert!(SecretSealer::new(&[8u8; 32])
            .open(endpoint, &sealed)
            .is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealer.open(endpoint, &tampered).is_err());
        // A secret kept in clear before sealing still reads.
        assert!(!SecretSealer::is_sealed(&secret));
        assert_eq!(sealer.open(endpoint, &secret).unwrap(), secret);
    }

    fn public(address: &str) -> bool {
        is_public(address.parse().unwrap())
    }

    #[test]
    fn special_purpose_ipv4_ranges_are_not_public() {
        for refused in [
            "0.0.0.0",
            "0.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.0.255",
            "192.0.2.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.7",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!public(refused), "{refused}");
        }
        // Just outside those ranges.
        for allowed in [
            "172.32.0.1",
            "192.0.1.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
            "1.1.1.1",
            "100.128.0.1",
        ] {
            assert!(public(allowed), "{allowed}");
        }
    }

    #[test]
    fn ipv6_multicast_site_local_and_other_ranges_are_not_public() {
        for refused in [
            "::",
            "ff02::1",
            "ff0e::1",
            "fec0::1",
            "feff::1",
            "fe80::1",
            "fc00::1",
            "100::1",
            "2001:db8::1",
            "2001::1",
            "3fff::1",
            "64:ff9b:1::1",
        ] {
            assert!(!public(refused), "{refused}");
        }
        for allowed in ["2400:cb00:2048:1::c629:d7a2", "2606:4700::1111"] {
            assert!(public(allowed), "{allowed}");
        }
    }

    #[test]
    fn ipv4_inside_ipv6_is_judged_by_the_ipv4() {
        // IPv4-mapped.
        assert!(!public("::ffff:127.0.0.1"));
        assert!(!public("::ffff:10.0.0.1"));
        assert!(public("::ffff:8.8.8.8"));
        // NAT64.
        assert!(!public("64:ff9b::127.0.0.1"));
        assert!(!public("64:ff9b::192.168.1.1"));
        assert!(!public("64:ff9b::169.254.169.254"));
        assert!(public("64:ff9b::8.8.8.8"));
        // 6to4: 2002:AABB:CCDD:: carries AA.BB.CC.DD.
        assert!(!public("2002:7f00:1::1"));
        assert!(!public("2002:a00:1::"));
        assert!(!public("2002:c0a8:101::1"));
        assert!(public("2002:808:808::1"));
        // IPv4-compatible (deprecated): refused whatever it carries.
        assert!(!public("::127.0.0.1"));
        assert!(!public("::10.0.0.1"));
        assert!(!public("::8.8.8.8"));
    }
}
