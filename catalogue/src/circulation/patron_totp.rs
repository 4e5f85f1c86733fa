//! Patrons' optional second factor: TOTP (RFC 6238) and recovery codes, the same as
//! staff's (`security/totp.rs`: 6 digits, 30-second steps, one step of drift either way, a
//! step accepted once; ten recovery codes, only their SHA-256 kept, each usable once),
//! stored per patron in the library's `catalogue.redb`. The secret is kept in base 32, as
//! staff secrets are in `system.redb`: the server must have it to check a code.
//!
//! Turning it on takes two steps, so a half-done enrolment never locks anyone out: begin
//! (a new secret is kept aside and shown as a QR code), then confirm with a code from the
//! new secret and the current password, so that someone holding a stolen session cannot
//! turn it on and lock the patron out. Confirming gives the ten recovery codes, shown once,
//! and ends the patron's other sessions (they were opened with the password alone).
//! Turning it off asks for the password and a code (TOTP or recovery). A wrong password or
//! code counts towards the lockout of the card number, as a wrong password at login does.
//!
//! With it on, a login takes two steps. The right password does not log in but starts a
//! challenge: 256 random bits for a cookie (only their SHA-256 stored) with a CSRF token of
//! its own, ending after [`PATRON_CHALLENGE_TIMEOUT`]. A code completes it and starts the
//! session. A wrong code counts towards the lockout of the card; when the lock engages, the
//! challenge ends, so guessing on needs the password again. A challenge also ends when the
//! patron's password is set or changed, or the second factor is turned off.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::patron::{Patron, get_patron, patron_by_card_in};
use super::patron_login::{
    PATRON_LOGIN_FAILURES, PATRON_PASSWORDS, PATRON_SESSIONS, PatronSession, end_sessions_of, read_failures,
    read_password, record_failure, session_of, start_session,
};
use super::{PATRONS, decode, encode};
use crate::error::{Error, Result};
use crate::security::secret::{SecretString, constant_time_eq, hex, random_bytes};
use crate::security::sessions::SessionToken;
use crate::security::totp::{self, SecondFactor, TotpEnrolment};
use crate::store::Catalogue;

/// Patron id -> JSON `{"secret","last_step","pending","recovery","enabled"}`: the TOTP
/// secret in base 32 (present once confirmed), the last step accepted, a secret being
/// enrolled, the SHA-256 (hex) of the unused recovery codes, and when it was turned on.
pub(crate) const PATRON_TOTP: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("patron_totp");
/// SHA-256 of a challenge id -> JSON `{"patron","card","created","password_changed","csrf"}`.
pub(crate) const PATRON_CHALLENGES: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("patron_login_challenges");

/// A login's second step must be completed this long after the password was accepted.
pub const PATRON_CHALLENGE_TIMEOUT: SignedDuration = SignedDuration::from_mins(5);

/// A patron's second factor. No `Debug`: it holds the secret.
#[derive(Default, Serialize, Deserialize)]
struct TotpRow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(default)]
    last_step: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending: Option<String>,
    #[serde(default)]
    recovery: Vec<String>,
    #[serde(default)]
    enabled: Option<Timestamp>,
}

/// A login waiting for its code. No `Debug`: it holds the CSRF token.
#[derive(Serialize, Deserialize)]
struct ChallengeRow {
    patron: u64,
    /// The card number the failures of this login are counted against.
    card: String,
    created: Timestamp,
    /// When the password accepted was set: a challenge of an older password is dead.
    password_changed: Timestamp,
    csrf: String,
}

impl ChallengeRow {
    fn expires(&self) -> Timestamp {
        self.created.saturating_add(PATRON_CHALLENGE_TIMEOUT).unwrap_or(self.created)
    }
}

/// A login waiting for its second factor: whose, until when, and the CSRF token of the
/// code form. `Debug` shows neither the token nor the key.
#[derive(Clone)]
pub struct PatronChallenge {
    /// The patron whose password was accepted.
    pub patron_id: u64,
    /// When the challenge ends if no right code comes.
    pub expires: Timestamp,
    csrf: SecretString,
}

impl fmt::Debug for PatronChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatronChallenge")
            .field("patron_id", &self.patron_id)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl PatronChallenge {
    fn of(row: &ChallengeRow) -> Self {
        Self { patron_id: row.patron, expires: row.expires(), csrf: SecretString::new(row.csrf.clone()) }
    }

    /// The CSRF token to put in the code form (64 hex digits).
    pub fn csrf_token(&self) -> &SecretString {
        &self.csrf
    }

    /// Whether a form's CSRF token is this challenge's; compared in constant time.
    pub fn check_csrf(&self, given: &str) -> bool {
        constant_time_eq(self.csrf.expose().as_bytes(), given.trim().as_bytes())
    }
}

/// How a login's second step ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum PatronCodeOutcome {
    /// Logged in: a new session.
    LoggedIn {
        /// The new session id, for the cookie.
        token: SessionToken,
        /// The session.
        session: Box<PatronSession>,
        /// A recovery code was used (tell the patron how many are left).
        used_recovery_code: bool,
        /// Recovery codes left.
        recovery_codes_left: usize,
    },
    /// The code is wrong or was already used; counted towards the card's lockout. The
    /// challenge goes on.
    WrongCode,
    /// Too many failures for the card: the challenge is ended, nothing is checked until
    /// `until`.
    Locked {
        /// When attempts are accepted again.
        until: Timestamp,
    },
    /// No such challenge, or it ended (too old, the password or the second factor changed):
    /// log in again.
    Expired,
}

/// Whether a patron has a second factor, as a settings page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PatronTotpStatus {
    /// On: a login needs a code.
    pub enabled: bool,
    /// When it was turned on.
    pub since: Option<Timestamp>,
    /// An enrolment was begun and not confirmed yet.
    pub pending: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: usize,
}

fn read_totp(table: &impl ReadableTable<u64, &'static [u8]>, patron_id: u64) -> Result<Option<TotpRow>> {
    let row = table.get(patron_id)?;
    row.map(|v| decode("patron totp", patron_id, v.value())).transpose()
}

fn put_totp(txn: &WriteTransaction, patron_id: u64, row: &TotpRow) -> Result<()> {
    txn.open_table(PATRON_TOTP)?.insert(patron_id, encode(row)?.as_slice())?;
    Ok(())
}

fn read_challenge(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8],
) -> Result<Option<ChallengeRow>> {
    let row = table.get(key)?;
    row.map(|v| decode("patron login challenge", "", v.value())).transpose()
}

/// Whether the patron has a second factor turned on.
pub(super) fn totp_enabled(txn: &WriteTransaction, patron_id: u64) -> Result<bool> {
    Ok(read_totp(&txn.open_table(PATRON_TOTP)?, patron_id)?.is_some_and(|row| row.secret.is_some()))
}

/// Starts the second step of a login whose password (set at `password_changed`) was right.
pub(super) fn start_challenge(
    txn: &WriteTransaction,
    patron: &Patron,
    password_changed: Timestamp,
    now: Timestamp,
) -> Result<(SessionToken, PatronChallenge)> {
    let token = SessionToken::random()?;
    let row = ChallengeRow {
        patron: patron.id,
        card: patron.card.clone(),
        created: now,
        password_changed,
        csrf: hex(&random_bytes::<32>()?),
    };
    txn.open_table(PATRON_CHALLENGES)?.insert(token.key().as_slice(), encode(&row)?.as_slice())?;
    Ok((token, PatronChallenge::of(&row)))
}

/// Ends every challenge of a patron; how many.
pub(super) fn end_challenges_of(txn: &WriteTransaction, patron_id: u64) -> Result<usize> {
    remove_challenges(txn, |row| row.patron == patron_id)
}

/// Deletes the challenges that ended by `now`; how many.
pub(super) fn prune_challenges(txn: &WriteTransaction, now: Timestamp) -> Result<usize> {
    remove_challenges(txn, |row| now >= row.expires())
}

fn remove_challenges(txn: &WriteTransaction, doomed: impl Fn(&ChallengeRow) -> bool) -> Result<usize> {
    let mut table = txn.open_table(PATRON_CHALLENGES)?;
    let mut keys = Vec::new();
    for entry in table.iter()? {
        let (key, value) = entry?;
        let row: ChallengeRow = decode("patron login challenge", "", value.value())?;
        if doomed(&row) {
            keys.push(key.value().to_vec());
        }
    }
    for key in &keys {
        table.remove(key.as_slice())?;
    }
    Ok(keys.len())
}

/// Creates the tables if they do not exist.
pub(super) fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(PATRON_TOTP)?;
    txn.open_table(PATRON_CHALLENGES)?;
    Ok(())
}

impl Catalogue {
    /// Whether the patron has a second factor, and how many recovery codes are left.
    pub fn patron_totp_status(&self, patron_id: u64) -> Result<PatronTotpStatus> {
        let txn = self.db.begin_read()?;
        let row = read_totp(&txn.open_table(PATRON_TOTP)?, patron_id)?.unwrap_or_default();
        Ok(PatronTotpStatus {
            enabled: row.secret.is_some(),
            since: row.enabled.filter(|_| row.secret.is_some()),
            pending: row.pending.is_some(),
            recovery_codes_left: if row.secret.is_some() { row.recovery.len() } else { 0 },
        })
    }

    /// Begins turning on the patron's second factor: a new secret, kept aside until
    /// [`Catalogue::confirm_patron_totp`] sees a code from it (beginning again replaces
    /// it). Refused while it is on ([`Error::TotpEnabled`]): turning it off comes first.
    pub fn begin_patron_totp(&self, patron_id: u64) -> Result<TotpEnrolment> {
        let secret = totp::new_secret()?;
        let txn = self.db.begin_write()?;
        let patron = get_patron(&txn.open_table(PATRONS)?, patron_id)?
            .ok_or_else(|| Error::UnknownPatron(format!("#{patron_id}")))?;
        let mut row = read_totp(&txn.open_table(PATRON_TOTP)?, patron_id)?.unwrap_or_default();
        if row.secret.is_some() {
            return Err(Error::TotpEnabled);
        }
        row.pending = Some(totp::encode_secret(&secret));
        put_totp(&txn, patron_id, &row)?;
        txn.commit()?;
        totp::enrolment(&secret, &self.totp_label(&patron))
    }

    /// The enrolment begun and not confirmed yet, if any: to show its QR code again.
    pub fn patron_totp_enrolment(&self, patron_id: u64) -> Result<Option<TotpEnrolment>> {
        let txn = self.db.begin_read()?;
        let Some(pending) = read_totp(&txn.open_table(PATRON_TOTP)?, patron_id)?.and_then(|row| row.pending) else {
            return Ok(None);
        };
        let Some(patron) = get_patron(&txn.open_table(PATRONS)?, patron_id)? else { return Ok(None) };
        let secret = totp::decode_secret(&pending)?;
        totp::enrolment(&secret, &self.totp_label(&patron)).map(Some)
    }

    /// Turns the second factor on: the session's `token` must be live
    /// ([`Error::SessionEnded`]), `password` the patron's ([`Error::WrongPassword`], counted
    /// towards the lockout; [`Error::AccountLocked`]), and `code` a code from the secret
    /// begun ([`Error::WrongCode`], also when nothing was begun). Its step is recorded, so
    /// the same code cannot log in afterwards. Every other session of the patron ends, this
    /// one goes on. Returns the ten recovery codes: they are shown now or never.
    pub fn confirm_patron_totp(
        &self,
        token: &SessionToken,
        password: &str,
        code: &str,
        now: Timestamp,
    ) -> Result<Vec<SecretString>> {
        let verified = self.verify_patron_password(token, password, now)?;
        let (shown, hashes) = totp::new_recovery_codes()?;
        let txn = self.db.begin_write()?;
        verified.recheck(&txn, now)?;
        let patron_id = verified.patron.id;
        let row = read_totp(&txn.open_table(PATRON_TOTP)?, patron_id)?.unwrap_or_default();
        let pending = row.pending.ok_or(Error::WrongCode)?;
        let step = totp::check_code(&pending, code, now, None)?.ok_or(Error::WrongCode)?;
        let row = TotpRow {
            secret: Some(pending),
            last_step: Some(step),
            pending: None,
            recovery: hashes,
            enabled: Some(now),
        };
        put_totp(&txn, patron_id, &row)?;
        end_sessions_of(&txn, patron_id, Some(verified.key()))?;
        end_challenges_of(&txn, patron_id)?;
        txn.commit()?;
        Ok(shown)
    }

    /// Turns the second factor off (and drops an enrolment begun): the session must be live,
    /// `password` right and `code` a TOTP or recovery code of the patron
    /// ([`Error::WrongCode`]); a wrong password or code counts towards the card's lockout.
    /// Without a second factor on, the password alone is checked.
    pub fn disable_patron_totp(&self, token: &SessionToken, password: &str, code: &str, now: Timestamp) -> Result<()> {
        let verified = self.verify_patron_password(token, password, now)?;
        let txn = self.db.begin_write()?;
        verified.recheck(&txn, now)?;
        let patron_id = verified.patron.id;
        let row = read_totp(&txn.open_table(PATRON_TOTP)?, patron_id)?;
        if let Some(mut row) = row
            && let Some(secret) = row.secret.clone()
        {
            let factor = SecondFactor::check(&secret, row.last_step, &row.recovery, Some(code), now)?;
            if factor.spend(&mut row.last_step, &mut row.recovery).is_none() {
                let locked = record_failure(&txn, &verified.patron.card, now)?;
                txn.commit()?;
                return Err(locked.map_or(Error::WrongCode, |until| Error::AccountLocked { until }));
            }
        }
        txn.open_table(PATRON_TOTP)?.remove(patron_id)?;
        end_challenges_of(&txn, patron_id)?;
        txn.commit()?;
        Ok(())
    }

    /// A librarian turns off the second factor of the patron with `card`
    /// ([`Error::UnknownPatron`]), who lost both the authenticator and the recovery codes
    /// (after checking who they are at the desk). Every session and challenge of the patron
    /// ends; the password stays.
    pub fn reset_patron_totp(&self, card: &str) -> Result<Patron> {
        let txn = self.db.begin_write()?;
        let patron = patron_by_card_in(&txn, card.trim())?;
        txn.open_table(PATRON_TOTP)?.remove(patron.id)?;
        end_sessions_of(&txn, patron.id, None)?;
        end_challenges_of(&txn, patron.id)?;
        txn.commit()?;
        Ok(patron)
    }

    /// The live challenge of a token (for the code form), or `None`.
    pub fn patron_challenge(&self, token: &SessionToken, now: Timestamp) -> Result<Option<PatronChallenge>> {
        let txn = self.db.begin_read()?;
        let row = read_challenge(&txn.open_table(PATRON_CHALLENGES)?, token.key().as_slice())?;
        Ok(row.filter(|row| now < row.expires()).map(|row| PatronChallenge::of(&row)))
    }

    /// A login's second step: the TOTP code (or a recovery code) for the challenge of
    /// `challenge`, begun by [`Catalogue::patron_login`]. `previous` is the patron session
    /// the browser came with, if any: it is ended, as at a login without second factor.
    /// Everything happens in one write transaction, so two requests with the same code
    /// cannot both log in.
    pub fn patron_login_code(
        &self,
        challenge: &SessionToken,
        code: &str,
        previous: Option<&SessionToken>,
        now: Timestamp,
    ) -> Result<PatronCodeOutcome> {
        let key = challenge.key();
        let txn = self.db.begin_write()?;
        let Some(row) = read_challenge(&txn.open_table(PATRON_CHALLENGES)?, key.as_slice())? else {
            return Ok(PatronCodeOutcome::Expired);
        };
        let password = read_password(&txn.open_table(PATRON_PASSWORDS)?, row.patron)?;
        let factor = read_totp(&txn.open_table(PATRON_TOTP)?, row.patron)?.filter(|t| t.secret.is_some());
        let patron = get_patron(&txn.open_table(PATRONS)?, row.patron)?;
        let live = now < row.expires() && password.is_some_and(|p| p.changed == row.password_changed);
        let (Some(mut factor), Some(patron), true) = (factor, patron, live) else {
            txn.open_table(PATRON_CHALLENGES)?.remove(key.as_slice())?;
            txn.commit()?;
            return Ok(PatronCodeOutcome::Expired);
        };
        let locked = read_failures(&txn.open_table(PATRON_LOGIN_FAILURES)?, &row.card)?.locked(now);
        if let Some(until) = locked {
            txn.open_table(PATRON_CHALLENGES)?.remove(key.as_slice())?;
            txn.commit()?;
            return Ok(PatronCodeOutcome::Locked { until });
        }
        let secret = factor.secret.clone().unwrap_or_default();
        let typed = SecondFactor::check(&secret, factor.last_step, &factor.recovery, Some(code), now)?;
        if typed == SecondFactor::Missing {
            // Nothing typed: nothing tried, nothing counted.
            return Ok(PatronCodeOutcome::WrongCode);
        }
        let Some(used_recovery_code) = typed.spend(&mut factor.last_step, &mut factor.recovery) else {
            let locked = record_failure(&txn, &row.card, now)?;
            if locked.is_some() {
                txn.open_table(PATRON_CHALLENGES)?.remove(key.as_slice())?;
            }
            txn.commit()?;
            return Ok(locked.map_or(PatronCodeOutcome::WrongCode, |until| PatronCodeOutcome::Locked { until }));
        };
        put_totp(&txn, patron.id, &factor)?;
        txn.open_table(PATRON_LOGIN_FAILURES)?.remove(row.card.as_str())?;
        txn.open_table(PATRON_CHALLENGES)?.remove(key.as_slice())?;
        if let Some(previous) = previous {
            txn.open_table(PATRON_SESSIONS)?.remove(previous.key().as_slice())?;
        }
        let (token, session) = start_session(&txn, patron.id, now, now)?;
        txn.commit()?;
        Ok(PatronCodeOutcome::LoggedIn {
            token,
            session: Box::new(session_of(session, patron)),
            used_recovery_code,
            recovery_codes_left: factor.recovery.len(),
        })
    }

    /// The label an authenticator app shows: `<card>@<library code>`.
    fn totp_label(&self, patron: &Patron) -> String {
        totp::account_label(&format!("{}@{}", patron.card, self.tenant()))
    }
}
