//! Patrons' own login to the OPAC: a password per patron (argon2id, the rules of staff
//! passwords with the card number in place of the username), lockout with backoff per card
//! number tried, and patron sessions.
//!
//! Patron sessions live in the library's `catalogue.redb`, apart from staff sessions (which
//! are in `system.redb`): a patron's session id is never found by a staff session lookup,
//! so it can never pass the staff guard, whatever it is sent as. They are built the same
//! way: 256 random bits given to the browser, only their SHA-256 stored, idle and absolute
//! timeouts, a CSRF token per session, a new id at every login (the one the browser came
//! with is ended). Setting a patron's password ends every session of that patron; a patron
//! changing their own password (current password required) ends every session too and gets
//! a new one in place of the one they used, so the browser they changed it from stays
//! logged in under a new id.
//!
//! A patron may turn on a second factor (`patron_totp.rs`): then a right password does not
//! log in but starts a short challenge that a TOTP or recovery code completes.
//!
//! The answer to a login never tells whether a card number exists: an unknown card, or a
//! patron without a password, costs the same argon2 work and answers
//! [`PatronLoginOutcome::WrongCredentials`], and its failures are counted and locked out
//! like a real card's.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::patron::{Patron, get_patron, patron_by_card_in};
use super::patron_totp::{PatronChallenge, end_challenges_of, start_challenge, totp_enabled};
use super::{PATRON_BY_CARD, PATRONS, check_number, decode, encode};
use crate::error::{Error, Result};
use crate::security::login::Failures;
use crate::security::password::{check_password_rules, hash_password, verify_dummy, verify_password};
use crate::security::secret::{SecretString, constant_time_eq, hex, random_bytes};
use crate::security::sessions::SessionToken;
use crate::store::Catalogue;

/// Patron id -> JSON `{"password","changed"}`: the argon2id PHC string and when it was set.
pub(crate) const PATRON_PASSWORDS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("patron_passwords");
/// Card number as tried -> JSON `{"failures","last_failure","locked_until"}`.
pub(crate) const PATRON_LOGIN_FAILURES: TableDefinition<'_, &str, &[u8]> =
    TableDefinition::new("patron_login_failures");
/// SHA-256 of a patron session id -> JSON `{"patron","created","last_seen","csrf"}`.
pub(crate) const PATRON_SESSIONS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("patron_sessions");

/// A patron session ends after this long without a request (shorter than staff's: OPAC
/// kiosks are shared).
pub const PATRON_SESSION_IDLE_TIMEOUT: SignedDuration = SignedDuration::from_mins(15);
/// A patron session ends this long after login, however busy.
pub const PATRON_SESSION_ABSOLUTE_TIMEOUT: SignedDuration = SignedDuration::from_hours(4);
/// `last_seen` is written at most this often.
const LAST_SEEN_GRANULARITY: SignedDuration = SignedDuration::from_mins(1);

/// A patron's password. No `Debug`: it holds the hash.
#[derive(Serialize, Deserialize)]
pub(super) struct PasswordRow {
    password: String,
    pub(super) changed: Timestamp,
}

/// A patron session. No `Debug`: it holds the CSRF token.
#[derive(Serialize, Deserialize)]
pub(super) struct SessionRow {
    patron: u64,
    created: Timestamp,
    last_seen: Timestamp,
    csrf: String,
}

impl SessionRow {
    pub(super) fn expires(&self) -> Timestamp {
        let idle = self.last_seen.saturating_add(PATRON_SESSION_IDLE_TIMEOUT).unwrap_or(self.last_seen);
        let absolute = self.created.saturating_add(PATRON_SESSION_ABSOLUTE_TIMEOUT).unwrap_or(self.created);
        idle.min(absolute)
    }
}

/// A live patron session: whose, since when, and its CSRF token. `Debug` shows neither
/// the token nor the key.
#[derive(Clone)]
pub struct PatronSession {
    /// The patron logged in, as the patron is now.
    pub patron: Patron,
    /// When they logged in.
    pub created: Timestamp,
    /// When the session ends if nothing else happens.
    pub expires: Timestamp,
    csrf: SecretString,
}

impl fmt::Debug for PatronSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatronSession")
            .field("patron", &self.patron.id)
            .field("created", &self.created)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl PatronSession {
    /// The CSRF token to put in every form this session renders (64 hex digits).
    pub fn csrf_token(&self) -> &SecretString {
        &self.csrf
    }

    /// Whether a form's CSRF token is this session's; compared in constant time.
    pub fn check_csrf(&self, given: &str) -> bool {
        constant_time_eq(self.csrf.expose().as_bytes(), given.trim().as_bytes())
    }
}

/// How a patron's login ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum PatronLoginOutcome {
    /// Logged in: a new session.
    LoggedIn {
        /// The new session id, for the cookie.
        token: SessionToken,
        /// The session.
        session: Box<PatronSession>,
    },
    /// The card number or the password is wrong, or the patron has no password (which is
    /// not said). Counted towards the lockout.
    WrongCredentials,
    /// Too many failures for this card number: nothing is checked until `until`.
    Locked {
        /// When attempts are accepted again.
        until: Timestamp,
    },
    /// The password is right and the patron has two-step verification on: ask for a code
    /// and complete the login with [`Catalogue::patron_login_code`]. Not a failure, but the
    /// card's failure count is not forgotten either until the code is right.
    NeedSecondFactor {
        /// The challenge's id, for a cookie (only its SHA-256 is stored).
        token: SessionToken,
        /// The challenge: whose, until when, its CSRF token.
        challenge: Box<PatronChallenge>,
    },
}

impl Catalogue {
    /// Sets (or resets) the password of the patron with `card` ([`Error::UnknownPatron`]):
    /// it must pass the password rules with the card number as the name
    /// ([`Error::WeakPassword`]). Every session of the patron ends, and the card's failure
    /// count is forgotten.
    pub fn set_patron_password(&self, card: &str, password: &str, now: Timestamp) -> Result<Patron> {
        let card = card.trim();
        check_password_rules(password, card)?;
        let hash = hash_password(password)?;
        let txn = self.db.begin_write()?;
        let patron = patron_by_card_in(&txn, card)?;
        let row = PasswordRow { password: hash, changed: now };
        txn.open_table(PATRON_PASSWORDS)?.insert(patron.id, encode(&row)?.as_slice())?;
        txn.open_table(PATRON_LOGIN_FAILURES)?.remove(patron.card.as_str())?;
        end_sessions_of(&txn, patron.id, None)?;
        end_challenges_of(&txn, patron.id)?;
        txn.commit()?;
        Ok(patron)
    }

    /// Whether the patron has a password (can log in to the OPAC).
    pub fn patron_has_password(&self, patron_id: u64) -> Result<bool> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(PATRON_PASSWORDS)?.get(patron_id)?.is_some())
    }

    /// A patron logs in with card number and password. `previous` is the patron session
    /// the browser came with, if any: it is ended, so every login starts a new session id.
    /// The argon2 work is done outside the write transaction, which re-checks the lock and
    /// that the password is still the one verified.
    pub fn patron_login(
        &self,
        card: &str,
        password: &str,
        previous: Option<&SessionToken>,
        now: Timestamp,
    ) -> Result<PatronLoginOutcome> {
        let Ok(card) = check_number("card number", card) else {
            verify_dummy(password);
            return Ok(PatronLoginOutcome::WrongCredentials);
        };
        let (failures, stored) = {
            let txn = self.db.begin_read()?;
            let failures = read_failures(&txn.open_table(PATRON_LOGIN_FAILURES)?, &card)?;
            let id = txn.open_table(PATRON_BY_CARD)?.get(card.as_str())?.map(|v| v.value());
            let stored = match id {
                Some(id) => read_password(&txn.open_table(PATRON_PASSWORDS)?, id)?.map(|row| (id, row.password)),
                None => None,
            };
            (failures, stored)
        };
        if let Some(until) = failures.locked(now) {
            return Ok(PatronLoginOutcome::Locked { until });
        }
        let verified = match &stored {
            Some((id, hash)) => verify_password(password, hash).then_some((*id, hash.clone())),
            None => {
                verify_dummy(password);
                None
            }
        };

        let txn = self.db.begin_write()?;
        if let Some(until) = read_failures(&txn.open_table(PATRON_LOGIN_FAILURES)?, &card)?.locked(now) {
            return Ok(PatronLoginOutcome::Locked { until });
        }
        let still = match &verified {
            Some((id, hash)) => {
                let current = read_password(&txn.open_table(PATRON_PASSWORDS)?, *id)?;
                current.is_some_and(|row| row.password == *hash)
            }
            None => false,
        };
        let Some((patron_id, _)) = verified.filter(|_| still) else {
            let locked = record_failure(&txn, &card, now)?;
            txn.commit()?;
            return Ok(match locked {
                Some(until) => PatronLoginOutcome::Locked { until },
                None => PatronLoginOutcome::WrongCredentials,
            });
        };
        let patron = get_patron(&txn.open_table(PATRONS)?, patron_id)?
            .ok_or_else(|| Error::Storage(format!("patron {patron_id} has a password but no row")))?;
        if totp_enabled(&txn, patron_id)? {
            // The failure count stays until the code is right: a guesser who knows the
            // password must not be able to reset it by typing the password again.
            let changed = read_password(&txn.open_table(PATRON_PASSWORDS)?, patron_id)?
                .map(|row| row.changed)
                .ok_or_else(|| Error::Storage(format!("patron {patron_id}: the password vanished")))?;
            let (token, challenge) = start_challenge(&txn, &patron, changed, now)?;
            txn.commit()?;
            return Ok(PatronLoginOutcome::NeedSecondFactor { token, challenge: Box::new(challenge) });
        }
        txn.open_table(PATRON_LOGIN_FAILURES)?.remove(card.as_str())?;
        if let Some(previous) = previous {
            txn.open_table(PATRON_SESSIONS)?.remove(previous.key().as_slice())?;
        }
        let (token, row) = start_session(&txn, patron_id, now, now)?;
        txn.commit()?;
        Ok(PatronLoginOutcome::LoggedIn { token, session: Box::new(session_of(row, patron)) })
    }

    /// A patron changes their own password: the session's `token` must be live
    /// ([`Error::SessionEnded`]), `current` right ([`Error::WrongPassword`], counted towards
    /// the card's lockout; [`Error::AccountLocked`] while it is locked), and `new` must pass
    /// the password rules with the card number as the name and differ from the current one
    /// ([`Error::WeakPassword`]). Every session of the patron ends, this one included, and
    /// any second-step challenge; a new session replaces this one (same login time, so the
    /// same absolute timeout), returned for the browser's cookie.
    pub fn change_patron_password(
        &self,
        token: &SessionToken,
        current: &str,
        new: &str,
        now: Timestamp,
    ) -> Result<(SessionToken, PatronSession)> {
        let verified = self.verify_patron_password(token, current, now)?;
        check_password_rules(new, &verified.patron.card)?;
        if verify_password(new, &verified.hash) {
            return Err(Error::WeakPassword("it must differ from the current password"));
        }
        let hash = hash_password(new)?;
        let txn = self.db.begin_write()?;
        let created = verified.recheck(&txn, now)?;
        let patron_id = verified.patron.id;
        let row = PasswordRow { password: hash, changed: now };
        txn.open_table(PATRON_PASSWORDS)?.insert(patron_id, encode(&row)?.as_slice())?;
        txn.open_table(PATRON_LOGIN_FAILURES)?.remove(verified.patron.card.as_str())?;
        end_sessions_of(&txn, patron_id, None)?;
        end_challenges_of(&txn, patron_id)?;
        let (token, row) = start_session(&txn, patron_id, created, now)?;
        txn.commit()?;
        Ok((token, session_of(row, verified.patron)))
    }

    /// Checks the current password of the patron of a live session, outside any write
    /// transaction (argon2 takes tens of milliseconds); a wrong one is recorded as a
    /// failure of the patron's card. For the changes that ask for the password again.
    pub(super) fn verify_patron_password(
        &self,
        token: &SessionToken,
        password: &str,
        now: Timestamp,
    ) -> Result<VerifiedPassword> {
        let key = token.key();
        let (patron, hash) = {
            let txn = self.db.begin_read()?;
            let session = live_session(&txn.open_table(PATRON_SESSIONS)?, &key, now)?.ok_or(Error::SessionEnded)?;
            let patron = get_patron(&txn.open_table(PATRONS)?, session.patron)?.ok_or(Error::SessionEnded)?;
            if let Some(until) = read_failures(&txn.open_table(PATRON_LOGIN_FAILURES)?, &patron.card)?.locked(now) {
                return Err(Error::AccountLocked { until });
            }
            let hash = read_password(&txn.open_table(PATRON_PASSWORDS)?, patron.id)?.map(|row| row.password);
            (patron, hash)
        };
        let Some(hash) = hash.filter(|hash| verify_password(password, hash)) else {
            let txn = self.db.begin_write()?;
            let locked = record_failure(&txn, &patron.card, now)?;
            txn.commit()?;
            return Err(locked.map_or(Error::WrongPassword, |until| Error::AccountLocked { until }));
        };
        Ok(VerifiedPassword { key, patron, hash })
    }

    /// The live patron session of a token, or `None` (unknown, expired, logged out, or its
    /// patron gone): an expired one is deleted on the way. Records the request as activity
    /// (at most one write a minute). Call it once per request.
    pub fn patron_session(&self, token: &SessionToken, now: Timestamp) -> Result<Option<PatronSession>> {
        let key = token.key();
        let found = {
            let txn = self.db.begin_read()?;
            let row = txn.open_table(PATRON_SESSIONS)?.get(key.as_slice())?.map(|v| v.value().to_vec());
            let Some(bytes) = row else { return Ok(None) };
            let row: SessionRow = decode("patron session", "", &bytes)?;
            let patron = if now < row.expires() { get_patron(&txn.open_table(PATRONS)?, row.patron)? } else { None };
            patron.map(|patron| (row, patron))
        };
        let Some((mut row, patron)) = found else {
            let txn = self.db.begin_write()?;
            txn.open_table(PATRON_SESSIONS)?.remove(key.as_slice())?;
            txn.commit()?;
            return Ok(None);
        };
        if now.duration_since(row.last_seen) >= LAST_SEEN_GRANULARITY {
            row.last_seen = now;
            let txn = self.db.begin_write()?;
            {
                let mut sessions = txn.open_table(PATRON_SESSIONS)?;
                if sessions.get(key.as_slice())?.is_some() {
                    sessions.insert(key.as_slice(), encode(&row)?.as_slice())?;
                }
            }
            txn.commit()?;
        }
        Ok(Some(session_of(row, patron)))
    }

    /// Ends the patron session of a token; whether there was one.
    pub fn patron_logout(&self, token: &SessionToken) -> Result<bool> {
        let txn = self.db.begin_write()?;
        let ended = txn.open_table(PATRON_SESSIONS)?.remove(token.key().as_slice())?.is_some();
        txn.commit()?;
        Ok(ended)
    }

    /// Until when a card number is locked out of the OPAC login, if it is.
    pub fn patron_locked_until(&self, card: &str, now: Timestamp) -> Result<Option<Timestamp>> {
        let txn = self.db.begin_read()?;
        Ok(read_failures(&txn.open_table(PATRON_LOGIN_FAILURES)?, card.trim())?.locked(now))
    }

    /// Housekeeping: deletes expired patron sessions (and expired second-step challenges,
    /// counted with them) and stale failure counts; how many of each.
    pub fn prune_patron_logins(&self, now: Timestamp) -> Result<(usize, usize)> {
        let txn = self.db.begin_write()?;
        let (sessions, failures) = {
            let sessions = txn.open_table(PATRON_SESSIONS)?;
            let mut expired = Vec::new();
            for entry in sessions.iter()? {
                let (key, value) = entry?;
                let row: SessionRow = decode("patron session", "", value.value())?;
                if now >= row.expires() {
                    expired.push(key.value().to_vec());
                }
            }
            let table = txn.open_table(PATRON_LOGIN_FAILURES)?;
            let mut stale = Vec::new();
            for entry in table.iter()? {
                let (key, value) = entry?;
                let failures: Failures = decode("patron login failures", key.value(), value.value())?;
                if failures.stale(now) {
                    stale.push(key.value().to_owned());
                }
            }
            (expired, stale)
        };
        {
            let mut table = txn.open_table(PATRON_SESSIONS)?;
            for key in &sessions {
                table.remove(key.as_slice())?;
            }
            let mut table = txn.open_table(PATRON_LOGIN_FAILURES)?;
            for card in &failures {
                table.remove(card.as_str())?;
            }
        }
        let challenges = super::patron_totp::prune_challenges(&txn, now)?;
        txn.commit()?;
        Ok((sessions.len() + challenges, failures.len()))
    }
}

/// The current password of a live session's patron, checked by
/// [`Catalogue::verify_patron_password`]: what the write transaction re-checks.
pub(super) struct VerifiedPassword {
    key: [u8; 32],
    pub(super) patron: Patron,
    hash: String,
}

impl VerifiedPassword {
    /// Inside the write transaction: the session is still live and the password still the
    /// one verified (else [`Error::SessionEnded`]: a password set meanwhile ends every
    /// session). The session's login time.
    pub(super) fn recheck(&self, txn: &WriteTransaction, now: Timestamp) -> Result<Timestamp> {
        let session = live_session(&txn.open_table(PATRON_SESSIONS)?, &self.key, now)?.ok_or(Error::SessionEnded)?;
        let current = read_password(&txn.open_table(PATRON_PASSWORDS)?, self.patron.id)?;
        if current.is_none_or(|row| row.password != self.hash) {
            return Err(Error::SessionEnded);
        }
        Ok(session.created)
    }

    /// The session's key (the stored form of its id).
    pub(super) fn key(&self) -> &[u8; 32] {
        &self.key
    }
}

pub(super) fn read_failures(table: &impl ReadableTable<&'static str, &'static [u8]>, card: &str) -> Result<Failures> {
    let row = table.get(card)?;
    Ok(row.map(|v| decode("patron login failures", card, v.value())).transpose()?.unwrap_or_default())
}

/// Records a failed attempt for a card number; the lock it engaged, if any.
pub(super) fn record_failure(txn: &WriteTransaction, card: &str, now: Timestamp) -> Result<Option<Timestamp>> {
    let mut table = txn.open_table(PATRON_LOGIN_FAILURES)?;
    let mut failures = read_failures(&table, card)?;
    failures.record(now);
    table.insert(card, encode(&failures)?.as_slice())?;
    Ok(failures.locked(now))
}

pub(super) fn read_password(table: &impl ReadableTable<u64, &'static [u8]>, id: u64) -> Result<Option<PasswordRow>> {
    let row = table.get(id)?;
    row.map(|v| decode("patron password", id, v.value())).transpose()
}

/// The session row of a key if it is live at `now`.
fn live_session(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8; 32],
    now: Timestamp,
) -> Result<Option<SessionRow>> {
    let row = table.get(key.as_slice())?;
    let row: Option<SessionRow> = row.map(|v| decode("patron session", "", v.value())).transpose()?;
    Ok(row.filter(|row| now < row.expires()))
}

/// Starts a session for a patron: a new random id and CSRF token.
pub(super) fn start_session(
    txn: &WriteTransaction,
    patron: u64,
    created: Timestamp,
    now: Timestamp,
) -> Result<(SessionToken, SessionRow)> {
    let token = SessionToken::random()?;
    let row = SessionRow { patron, created, last_seen: now, csrf: hex(&random_bytes::<32>()?) };
    txn.open_table(PATRON_SESSIONS)?.insert(token.key().as_slice(), encode(&row)?.as_slice())?;
    Ok((token, row))
}

/// The session a row gives its patron.
pub(super) fn session_of(row: SessionRow, patron: Patron) -> PatronSession {
    PatronSession { patron, created: row.created, expires: row.expires(), csrf: SecretString::new(row.csrf) }
}

/// Ends every session of a patron but the one with key `keep`; how many.
pub(super) fn end_sessions_of(txn: &WriteTransaction, patron_id: u64, keep: Option<&[u8; 32]>) -> Result<usize> {
    let mut sessions = txn.open_table(PATRON_SESSIONS)?;
    let mut keys = Vec::new();
    for entry in sessions.iter()? {
        let (key, value) = entry?;
        let row: SessionRow = decode("patron session", "", value.value())?;
        if row.patron == patron_id && keep.is_none_or(|keep| keep.as_slice() != key.value()) {
            keys.push(key.value().to_vec());
        }
    }
    for key in &keys {
        sessions.remove(key.as_slice())?;
    }
    Ok(keys.len())
}

/// Creates the tables if they do not exist.
pub(crate) fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(PATRON_PASSWORDS)?;
    txn.open_table(PATRON_LOGIN_FAILURES)?;
    txn.open_table(PATRON_SESSIONS)?;
    super::patron_totp::create_tables(txn)?;
    Ok(())
}
