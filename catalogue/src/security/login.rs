//! Login: password and second factor, lockout with backoff, and the session it starts.
//!
//! The outcome never says whether a username exists. An unknown (or disabled) account
//! costs the same argon2 work as a real one (a dummy hash is verified), answers
//! [`LoginOutcome::WrongCredentials`] like a wrong password, and its failures are counted
//! and locked out the same way, since failures are kept per name tried, not per account.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::security::accounts::{
    ACCOUNTS, AccountId, AccountRow, Scope, Username, decode, encode, get_account, put_account, require_account,
};
use crate::security::password::{check_password_rules, hash_password, verify_dummy, verify_password};
use crate::security::sessions::{
    Session, SessionToken, end_session, end_sessions_of, prune_sessions, session_in, start_session,
};
use crate::security::totp::SecondFactor;
use crate::system::System;

/// (scope, username tried) -> JSON `{failures, last_failure, locked_until}`.
pub(crate) const LOGIN_FAILURES: TableDefinition<'_, (&str, &str), &[u8]> = TableDefinition::new("login_failures");

/// Consecutive failures before the first lock.
pub const LOCKOUT_THRESHOLD: u32 = 5;
/// The first lock; each further failure doubles it.
pub const LOCKOUT_FIRST: SignedDuration = SignedDuration::from_mins(1);
/// The longest lock.
pub const LOCKOUT_MAX: SignedDuration = SignedDuration::from_hours(1);
/// Failures older than this (since the last one) are forgotten.
const FAILURES_FORGOTTEN_AFTER: SignedDuration = SignedDuration::from_hours(24);

/// What a person typed at the login form (or sent to `POST …/auth/login`). `Debug`
/// redacts the password and the code.
#[derive(Clone, Copy)]
pub struct LoginAttempt<'a> {
    /// The username as typed (case and surrounding spaces do not matter).
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
    /// A TOTP code (6 digits) or a recovery code (`xxxx-xxxx-xxxx-xxxx`); `None` or empty
    /// when the form has not asked for it yet.
    pub second_factor: Option<&'a str>,
}

impl fmt::Debug for LoginAttempt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginAttempt")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("second_factor", &self.second_factor.map(|_| "[redacted]"))
            .finish()
    }
}

/// How a login ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoginOutcome {
    /// Logged in: a new session (any session the client came with is ended).
    LoggedIn(Box<LoggedIn>),
    /// The username, the password or the second factor is wrong (which is not said).
    /// Counted towards the lockout.
    WrongCredentials,
    /// The password is right; ask for the TOTP code (or a recovery code) and send all three
    /// again. Not counted as a failure.
    NeedSecondFactor,
    /// Too many failures: nothing is checked until `until` (answer 429 with `Retry-After`).
    Locked {
        /// When attempts are accepted again.
        until: Timestamp,
    },
}

/// A successful login.
#[derive(Debug)]
pub struct LoggedIn {
    /// The new session id, for the cookie or the `{"token"}` answer.
    pub token: SessionToken,
    /// The session.
    pub session: Session,
    /// A recovery code was used instead of a TOTP code (tell the person how many are left).
    pub used_recovery_code: bool,
    /// Recovery codes left.
    pub recovery_codes_left: usize,
}

/// Consecutive failed attempts of one name, and the lock they engaged. Shared with the
/// patrons' login (`circulation/patron_login.rs`), which counts per card number tried.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Failures {
    failures: u32,
    last_failure: Option<Timestamp>,
    locked_until: Option<Timestamp>,
}

impl Failures {
    /// The lock in force at `now`, if any.
    pub(crate) fn locked(&self, now: Timestamp) -> Option<Timestamp> {
        self.locked_until.filter(|until| *until > now)
    }

    /// One more failure at `now`: from the fifth on, a lock of one minute doubling each
    /// time, up to an hour.
    pub(crate) fn record(&mut self, now: Timestamp) {
        if self.last_failure.is_some_and(|last| now.duration_since(last) > FAILURES_FORGOTTEN_AFTER) {
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        self.last_failure = Some(now);
        if self.failures >= LOCKOUT_THRESHOLD {
            let doublings = (self.failures - LOCKOUT_THRESHOLD).min(12);
            let lock = LOCKOUT_FIRST.checked_mul(1 << doublings).unwrap_or(LOCKOUT_MAX).min(LOCKOUT_MAX);
            self.locked_until = now.checked_add(lock).ok();
        }
    }
}

fn read_failures(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    id: &AccountId,
) -> Result<Failures> {
    let row = table.get(id.key())?;
    Ok(row.map(|v| decode("login_failures", v.value())).transpose()?.unwrap_or_default())
}

/// Records a failure; the lock it engaged, if any.
fn record_failure(txn: &WriteTransaction, id: &AccountId, now: Timestamp) -> Result<Option<Timestamp>> {
    let mut table = txn.open_table(LOGIN_FAILURES)?;
    let mut failures = read_failures(&table, id)?;
    failures.record(now);
    table.insert(id.key(), encode(&failures)?.as_slice())?;
    Ok(failures.locked(now))
}

pub(crate) fn forget_failures(txn: &WriteTransaction, id: &AccountId) -> Result<()> {
    txn.open_table(LOGIN_FAILURES)?.remove(id.key())?;
    Ok(())
}

impl Failures {
    /// Whether the count can be forgotten at `now`: no lock in force and no failure for a
    /// day.
    pub(crate) fn stale(&self, now: Timestamp) -> bool {
        let old = self.last_failure.is_none_or(|t| now.duration_since(t) > FAILURES_FORGOTTEN_AFTER);
        old && self.locked(now).is_none()
    }
}

fn check_factor(row: &AccountRow, typed: Option<&str>, now: Timestamp) -> Result<SecondFactor> {
    SecondFactor::check(&row.totp_secret, row.totp_last_step, &row.recovery, typed, now)
}

impl System {
    /// Logs in to a scope: a library's staff (`Scope::Tenant`) or the operators.
    ///
    /// `previous` is the session the client came with, if any: it is ended, so a login
    /// always starts a new session id (no session fixation). The argon2 work is done
    /// outside the write transaction; the write transaction re-checks what it relies on
    /// (the lock, the TOTP step, the recovery code), so two concurrent logins with the same
    /// code cannot both succeed.
    pub fn login(
        &self,
        scope: &Scope,
        attempt: &LoginAttempt<'_>,
        previous: Option<&SessionToken>,
    ) -> Result<LoginOutcome> {
        let now = self.clock.now();
        let Ok(username) = attempt.username.parse::<Username>() else {
            // Not a possible name: nothing to count against, but the same work.
            verify_dummy(attempt.password);
            return Ok(LoginOutcome::WrongCredentials);
        };
        let id = AccountId { scope: scope.clone(), username };

        let (failures, account) = {
            let txn = self.db.begin_read()?;
            let failures = read_failures(&txn.open_table(LOGIN_FAILURES)?, &id)?;
            let account = get_account(&txn.open_table(ACCOUNTS)?, &id)?;
            (failures, account.filter(|a| !a.disabled))
        };
        if let Some(until) = failures.locked(now) {
            return Ok(LoginOutcome::Locked { until });
        }
        let password_ok = match &account {
            Some(row) => verify_password(attempt.password, &row.password),
            None => {
                verify_dummy(attempt.password);
                false
            }
        };
        let factor = match (&account, password_ok) {
            (Some(row), true) => check_factor(row, attempt.second_factor, now)?,
            _ => SecondFactor::Wrong,
        };
        if password_ok && matches!(factor, SecondFactor::Missing) {
            return Ok(LoginOutcome::NeedSecondFactor);
        }

        let txn = self.db.begin_write()?;
        if let Some(until) = read_failures(&txn.open_table(LOGIN_FAILURES)?, &id)?.locked(now) {
            return Ok(LoginOutcome::Locked { until });
        }
        // The account as it is now: the password must be the one just verified, and the
        // code must still be unused.
        let current = get_account(&txn.open_table(ACCOUNTS)?, &id)?.filter(|a| !a.disabled);
        let success = match (current, &account) {
            (Some(mut row), Some(seen)) if password_ok && row.password == seen.password => {
                factor.spend(&mut row.totp_last_step, &mut row.recovery).map(|recovery| (row, recovery))
            }
            _ => None,
        };
        let Some((row, used_recovery_code)) = success else {
            let locked = record_failure(&txn, &id, now)?;
            txn.commit()?;
            return Ok(match locked {
                Some(until) => LoginOutcome::Locked { until },
                None => LoginOutcome::WrongCredentials,
            });
        };
        put_account(&txn, &id, &row)?;
        forget_failures(&txn, &id)?;
        if let Some(previous) = previous {
            end_session(&txn, &previous.key())?;
        }
        let (token, key) = start_session(&txn, &id, now, now)?;
        let session = session_in(&txn, &key)?
            .ok_or_else(|| Error::Storage(format!("the new session of {id} cannot be read back")))?;
        txn.commit()?;
        Ok(LoginOutcome::LoggedIn(Box::new(LoggedIn {
            token,
            session,
            used_recovery_code,
            recovery_codes_left: row.recovery.len(),
        })))
    }

    /// Changes the password of the session's account: the current password is required
    /// (a wrong one counts towards the lockout, [`Error::WrongPassword`]), the new one must
    /// pass the rules ([`Error::WeakPassword`]), and the session must still be live
    /// ([`Error::SessionEnded`]). Clears "must change password"; every other session of the
    /// account ends, this one goes on.
    pub fn change_password(&self, session: &Session, current: &str, new: &str) -> Result<()> {
        let now = self.clock.now();
        let id = session.account();
        let row = {
            let txn = self.db.begin_read()?;
            if let Some(until) = read_failures(&txn.open_table(LOGIN_FAILURES)?, &id)?.locked(now) {
                return Err(Error::AccountLocked { until });
            }
            get_account(&txn.open_table(ACCOUNTS)?, &id)?.ok_or_else(|| Error::UnknownAccount(id.to_string()))?
        };
        if !verify_password(current, &row.password) {
            let txn = self.db.begin_write()?;
            let locked = record_failure(&txn, &id, now)?;
            txn.commit()?;
            return Err(locked.map_or(Error::WrongPassword, |until| Error::AccountLocked { until }));
        }
        check_password_rules(new, id.username.as_str())?;
        if verify_password(new, &row.password) {
            return Err(Error::WeakPassword("it must differ from the current password"));
        }
        let hash = hash_password(new)?;
        let txn = self.db.begin_write()?;
        if session_in(&txn, &session.key())?.is_none() {
            return Err(Error::SessionEnded);
        }
        let mut row = require_account(&txn, &id)?;
        row.password = hash;
        row.must_change_password = false;
        row.password_changed = now;
        put_account(&txn, &id, &row)?;
        forget_failures(&txn, &id)?;
        end_sessions_of(&txn, &id, Some(&session.key()))?;
        txn.commit()?;
        Ok(())
    }

    /// Lifts a lockout (a tenant admin's or operator's action).
    pub fn unlock(&self, id: &AccountId) -> Result<()> {
        let txn = self.db.begin_write()?;
        forget_failures(&txn, id)?;
        txn.commit()?;
        Ok(())
    }

    /// Until when the name is locked out, if it is.
    pub fn locked_until(&self, id: &AccountId) -> Result<Option<Timestamp>> {
        let txn = self.db.begin_read()?;
        Ok(read_failures(&txn.open_table(LOGIN_FAILURES)?, id)?.locked(self.clock.now()))
    }

    /// Housekeeping to run now and then (hourly, say): deletes expired sessions, and failure
    /// counts that are no longer locked and older than a day (those of names that do not
    /// exist would otherwise pile up).
    pub fn prune(&self) -> Result<PruneReport> {
        let now = self.clock.now();
        let txn = self.db.begin_write()?;
        let sessions = prune_sessions(&txn, now)?;
        let stale: Vec<(String, String)> = {
            let table = txn.open_table(LOGIN_FAILURES)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                let (key, value) = entry?;
                let failures: Failures = decode("login_failures", value.value())?;
                let old = failures.last_failure.is_none_or(|t| now.duration_since(t) > FAILURES_FORGOTTEN_AFTER);
                if old && failures.locked(now).is_none() {
                    let (scope, name) = key.value();
                    out.push((scope.to_string(), name.to_string()));
                }
            }
            out
        };
        {
            let mut table = txn.open_table(LOGIN_FAILURES)?;
            for (scope, name) in &stale {
                table.remove((scope.as_str(), name.as_str()))?;
            }
        }
        txn.commit()?;
        Ok(PruneReport { sessions, failure_counts: stale.len() })
    }
}

/// What [`System::prune`] deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PruneReport {
    /// Expired sessions.
    pub sessions: usize,
    /// Stale failure counts.
    pub failure_counts: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() -> std::result::Result<(), jiff::Error> {
        let start: Timestamp = "2026-04-01T01:00:00Z".parse()?;
        let mut failures = Failures::default();
        let mut locks = Vec::new();
        for _ in 0..14 {
            failures.record(start);
            locks.push(failures.locked(start).map(|until| until.duration_since(start).as_mins()));
        }
        assert_eq!(
            locks,
            [
                None,
                None,
                None,
                None,
                Some(1),
                Some(2),
                Some(4),
                Some(8),
                Some(16),
                Some(32),
                Some(60),
                Some(60),
                Some(60),
                Some(60)
            ]
        );
        // A day later the count starts again.
        let later = start.checked_add(SignedDuration::from_hours(25))?;
        failures.record(later);
        assert_eq!((failures.failures, failures.locked(later)), (1, None));
        Ok(())
    }
}
