//! Login attempts per client address: a token bucket each, in memory.
//!
//! The account lockout (`catalogue`) stops guessing one name; this stops one client
//! guessing many names, and spares the argon2 work of a flood. A successful login gives
//! its token back, so a library whose staff share one address (a branch behind NAT) is
//! only ever slowed by failures.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use jiff::Timestamp;

/// Attempts a client may make at once.
pub(crate) const LOGIN_BURST: f64 = 10.0;
/// Attempts a client regains per minute.
pub(crate) const LOGIN_PER_MINUTE: f64 = 10.0;
/// Past this many clients, buckets that have refilled are forgotten.
const MAX_CLIENTS: usize = 50_000;

/// A client: an IPv4 address, an IPv6 /64 (one subscriber's prefix), or `None` when the
/// address is unknown (no socket, as in tests).
type ClientKey = Option<[u8; 8]>;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
}

impl Bucket {
    fn refilled(self, now: Timestamp) -> Bucket {
        let seconds = now.duration_since(self.at).as_secs_f64().max(0.0);
        Bucket { tokens: (self.tokens + seconds * LOGIN_PER_MINUTE / 60.0).min(LOGIN_BURST), at: now }
    }
}

/// The login rate limiter of a server.
#[derive(Debug, Default)]
pub(crate) struct LoginLimiter {
    buckets: Mutex<HashMap<ClientKey, Bucket>>,
}

fn key(client: Option<IpAddr>) -> ClientKey {
    client.map(|ip| match ip {
        IpAddr::V4(v4) => {
            let mut key = [0u8; 8];
            key[..4].copy_from_slice(&v4.octets());
            key[4] = 4;
            key
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => {
                let mut key = [0u8; 8];
                key[..4].copy_from_slice(&v4.octets());
                key[4] = 4;
                key
            }
            None => {
                let mut key = [0u8; 8];
                key.copy_from_slice(&v6.octets()[..8]);
                key
            }
        },
    })
}

impl LoginLimiter {
    /// Takes one attempt for `client` at `now`; `Err(seconds)` to wait when none is left.
    pub(crate) fn take(&self, client: Option<IpAddr>, now: Timestamp) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_CLIENTS {
            buckets.retain(|_, bucket| bucket.refilled(now).tokens < LOGIN_BURST);
        }
        let bucket = buckets.entry(key(client)).or_insert(Bucket { tokens: LOGIN_BURST, at: now });
        *bucket = bucket.refilled(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) * 60.0 / LOGIN_PER_MINUTE;
            Err(wait.ceil().max(1.0) as u64)
        }
    }

    /// Gives an attempt back (it succeeded).
    pub(crate) fn give_back(&self, client: Option<IpAddr>) {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(bucket) = buckets.get_mut(&key(client)) {
            bucket.tokens = (bucket.tokens + 1.0).min(LOGIN_BURST);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_at_once_then_one_every_six_seconds() -> Result<(), jiff::Error> {
        let limiter = LoginLimiter::default();
        let start: Timestamp = "2026-04-01T01:00:00Z".parse()?;
        let a: Option<IpAddr> = "192.0.2.1".parse().ok();
        let b: Option<IpAddr> = "192.0.2.2".parse().ok();
        for _ in 0..10 {
            assert_eq!(limiter.take(a, start), Ok(()));
        }
        assert_eq!(limiter.take(a, start), Err(6));
        // Another client is not slowed by the first.
        assert_eq!(limiter.take(b, start), Ok(()));
        let later = start.checked_add(jiff::SignedDuration::from_secs(6))?;
        assert_eq!(limiter.take(a, later), Ok(()));
        assert_eq!(limiter.take(a, later), Err(6));
        // A success is given back.
        limiter.give_back(a);
        assert_eq!(limiter.take(a, later), Ok(()));
        Ok(())
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap_or(IpAddr::from([0u8; 4]));
        let same: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap_or(IpAddr::from([0u8; 4]));
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(key(Some(one)), key(Some(same)));
        assert_ne!(key(Some(one)), key(Some(other)));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(key(Some(mapped)), key("192.0.2.1".parse().ok()));
        assert_ne!(key(None), key(Some(one)));
    }
}
