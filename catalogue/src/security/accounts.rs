//! Accounts in `system.redb`: operators (global) and each library's staff; their
//! passwords, TOTP secrets and recovery codes; each library's role switches.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::security::password::{hash_password, one_time_password};
use crate::security::roles::{Role, RolePolicy};
use crate::security::secret::SecretString;
use crate::security::sessions::end_sessions_of;
use crate::security::totp::{self, TotpEnrolment};
use crate::system::{System, TENANTS};
use crate::tenant::TenantCode;

/// (scope, username) -> JSON account row. The scope is a tenant code, or `*` for operators
/// (a character no tenant code can hold).
pub(crate) const ACCOUNTS: TableDefinition<'_, (&str, &str), &[u8]> = TableDefinition::new("accounts");
/// Tenant code -> JSON role switches (absent: the defaults).
pub(crate) const ROLE_POLICIES: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("role_policies");

/// A login name: 3 to 32 characters of lowercase ASCII letters, digits, `.`, `_` and `-`,
/// starting with a letter or digit. Names are case-insensitive: parsing lowercases, so
/// `Yamada` and `yamada` are the same account.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Username(String);

impl Username {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Username {
    type Err = Error;

    fn from_str(name: &str) -> Result<Username> {
        let name = name.trim().to_ascii_lowercase();
        let refuse = |reason: &str| Err(Error::invalid("username", reason.to_string()));
        if name.len() < 3 || name.len() > 32 {
            return refuse("must be 3 to 32 characters long");
        }
        if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')) {
            return refuse("only ASCII letters, digits, '.', '_' and '-' are allowed");
        }
        if !name.as_bytes()[0].is_ascii_alphanumeric() {
            return refuse("must start with a letter or a digit");
        }
        Ok(Username(name))
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an account belongs: the operators of the deployment, or one library's staff.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// The deployment's operators.
    Operators,
    /// A library's staff.
    Tenant(TenantCode),
}

impl Scope {
    /// The scope's part of a key: the tenant code, or `*` for operators.
    pub(crate) fn key(&self) -> &str {
        match self {
            Scope::Operators => "*",
            Scope::Tenant(code) => code.as_str(),
        }
    }

    pub(crate) fn from_key(key: &str) -> Result<Scope> {
        if key == "*" { Ok(Scope::Operators) } else { key.parse().map(Scope::Tenant) }
    }

    /// The library, for a staff scope.
    pub fn tenant(&self) -> Option<&TenantCode> {
        match self {
            Scope::Operators => None,
            Scope::Tenant(code) => Some(code),
        }
    }
}

/// An account: its scope and its name there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId {
    /// Operators, or a library.
    pub scope: Scope,
    /// The login name.
    pub username: Username,
}

impl AccountId {
    /// An operator's account.
    pub fn operator(username: Username) -> Self {
        Self { scope: Scope::Operators, username }
    }

    /// A staff member's account in a library.
    pub fn staff(tenant: TenantCode, username: Username) -> Self {
        Self { scope: Scope::Tenant(tenant), username }
    }

    pub(crate) fn key(&self) -> (&str, &str) {
        (self.scope.key(), self.username.as_str())
    }

    /// The label an authenticator app shows (it may not contain `:`).
    fn totp_label(&self) -> String {
        match &self.scope {
            Scope::Operators => format!("{} (operator)", self.username),
            Scope::Tenant(code) => format!("{}@{}", self.username, code),
        }
    }
}

/// `operator:<name>` for an operator, `<tenant>/<name>` for staff: unambiguous, since
/// neither a tenant code nor a username holds `:` or `/`.
impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scope {
            Scope::Operators => write!(f, "operator:{}", self.username),
            Scope::Tenant(code) => write!(f, "{}/{}", code, self.username),
        }
    }
}

/// A stored account. Holds secrets (the password hash, the TOTP secret): `Debug` redacts them.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct AccountRow {
    pub(crate) display_name: String,
    /// The role in the library; `None` for operators.
    pub(crate) role: Option<Role>,
    /// argon2id PHC string.
    pub(crate) password: String,
    pub(crate) must_change_password: bool,
    /// The TOTP secret in base 32.
    pub(crate) totp_secret: String,
    /// The last TOTP step accepted: that step and earlier ones are refused.
    pub(crate) totp_last_step: Option<u64>,
    /// A secret being enrolled, replacing `totp_secret` once a code from it is confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) totp_pending: Option<String>,
    /// SHA-256 (hex) of the unused recovery codes.
    pub(crate) recovery: Vec<String>,
    pub(crate) disabled: bool,
    /// Made by demo mode; removed when the server starts without it.
    #[serde(default)]
    pub(crate) demo: bool,
    pub(crate) created: Timestamp,
    pub(crate) password_changed: Timestamp,
}

impl fmt::Debug for AccountRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountRow")
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("password", &"[redacted]")
            .field("must_change_password", &self.must_change_password)
            .field("totp_secret", &"[redacted]")
            .field("totp_last_step", &self.totp_last_step)
            .field("recovery", &format_args!("[{} redacted]", self.recovery.len()))
            .field("disabled", &self.disabled)
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

/// What may be shown about an account: no secret, no hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    /// The account.
    pub id: AccountId,
    /// The person's name as shown.
    pub display_name: String,
    /// The role in the library (`None` for operators).
    pub role: Option<Role>,
    /// The password is a one-time one and must be changed at the next login.
    pub must_change_password: bool,
    /// The account may not log in.
    pub disabled: bool,
    /// The demo staff account (demo mode only).
    pub demo: bool,
    /// Created.
    pub created: Timestamp,
    /// The password was last set.
    pub password_changed: Timestamp,
    /// Recovery codes not used yet.
    pub recovery_codes_left: usize,
}

impl AccountInfo {
    fn new(id: AccountId, row: &AccountRow) -> Self {
        Self {
            id,
            display_name: row.display_name.clone(),
            role: row.role,
            must_change_password: row.must_change_password,
            disabled: row.disabled,
            demo: row.demo,
            created: row.created,
            password_changed: row.password_changed,
            recovery_codes_left: row.recovery.len(),
        }
    }
}

/// Credentials made for a person, to be handed to them once: a one-time password (to be
/// changed at the first login), the TOTP enrolment and ten recovery codes. None of it is
/// stored in the clear; `Debug` shows none of it.
#[derive(Debug, Clone)]
pub struct IssuedCredentials {
    /// The account.
    pub account: AccountId,
    /// The one-time password.
    pub password: SecretString,
    /// The authenticator app's setup.
    pub totp: TotpEnrolment,
    /// Ten recovery codes, each usable once instead of a TOTP code.
    pub recovery_codes: Vec<SecretString>,
}

pub(crate) fn encode<T: Serialize>(row: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(row).map_err(|e| Error::Storage(format!("encoding a row: {e}")))
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(table: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Storage(format!("{table}: a stored row is damaged: {e}")))
}

pub(crate) fn get_account(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    id: &AccountId,
) -> Result<Option<AccountRow>> {
    let row = table.get(id.key())?;
    row.map(|v| decode("accounts", v.value())).transpose()
}

pub(crate) fn put_account(txn: &WriteTransaction, id: &AccountId, row: &AccountRow) -> Result<()> {
    txn.open_table(ACCOUNTS)?.insert(id.key(), encode(row)?.as_slice())?;
    Ok(())
}

/// The account with `id`, or [`Error::UnknownAccount`].
pub(crate) fn require_account(txn: &WriteTransaction, id: &AccountId) -> Result<AccountRow> {
    get_account(&txn.open_table(ACCOUNTS)?, id)?.ok_or_else(|| Error::UnknownAccount(id.to_string()))
}

/// The usernames of a scope, in order.
pub(crate) fn usernames_in(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    scope: &Scope,
) -> Result<Vec<(Username, AccountRow)>> {
    let mut out = Vec::new();
    for entry in table.range((scope.key(), "")..)? {
        let (key, value) = entry?;
        let (key_scope, name) = key.value();
        if key_scope != scope.key() {
            break;
        }
        out.push((Username(name.to_string()), decode("accounts", value.value())?));
    }
    Ok(out)
}

fn check_display_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::invalid("display name", "at most 100 characters, without control characters"));
    }
    Ok(name.to_string())
}

/// A new row with fresh credentials, and the credentials to hand over.
fn fresh_row(
    id: &AccountId,
    display_name: String,
    role: Option<Role>,
    now: Timestamp,
) -> Result<(AccountRow, IssuedCredentials)> {
    let password = one_time_password(id.username.as_str())?;
    let secret = totp::new_secret()?;
    let (codes, hashes) = totp::new_recovery_codes()?;
    let row = AccountRow {
        display_name,
        role,
        password: hash_password(&password)?,
        must_change_password: true,
        totp_secret: totp::encode_secret(&secret),
        totp_last_step: None,
        totp_pending: None,
        recovery: hashes,
        disabled: false,
        demo: false,
        created: now,
        password_changed: now,
    };
    let issued = IssuedCredentials {
        account: id.clone(),
        password: SecretString::new(password),
        totp: totp::enrolment(&secret, &id.totp_label())?,
        recovery_codes: codes,
    };
    Ok((row, issued))
}

impl System {
    /// `shiori admin bootstrap`: creates the first operator, with a one-time password that
    /// must be changed at the first login, a TOTP enrolment and recovery codes. Refused
    /// ([`Error::OperatorExists`]) once any operator exists, so it cannot be used to take
    /// over a running deployment.
    pub fn bootstrap_operator(&self, username: &str) -> Result<IssuedCredentials> {
        let id = AccountId::operator(username.parse()?);
        let (row, issued) = fresh_row(&id, String::new(), None, self.clock.now())?;
        let txn = self.db.begin_write()?;
        {
            let accounts = txn.open_table(ACCOUNTS)?;
            if !usernames_in(&accounts, &Scope::Operators)?.is_empty() {
                return Err(Error::OperatorExists);
            }
        }
        put_account(&txn, &id, &row)?;
        txn.commit()?;
        Ok(issued)
    }

    /// Creates another operator (an operator's action).
    pub fn create_operator(&self, username: &str, display_name: &str) -> Result<IssuedCredentials> {
        let id = AccountId::operator(username.parse()?);
        self.create_account(id, check_display_name(display_name)?, None)
    }

    /// Creates a staff account in a library (a tenant admin's or an operator's action),
    /// with a one-time password, a TOTP enrolment and recovery codes to hand over.
    pub fn create_staff(
        &self,
        tenant: &TenantCode,
        username: &str,
        display_name: &str,
        role: Role,
    ) -> Result<IssuedCredentials> {
        let id = AccountId::staff(tenant.clone(), username.parse()?);
        self.create_account(id, check_display_name(display_name)?, Some(role))
    }

    fn create_account(&self, id: AccountId, display_name: String, role: Option<Role>) -> Result<IssuedCredentials> {
        // Hashing takes tens of milliseconds: done before the write transaction, which
        // would otherwise hold up every other writer.
        let (row, issued) = fresh_row(&id, display_name, role, self.clock.now())?;
        let txn = self.db.begin_write()?;
        if let Scope::Tenant(code) = &id.scope
            && txn.open_table(TENANTS)?.get(code.as_str())?.is_none()
        {
            return Err(Error::UnknownTenant(code.to_string()));
        }
        if get_account(&txn.open_table(ACCOUNTS)?, &id)?.is_some() {
            return Err(Error::AccountExists(id.to_string()));
        }
        put_account(&txn, &id, &row)?;
        txn.commit()?;
        Ok(issued)
    }

    /// The account, without its secrets.
    pub fn account(&self, id: &AccountId) -> Result<Option<AccountInfo>> {
        let txn = self.db.begin_read()?;
        let row = get_account(&txn.open_table(ACCOUNTS)?, id)?;
        Ok(row.map(|row| AccountInfo::new(id.clone(), &row)))
    }

    /// Every account of a scope (the operators, or a library's staff), by name.
    pub fn accounts(&self, scope: &Scope) -> Result<Vec<AccountInfo>> {
        let txn = self.db.begin_read()?;
        let rows = usernames_in(&txn.open_table(ACCOUNTS)?, scope)?;
        Ok(rows
            .into_iter()
            .map(|(username, row)| AccountInfo::new(AccountId { scope: scope.clone(), username }, &row))
            .collect())
    }

    /// Changes a staff member's role; it applies from their next request.
    pub fn set_role(&self, id: &AccountId, role: Role) -> Result<()> {
        if id.scope == Scope::Operators {
            return Err(Error::invalid("role", "operators have no role in a library"));
        }
        self.update_account(id, |row| {
            row.role = Some(role);
            Ok(())
        })
    }

    /// Disables (or enables again) an account; disabling ends its sessions.
    pub fn set_disabled(&self, id: &AccountId, disabled: bool) -> Result<()> {
        let txn = self.db.begin_write()?;
        let mut row = require_account(&txn, id)?;
        row.disabled = disabled;
        put_account(&txn, id, &row)?;
        if disabled {
            end_sessions_of(&txn, id, None)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Deletes an account and ends its sessions.
    pub fn delete_account(&self, id: &AccountId) -> Result<()> {
        let txn = self.db.begin_write()?;
        if txn.open_table(ACCOUNTS)?.remove(id.key())?.is_none() {
            return Err(Error::UnknownAccount(id.to_string()));
        }
        end_sessions_of(&txn, id, None)?;
        crate::security::login::forget_failures(&txn, id)?;
        txn.commit()?;
        Ok(())
    }

    /// New credentials for a person who lost theirs (a tenant admin's or an operator's
    /// action): a one-time password, a new TOTP secret and new recovery codes; every session
    /// of the account ends and a lockout is lifted.
    pub fn reset_credentials(&self, id: &AccountId) -> Result<IssuedCredentials> {
        let (fresh, issued) = fresh_row(id, String::new(), None, self.clock.now())?;
        let txn = self.db.begin_write()?;
        let mut row = require_account(&txn, id)?;
        row.password = fresh.password;
        row.must_change_password = true;
        row.totp_secret = fresh.totp_secret;
        row.totp_last_step = None;
        row.totp_pending = None;
        row.recovery = fresh.recovery;
        row.password_changed = fresh.password_changed;
        put_account(&txn, id, &row)?;
        end_sessions_of(&txn, id, None)?;
        crate::security::login::forget_failures(&txn, id)?;
        txn.commit()?;
        Ok(issued)
    }

    /// Starts replacing the account's TOTP secret: the new secret is kept aside until
    /// [`System::confirm_totp_enrolment`] sees a code from it, so a half-done enrolment
    /// never locks the person out.
    pub fn begin_totp_enrolment(&self, id: &AccountId) -> Result<TotpEnrolment> {
        let secret = totp::new_secret()?;
        self.update_account(id, |row| {
            row.totp_pending = Some(totp::encode_secret(&secret));
            Ok(())
        })?;
        totp::enrolment(&secret, &id.totp_label())
    }

    /// Completes an enrolment with a code from the new secret ([`Error::WrongCode`] if it is
    /// not one); the new secret replaces the old.
    pub fn confirm_totp_enrolment(&self, id: &AccountId, code: &str) -> Result<()> {
        let now = self.clock.now();
        self.update_account(id, |row| {
            let pending = row.totp_pending.clone().ok_or(Error::WrongCode)?;
            let step = totp::check_code(&pending, code, now, None)?.ok_or(Error::WrongCode)?;
            row.totp_secret = pending;
            row.totp_last_step = Some(step);
            row.totp_pending = None;
            Ok(())
        })
    }

    /// Ten new recovery codes, replacing the old ones (used or not).
    pub fn regenerate_recovery_codes(&self, id: &AccountId) -> Result<Vec<SecretString>> {
        let (codes, hashes) = totp::new_recovery_codes()?;
        self.update_account(id, |row| {
            row.recovery = hashes;
            Ok(())
        })?;
        Ok(codes)
    }

    /// The library's role switches (the defaults until a tenant admin changes them).
    pub fn role_policy(&self, tenant: &TenantCode) -> Result<RolePolicy> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(ROLE_POLICIES)?;
        read_policy(&table, tenant)
    }

    /// Stores a library's role switches (a tenant admin's action); they apply from each
    /// staff member's next request.
    pub fn set_role_policy(&self, policy: &RolePolicy) -> Result<()> {
        let txn = self.db.begin_write()?;
        if txn.open_table(TENANTS)?.get(policy.tenant.as_str())?.is_none() {
            return Err(Error::UnknownTenant(policy.tenant.to_string()));
        }
        txn.open_table(ROLE_POLICIES)?.insert(policy.tenant.as_str(), encode(policy)?.as_slice())?;
        txn.commit()?;
        Ok(())
    }

    fn update_account(&self, id: &AccountId, change: impl FnOnce(&mut AccountRow) -> Result<()>) -> Result<()> {
        let txn = self.db.begin_write()?;
        let mut row = require_account(&txn, id)?;
        change(&mut row)?;
        put_account(&txn, id, &row)?;
        txn.commit()?;
        Ok(())
    }
}

pub(crate) fn read_policy(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    tenant: &TenantCode,
) -> Result<RolePolicy> {
    let row = table.get(tenant.as_str())?;
    match row {
        Some(v) => {
            let policy: RolePolicy = decode("role_policies", v.value())?;
            if &policy.tenant != tenant {
                return Err(Error::Storage(format!("role_policies {tenant}: the row names another tenant")));
            }
            Ok(policy)
        }
        None => Ok(RolePolicy::defaults(tenant)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!("Yamada.Taro".parse::<Username>().map(|u| u.to_string()).ok().as_deref(), Some("yamada.taro"));
        for bad in ["ab", "-abc", ".abc", "a b c", "yamada@city", "山田太郎", "a/b/c", &"x".repeat(33)] {
            assert!(bad.parse::<Username>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn account_ids_are_unambiguous() -> Result<()> {
        let op = AccountId::operator("admin".parse()?);
        let staff = AccountId::staff("operator".parse()?, "admin".parse()?);
        assert_eq!(op.to_string(), "operator:admin");
        assert_eq!(staff.to_string(), "operator/admin");
        assert_eq!(Scope::from_key(op.scope.key())?, Scope::Operators);
        assert_eq!(Scope::from_key(staff.scope.key())?, staff.scope);
        Ok(())
    }
}
