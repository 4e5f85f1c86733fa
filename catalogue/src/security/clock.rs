//! The time security decisions are made at: session timeouts, lockouts, TOTP steps, log
//! timestamps and retention. It is injected, so tests (and the HTTP layer's tests) can
//! move it instead of sleeping.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until it is moved: for tests. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: Timestamp) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    /// Sets the time.
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    /// Moves the time forward (or back, with a negative duration).
    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.saturating_add(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Japan Standard Time: a fixed +09:00 (Japan has no daylight saving).
pub(crate) fn jst() -> TimeZone {
    TimeZone::fixed(Offset::constant(9))
}

/// An instant as RFC 3339 in JST with milliseconds, e.g. `2026-04-01T10:00:00.000+09:00`.
pub(crate) fn jst_rfc3339(at: Timestamp) -> String {
    at.to_zoned(jst()).strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jst_timestamps() -> Result<(), jiff::Error> {
        let at: Timestamp = "2026-03-31T15:00:00.5Z".parse()?;
        assert_eq!(jst_rfc3339(at), "2026-04-01T00:00:00.500+09:00");
        let clock = ManualClock::new(at);
        clock.advance(SignedDuration::from_secs(60));
        assert_eq!(jst_rfc3339(clock.now()), "2026-04-01T00:01:00.500+09:00");
        Ok(())
    }
}
