//! Login throttling: how many sign-in attempts one account and one client
//! address may make per minute, counted in this process's memory. Each key
//! gets a fixed one-minute window that opens with its first attempt; past
//! the limit the answer is `429` with `Retry-After` until that window ends.
//!
//! In memory and per instance on purpose: the point is to make password
//! guessing slow and to keep argon2 from being used to burn CPU, not exact
//! accounting, and it keeps working when the database does not.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::AppError;
use crate::settings::AuthSettings;

const WINDOW: Duration = Duration::from_secs(60);

pub struct LoginThrottle {
    per_account: u32,
    per_address: u32,
    windows: Mutex<Windows>,
}

struct Windows {
    /// Accounts are keyed by a keyed hash of the email (random keys per
    /// process): made-up emails, however long, cost a few bytes each and
    /// no address is kept as text.
    hasher: RandomState,
    accounts: HashMap<u64, Window>,
    addresses: HashMap<IpAddr, Window>,
    next_sweep: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Instant,
    attempts: u32,
}

impl Window {
    fn is_current(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.opened) < WINDOW
    }
}

impl LoginThrottle {
    /// Limits per minute; 0 turns that limit off.
    pub fn new(per_account: u32, per_address: u32) -> LoginThrottle {
        LoginThrottle {
            per_account,
            per_address,
            windows: Mutex::new(Windows {
                hasher: RandomState::new(),
                accounts: HashMap::new(),
                addresses: HashMap::new(),
                next_sweep: Instant::now() + WINDOW,
            }),
        }
    }

    pub fn from_settings(settings: &AuthSettings) -> LoginThrottle {
        LoginThrottle::new(
            settings.login_attempts_per_minute_per_account,
            settings.login_attempts_per_minute_per_address,
        )
    }

    /// Counts one attempt to sign in as `email` (already normalised) from
    /// `address`, or refuses it (`429`) while either limit is reached.
    pub fn attempt(&self, email: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        self.attempt_at(email, address, Instant::now())
            .map_err(|wait| {
                tracing::warn!(
                    client = %address.map_or_else(|| "unknown".to_owned(), |a| a.to_string()),
                    retry_after_secs = wait,
                    "sign-in attempts throttled"
                );
                AppError::TooManyRequests {
                    retry_after_secs: wait,
                }
            })
    }

    /// The seconds to wait when refused. A refused attempt is not counted,
    /// so a client that keeps trying is let in again when its window ends.
    fn attempt_at(&self, email: &str, address: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let mut guard = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let windows = &mut *guard;
        if now >= windows.next_sweep {
            // Bounded memory: forget every window that has ended.
            windows.accounts.retain(|_, w| w.is_current(now));
            windows.addresses.retain(|_, w| w.is_current(now));
            windows.next_sweep = now + WINDOW;
        }
        let account = windows.hasher.hash_one(email);
        let address = address.map(client_network);
        let account_wait = wait(windows.accounts.get(&account), self.per_account, now);
        let address_wait =
            address.and_then(|a| wait(windows.addresses.get(&a), self.per_address, now));
        if let Some(wait) = account_wait.max(address_wait) {
            return Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        }
        if self.per_account > 0 {
            count(&mut windows.accounts, account, now);
        }
        if let (Some(address), true) = (address, self.per_address > 0) {
            count(&mut windows.addresses, address, now);
        }
        Ok(())
    }
}

/// How long until `window` lets another attempt in; `None`: at once.
fn wait(window: Option<&Window>, limit: u32, now: Instant) -> Option<Duration> {
    let window = window.filter(|w| limit > 0 && w.is_current(now) && w.attempts >= limit)?;
    Some((window.opened + WINDOW).saturating_duration_since(now))
}

fn count<K: std::hash::Hash + Eq>(windows: &mut HashMap<K, Window>, key: K, now: Instant) {
    let window = windows.entry(key).or_insert(Window {
        opened: now,
        attempts: 0,
    });
    if !window.is_current(now) {
        *window = Window {
            opened: now,
            attempts: 0,
        };
    }
    window.attempts = window.attempts.saturating_add(1);
}

/// The unit one client is counted by: an IPv4 address, or the /64 network
/// of an IPv6 one (a single host usually holds a whole /64 and could
/// otherwise step through it).
fn client_network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn an_account_is_refused_past_its_limit_until_the_window_ends() {
        let throttle = LoginThrottle::new(3, 100);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.attempt_at("a@x.cn", HOME, start), Ok(()));
        }
        let later = start + Duration::from_millis(20_500);
        assert_eq!(throttle.attempt_at("a@x.cn", HOME, later), Err(40));
        assert_eq!(throttle.attempt_at("b@x.cn", HOME, later), Ok(()));
        let next_window = start + WINDOW;
        assert_eq!(throttle.attempt_at("a@x.cn", HOME, next_window), Ok(()));
    }

    #[test]
    fn an_address_is_refused_past_its_limit_whatever_the_account() {
        let throttle = LoginThrottle::new(100, 2);
        let now = Instant::now();
        assert_eq!(throttle.attempt_at("a@x.cn", HOME, now), Ok(()));
        assert_eq!(throttle.attempt_at("b@x.cn", HOME, now), Ok(()));
        assert_eq!(throttle.attempt_at("c@x.cn", HOME, now), Err(60));
        let elsewhere = Some("192.0.2.7".parse().unwrap());
        assert_eq!(throttle.attempt_at("c@x.cn", elsewhere, now), Ok(()));
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let throttle = LoginThrottle::new(0, 0);
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(throttle.attempt_at("a@x.cn", HOME, now), Ok(()));
        }
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_network(a), client_network(b));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(
            client_network(mapped),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn ended_windows_are_swept() {
        let throttle = LoginThrottle::new(5, 5);
        let start = Instant::now();
        for n in 0..50 {
            let _ = throttle.attempt_at(&format!("{n}@x.cn"), HOME, start);
        }
        let _ = throttle.attempt_at("late@x.cn", HOME, start + 2 * WINDOW);
        let windows = throttle.windows.lock().unwrap();
        assert_eq!(windows.accounts.len(), 1);
        assert_eq!(windows.addresses.len(), 1);
    }
}
