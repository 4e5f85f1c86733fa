//! Sessions in `system.redb`.
//!
//! A session id is 256 random bits, given to the browser (cookie) or API client (Bearer
//! token) as 64 hex digits and never stored: the table is keyed by its SHA-256, so a copy
//! of `system.redb` does not let anyone take over a session. A session ends when it has
//! been idle for [`SESSION_IDLE_TIMEOUT`], [`SESSION_ABSOLUTE_TIMEOUT`] after login, at
//! logout, when its account is disabled, deleted or has its credentials reset, and when the
//! person logs out everywhere. Each carries a CSRF token for the forms it renders.

use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use redb::{MultimapTableDefinition, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::security::accounts::{ACCOUNTS, AccountId, ROLE_POLICIES, Scope, decode, encode, get_account, read_policy};
use crate::security::roles::{Function, Principal, may};
use crate::security::secret::{SecretString, constant_time_eq, hex, random_bytes, sha256, unhex};
use crate::system::System;
use crate::tenant::TenantCode;

/// SHA-256 of a session id -> JSON session row.
pub(crate) const SESSIONS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("sessions");
/// (scope, username) -> SHA-256 of the ids of the account's sessions.
pub(crate) const SESSIONS_BY_ACCOUNT: MultimapTableDefinition<'_, (&str, &str), &[u8]> =
    MultimapTableDefinition::new("sessions_by_account");

/// A session ends after this long without a request.
pub const SESSION_IDLE_TIMEOUT: SignedDuration = SignedDuration::from_mins(30);
/// A session ends this long after login, however busy.
pub const SESSION_ABSOLUTE_TIMEOUT: SignedDuration = SignedDuration::from_hours(12);
/// `last_seen` is written at most this often, so a busy session costs one write a minute,
/// not one per request. The idle timeout is therefore exact to within this.
const LAST_SEEN_GRANULARITY: SignedDuration = SignedDuration::from_mins(1);

/// A session id as the client holds it: 64 lowercase hex digits. `Debug` and `Display`
/// redact it; [`SessionToken::expose`] gives it for the cookie or the login response.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken([u8; 32]);

impl SessionToken {
    pub(crate) fn random() -> Result<Self> {
        random_bytes().map(Self)
    }

    /// The id as sent to the client.
    pub fn expose(&self) -> String {
        hex(&self.0)
    }

    /// The stored key: SHA-256 of the id.
    pub(crate) fn key(&self) -> [u8; 32] {
        sha256(&[&self.0])
    }
}

/// Reads a token from a cookie or an `Authorization: Bearer` header; anything but 64 hex
/// digits is refused, before any lookup.
impl FromStr for SessionToken {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        unhex::<32>(text.trim()).map(Self).ok_or_else(|| Error::invalid("session", "not a session id"))
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

impl fmt::Display for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct SessionRow {
    scope: String,
    username: String,
    created: Timestamp,
    last_seen: Timestamp,
    /// The CSRF token (hex). Not a credential on its own: it is shown in every form.
    csrf: String,
}

impl fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRow")
            .field("scope", &self.scope)
            .field("username", &self.username)
            .field("created", &self.created)
            .field("last_seen", &self.last_seen)
            .finish_non_exhaustive()
    }
}

impl SessionRow {
    fn account(&self) -> Result<AccountId> {
        Ok(AccountId { scope: Scope::from_key(&self.scope)?, username: self.username.parse()? })
    }

    fn expires(&self) -> Timestamp {
        let idle = self.last_seen.saturating_add(SESSION_IDLE_TIMEOUT).unwrap_or(self.last_seen);
        let absolute = self.created.saturating_add(SESSION_ABSOLUTE_TIMEOUT).unwrap_or(self.created);
        idle.min(absolute)
    }
}

/// A live session, as looked up for a request: who, since when, and the CSRF token.
/// `Debug` shows neither the CSRF token nor the session's key.
#[derive(Clone)]
pub struct Session {
    /// Who is logged in, with their role's functions as they are now.
    pub principal: Principal,
    /// When they logged in.
    pub created: Timestamp,
    /// The last recorded request (recorded at most once a minute).
    pub last_seen: Timestamp,
    /// When the session ends if nothing else happens: the earlier of the idle and the
    /// absolute timeout.
    pub expires: Timestamp,
    /// The account logged in with a one-time password: until it is changed
    /// ([`System::change_password`]) the session may do nothing else ([`Session::may`] is
    /// always false).
    pub must_change_password: bool,
    csrf: SecretString,
    key: [u8; 32],
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("principal", &self.principal)
            .field("created", &self.created)
            .field("last_seen", &self.last_seen)
            .field("expires", &self.expires)
            .field("must_change_password", &self.must_change_password)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Whether this session may use `function` in `tenant`: [`may`] for its principal,
    /// and nothing at all while the password must be changed. Handlers ask this.
    pub fn may(&self, tenant: &TenantCode, function: Function) -> bool {
        !self.must_change_password && may(&self.principal, tenant, function)
    }

    /// The account logged in.
    pub fn account(&self) -> AccountId {
        self.principal.account()
    }

    /// The library the session belongs to (`None` for an operator).
    pub fn tenant(&self) -> Option<&TenantCode> {
        match &self.principal {
            Principal::Operator { .. } => None,
            Principal::Staff { tenant, .. } => Some(tenant),
        }
    }

    /// The CSRF token to put in every form this session renders (64 hex digits).
    pub fn csrf_token(&self) -> &SecretString {
        &self.csrf
    }

    /// Whether a form's (or header's) CSRF token is this session's; compared in constant
    /// time.
    pub fn check_csrf(&self, given: &str) -> bool {
        constant_time_eq(self.csrf.expose().as_bytes(), given.trim().as_bytes())
    }

    pub(crate) fn key(&self) -> [u8; 32] {
        self.key
    }
}

/// Starts a session for `id` in `txn`.
pub(crate) fn start_session(
    txn: &WriteTransaction,
    id: &AccountId,
    created: Timestamp,
    now: Timestamp,
) -> Result<(SessionToken, [u8; 32])> {
    let token = SessionToken::random()?;
    let key = token.key();
    let row = SessionRow {
        scope: id.scope.key().to_string(),
        username: id.username.to_string(),
        created,
        last_seen: now,
        csrf: hex(&random_bytes::<32>()?),
    };
    txn.open_table(SESSIONS)?.insert(key.as_slice(), encode(&row)?.as_slice())?;
    txn.open_multimap_table(SESSIONS_BY_ACCOUNT)?.insert(id.key(), key.as_slice())?;
    Ok((token, key))
}

/// Ends one session (by its key); whether there was one.
pub(crate) fn end_session(txn: &WriteTransaction, key: &[u8; 32]) -> Result<bool> {
    let removed = txn.open_table(SESSIONS)?.remove(key.as_slice())?.map(|v| v.value().to_vec());
    let Some(bytes) = removed else { return Ok(false) };
    let row: SessionRow = decode("sessions", &bytes)?;
    txn.open_multimap_table(SESSIONS_BY_ACCOUNT)?
        .remove((row.scope.as_str(), row.username.as_str()), key.as_slice())?;
    Ok(true)
}

/// Ends every session of an account but `keep` (if it is one of them); how many ended.
pub(crate) fn end_sessions_of(txn: &WriteTransaction, id: &AccountId, keep: Option<&[u8; 32]>) -> Result<usize> {
    let mut keys = Vec::new();
    {
        let mut by_account = txn.open_multimap_table(SESSIONS_BY_ACCOUNT)?;
        for key in by_account.remove_all(id.key())? {
            keys.push(key?.value().to_vec());
        }
        if let Some(keep) = keep.filter(|keep| keys.iter().any(|k| k.as_slice() == keep.as_slice())) {
            by_account.insert(id.key(), keep.as_slice())?;
        }
    }
    let mut sessions = txn.open_table(SESSIONS)?;
    let mut ended = 0;
    for key in keys {
        if keep.is_some_and(|keep| keep.as_slice() == key.as_slice()) {
            continue;
        }
        if sessions.remove(key.as_slice())?.is_some() {
            ended += 1;
        }
    }
    Ok(ended)
}

/// The session of a row, with the account's current role and switches; `None` when the
/// account is gone or disabled.
pub(crate) fn session_of(
    accounts: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    policies: &impl ReadableTable<&'static str, &'static [u8]>,
    key: [u8; 32],
    row: &SessionRow,
) -> Result<Option<Session>> {
    let id = row.account()?;
    let Some(account) = get_account(accounts, &id)? else { return Ok(None) };
    if account.disabled {
        return Ok(None);
    }
    let principal = match (&id.scope, account.role) {
        (Scope::Operators, _) => Principal::Operator { username: id.username },
        (Scope::Tenant(tenant), Some(role)) => {
            let functions = read_policy(policies, tenant)?.functions(role);
            Principal::Staff { tenant: tenant.clone(), username: id.username, role, functions }
        }
        (Scope::Tenant(_), None) => return Err(Error::Storage(format!("account {id} has no role"))),
    };
    Ok(Some(Session {
        principal,
        created: row.created,
        last_seen: row.last_seen,
        expires: row.expires(),
        must_change_password: account.must_change_password,
        csrf: SecretString::new(row.csrf.clone()),
        key,
    }))
}

/// Reads a session row inside a write transaction.
pub(crate) fn session_in(txn: &WriteTransaction, key: &[u8; 32]) -> Result<Option<Session>> {
    let row = txn.open_table(SESSIONS)?.get(key.as_slice())?.map(|v| v.value().to_vec());
    let Some(bytes) = row else { return Ok(None) };
    let row: SessionRow = decode("sessions", &bytes)?;
    session_of(&txn.open_table(ACCOUNTS)?, &txn.open_table(ROLE_POLICIES)?, *key, &row)
}

impl System {
    /// The live session of a token, or `None` (unknown, expired, logged out, or its account
    /// disabled or gone): an expired session is deleted on the way. Records the request as
    /// activity (at most one write a minute per session). Call it once per request.
    pub fn session(&self, token: &SessionToken) -> Result<Option<Session>> {
        let now = self.clock.now();
        let key = token.key();
        let found = {
            let txn = self.db.begin_read()?;
            let row: Option<Vec<u8>> = txn.open_table(SESSIONS)?.get(key.as_slice())?.map(|v| v.value().to_vec());
            match row {
                None => return Ok(None),
                Some(bytes) => {
                    let row: SessionRow = decode("sessions", &bytes)?;
                    if now >= row.expires() {
                        None
                    } else {
                        session_of(&txn.open_table(ACCOUNTS)?, &txn.open_table(ROLE_POLICIES)?, key, &row)?
                    }
                }
            }
        };
        match found {
            None => {
                // Expired, or its account is gone or disabled: it is dead for good.
                let txn = self.db.begin_write()?;
                end_session(&txn, &key)?;
                txn.commit()?;
                Ok(None)
            }
            Some(mut session) => {
                if now.duration_since(session.last_seen) >= LAST_SEEN_GRANULARITY {
                    let txn = self.db.begin_write()?;
                    {
                        let mut sessions = txn.open_table(SESSIONS)?;
                        let row = sessions.get(key.as_slice())?.map(|v| v.value().to_vec());
                        if let Some(bytes) = row {
                            let mut row: SessionRow = decode("sessions", &bytes)?;
                            row.last_seen = now;
                            sessions.insert(key.as_slice(), encode(&row)?.as_slice())?;
                            session.last_seen = now;
                            session.expires = row.expires();
                        }
                    }
                    txn.commit()?;
                }
                Ok(Some(session))
            }
        }
    }

    /// Ends the session of a token; whether there was one.
    pub fn logout(&self, token: &SessionToken) -> Result<bool> {
        let txn = self.db.begin_write()?;
        let ended = end_session(&txn, &token.key())?;
        txn.commit()?;
        Ok(ended)
    }

    /// Ends every session of an account ("log out everywhere"); how many ended.
    pub fn logout_everywhere(&self, id: &AccountId) -> Result<usize> {
        let txn = self.db.begin_write()?;
        let ended = end_sessions_of(&txn, id, None)?;
        txn.commit()?;
        Ok(ended)
    }

    /// Replaces a live session by a new one with a new id and CSRF token (the old id is
    /// dead at once); the login time, and so the absolute timeout, carries over. For a
    /// change of privilege inside a session. `None` if the token has no live session.
    pub fn rotate_session(&self, token: &SessionToken) -> Result<Option<(SessionToken, Session)>> {
        let Some(old) = self.session(token)? else { return Ok(None) };
        let now = self.clock.now();
        let txn = self.db.begin_write()?;
        if !end_session(&txn, &old.key)? {
            return Ok(None);
        }
        let (new, key) = start_session(&txn, &old.account(), old.created, now)?;
        let session = session_in(&txn, &key)?;
        txn.commit()?;
        Ok(session.map(|s| (new, s)))
    }

    /// The live sessions of an account: when each started and was last used (for a "your
    /// sessions" page). Expired ones are left out.
    pub fn sessions_of(&self, id: &AccountId) -> Result<Vec<Session>> {
        let now = self.clock.now();
        let txn = self.db.begin_read()?;
        let by_account = txn.open_multimap_table(SESSIONS_BY_ACCOUNT)?;
        let sessions = txn.open_table(SESSIONS)?;
        let accounts = txn.open_table(ACCOUNTS)?;
        let policies = txn.open_table(ROLE_POLICIES)?;
        let mut out = Vec::new();
        for key in by_account.get(id.key())? {
            let key = key?;
            let Ok(key) = <[u8; 32]>::try_from(key.value()) else { continue };
            let Some(row) = sessions.get(key.as_slice())? else { continue };
            let row: SessionRow = decode("sessions", row.value())?;
            if now < row.expires() {
                out.extend(session_of(&accounts, &policies, key, &row)?);
            }
        }
        out.sort_by_key(|s| s.created);
        Ok(out)
    }
}

/// Deletes expired sessions; how many.
pub(crate) fn prune_sessions(txn: &WriteTransaction, now: Timestamp) -> Result<usize> {
    let expired: Vec<[u8; 32]> = {
        let sessions = txn.open_table(SESSIONS)?;
        let mut out = Vec::new();
        for entry in sessions.iter()? {
            let (key, value) = entry?;
            let row: SessionRow = decode("sessions", value.value())?;
            if now >= row.expires()
                && let Ok(key) = <[u8; 32]>::try_from(key.value())
            {
                out.push(key);
            }
        }
        out
    };
    for key in &expired {
        end_session(txn, key)?;
    }
    Ok(expired.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_and_redact() -> Result<()> {
        let token = SessionToken::random()?;
        let text = token.expose();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<SessionToken>()?, token);
        assert_eq!(format!("{token:?} {token}"), "SessionToken([redacted]) [redacted]");
        assert!("../../etc/passwd".parse::<SessionToken>().is_err());
        assert!(text[..63].parse::<SessionToken>().is_err());
        Ok(())
    }
}
