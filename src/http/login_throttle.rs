//! Login throttling, counted in this process's memory in fixed one-minute
//! windows that open with their first count:
//!
//! - every attempt from one client address (an IPv4 address or an IPv6
//!   /64): past `per_address` the address is refused (`429`);
//! - wrong passwords for one account *from one client address*: past
//!   `per_account` that pair is refused (`429`), so a guesser is stopped;
//! - wrong passwords for one account from anywhere: past `per_account`
//!   every attempt on the account is only *slowed*, by a delay that doubles
//!   with each further failure up to [`MAX_DELAY`]. The right password from
//!   a fresh address is never refused, so nobody can lock another person
//!   out by failing on purpose.
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
/// The first delay once an account's failures pass the limit.
const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest an attempt on a much-failed account is held.
pub const MAX_DELAY: Duration = Duration::from_secs(4);

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
    /// Failures per account, from anywhere: they slow down.
    accounts: HashMap<u64, Window>,
    /// Failures per account and client network: they block.
    pairs: HashMap<(u64, Option<IpAddr>), Window>,
    /// Attempts per client network: they block.
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
                pairs: HashMap::new(),
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
    /// `address`, or refuses it (`429`) while the address, or this account
    /// from this address, is past its limit. `Ok` carries how long to hold
    /// the attempt before checking the password.
    pub fn attempt(&self, email: &str, address: Option<IpAddr>) -> Result<Duration, AppError> {
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

    /// Counts a wrong password (or unknown account) for `email` from
    /// `address`.
    pub fn failed(&self, email: &str, address: Option<IpAddr>) {
        self.failed_at(email, address, Instant::now());
    }

    /// The seconds to wait when refused. A refused attempt is not counted,
    /// so a client that keeps trying is let in again when its window ends.
    fn attempt_at(
        &self,
        email: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Duration, u64> {
        let mut guard = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let windows = &mut *guard;
        if now >= windows.next_sweep {
            // Bounded memory: forget every window that has ended.
            windows.accounts.retain(|_, w| w.is_current(now));
            windows.pairs.retain(|_, w| w.is_current(now));
            windows.addresses.retain(|_, w| w.is_current(now));
            windows.next_sweep = now + WINDOW;
        }
        let account = windows.hasher.hash_one(email);
        let address = address.map(client_network);
        let pair_wait = wait(
            windows.pairs.get(&(account, address)),
            self.per_account,
            now,
        );
        let address_wait =
            address.and_then(|a| wait(windows.addresses.get(&a), self.per_address, now));
        if let Some(wait) = pair_wait.max(address_wait) {
            return Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        }
        if let (Some(address), true) = (address, self.per_address > 0) {
            count(&mut windows.addresses, address, now);
        }
        Ok(delay(windows.accounts.get(&account), self.per_account, now))
    }

    fn failed_at(&self, email: &str, address: Option<IpAddr>, now: Instant) {
        if self.per_account == 0 {
            return;
        }
        let mut guard = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let windows = &mut *guard;
        let account = windows.hasher.hash_one(email);
        let address = address.map(client_network);
        count(&mut windows.accounts, account, now);
        count(&mut windows.pairs, (account, address), now);
    }
}

/// How long until `window` lets another attempt in; `None`: at once.
fn wait(window: Option<&Window>, limit: u32, now: Instant) -> Option<Duration> {
    let window = window.filter(|w| limit > 0 && w.is_current(now) && w.attempts >= limit)?;
    Some((window.opened + WINDOW).saturating_duration_since(now))
}

/// How long to hold an attempt on an account with `window`'s failures:
/// nothing up to the limit, then [`FIRST_DELAY`] doubling with each
/// further failure, at most [`MAX_DELAY`].
fn delay(window: Option<&Window>, limit: u32, now: Instant) -> Duration {
    match window.filter(|w| limit > 0 && w.is_current(now) && w.attempts >= limit) {
        None => Duration::ZERO,
        Some(w) => {
            let doublings = (w.attempts - limit).min(16);
            FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
        }
    }
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
    const ELSEWHERE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7)));

    #[test]
    fn failures_block_the_account_from_that_address_until_the_window_ends() {
        let throttle = LoginThrottle::new(3, 100);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(throttle.attempt_at("a@x.cn", HOME, start).is_ok());
            throttle.failed_at("a@x.cn", HOME, start);
        }
        let later = start + Duration::from_millis(20_500);
        assert_eq!(throttle.attempt_at("a@x.cn", HOME, later), Err(40));
        assert!(throttle.attempt_at("b@x.cn", HOME, later).is_ok());
        let next_window = start + WINDOW;
        assert_eq!(
            throttle.attempt_at("a@x.cn", HOME, next_window),
            Ok(Duration::ZERO)
        );
    }

    #[test]
    fn failures_from_one_address_only_slow_the_account_elsewhere() {
        let throttle = LoginThrottle::new(3, 100);
        let now = Instant::now();
        assert_eq!(
            throttle.attempt_at("a@x.cn", ELSEWHERE, now),
            Ok(Duration::ZERO)
        );
        for _ in 0..10 {
            let _ = throttle.attempt_at("a@x.cn", HOME, now);
            throttle.failed_at("a@x.cn", HOME, now);
        }
        assert!(throttle.attempt_at("a@x.cn", HOME, now).is_err());
        // Ten failures, three allowed: held, never refused, and capped.
        let held = throttle.attempt_at("a@x.cn", ELSEWHERE, now).unwrap();
        assert_eq!(held, MAX_DELAY.min(FIRST_DELAY * (1 << 7)));
        for _ in 0..100 {
            throttle.failed_at("a@x.cn", Some("198.51.100.1".parse().unwrap()), now);
        }
        assert_eq!(throttle.attempt_at("a@x.cn", ELSEWHERE, now), Ok(MAX_DELAY));
    }

    #[test]
    fn the_delay_grows_with_each_failure_past_the_limit() {
        let throttle = LoginThrottle::new(2, 100);
        let now = Instant::now();
        let mut delays = Vec::new();
        for _ in 0..6 {
            delays.push(throttle.attempt_at("a@x.cn", ELSEWHERE, now).unwrap());
            throttle.failed_at("a@x.cn", HOME, now);
        }
        let ms: Vec<u128> = delays.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 0, 250, 500, 1000, 2000]);
    }

    #[test]
    fn an_address_is_refused_past_its_limit_whatever_the_account() {
        let throttle = LoginThrottle::new(100, 2);
        let now = Instant::now();
        assert!(throttle.attempt_at("a@x.cn", HOME, now).is_ok());
        assert!(throttle.attempt_at("b@x.cn", HOME, now).is_ok());
        assert_eq!(throttle.attempt_at("c@x.cn", HOME, now), Err(60));
        assert!(throttle.attempt_at("c@x.cn", ELSEWHERE, now).is_ok());
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let throttle = LoginThrottle::new(0, 0);
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(throttle.attempt_at("a@x.cn", HOME, now), Ok(Duration::ZERO));
            throttle.failed_at("a@x.cn", HOME, now);
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
            throttle.failed_at(&format!("{n}@x.cn"), HOME, start);
        }
        let _ = throttle.attempt_at("late@x.cn", HOME, start + 2 * WINDOW);
        let windows = throttle.windows.lock().unwrap();
        assert_eq!(windows.accounts.len(), 0);
        assert_eq!(windows.pairs.len(), 0);
        assert_eq!(windows.addresses.len(), 1);
    }
}
