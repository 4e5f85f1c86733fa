//! Demo mode's staff account (DESIGN.md "Demo mode"): a known account whose credentials
//! are printed and written to `DATA/demo-credentials.json`. Outside demo mode there is no
//! default account: [`System::remove_demo_staff`] deletes every demo account and the file.

use std::io::Write;
use std::path::Path;

use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::security::accounts::{ACCOUNTS, AccountId, AccountRow, Scope, Username, decode, get_account, put_account};
use crate::security::password::{hash_password, one_time_password, verify_password};
use crate::security::roles::Role;
use crate::security::secret::SecretString;
use crate::security::sessions::end_sessions_of;
use crate::security::totp;
use crate::system::{System, TENANTS};
use crate::tenant::TenantCode;

/// The demo staff member's username.
pub const DEMO_USERNAME: &str = "demo";

/// The demo staff account's credentials, as printed and as written to
/// `DATA/demo-credentials.json` (mode 0600). `Debug` redacts the secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCredentials {
    /// The library.
    pub tenant: TenantCode,
    /// The username ([`DEMO_USERNAME`]).
    pub username: String,
    /// The password.
    pub password: SecretString,
    /// The TOTP secret in base 32.
    pub totp_secret: SecretString,
    /// The `otpauth://` URI of the secret.
    pub otpauth_uri: SecretString,
    /// A demo patron's card number, for the OPAC's patron login (set by the server's demo
    /// library, which owns the patrons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patron_card: Option<String>,
    /// That patron's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patron_password: Option<SecretString>,
}

impl System {
    /// Demo mode only: makes sure the library has the demo staff account (a tenant admin)
    /// and that `DATA/demo-credentials.json` holds its credentials. Idempotent: if the file
    /// still matches the account, the same credentials are returned; otherwise new random
    /// ones replace both. Demo accounts of other libraries are deleted.
    pub fn ensure_demo_staff(&self, tenant: &TenantCode) -> Result<DemoCredentials> {
        let username: Username = DEMO_USERNAME.parse()?;
        let id = AccountId::staff(tenant.clone(), username);
        let path = self.layout.demo_credentials_file();
        if let Some(existing) = credentials_of(&path)? {
            let txn = self.db.begin_read()?;
            let row = get_account(&txn.open_table(ACCOUNTS)?, &id)?;
            let valid = row.is_some_and(|row| {
                existing.tenant == *tenant
                    && row.demo
                    && !row.disabled
                    && row.totp_secret == existing.totp_secret.expose()
                    && verify_password(existing.password.expose(), &row.password)
            });
            if valid {
                return Ok(existing);
            }
        }

        let password = one_time_password(DEMO_USERNAME)?;
        let secret = totp::new_secret()?;
        let enrolment = totp::enrolment(&secret, &format!("{DEMO_USERNAME}@{tenant}"))?;
        let (_, recovery) = totp::new_recovery_codes()?;
        let now = self.clock.now();
        let row = AccountRow {
            display_name: "Demo".into(),
            role: Some(Role::TenantAdmin),
            password: hash_password(&password)?,
            must_change_password: false,
            totp_secret: totp::encode_secret(&secret),
            totp_last_step: None,
            totp_pending: None,
            recovery,
            disabled: false,
            demo: true,
            created: now,
            password_changed: now,
        };
        let txn = self.db.begin_write()?;
        if txn.open_table(TENANTS)?.get(tenant.as_str())?.is_none() {
            return Err(Error::UnknownTenant(tenant.to_string()));
        }
        if get_account(&txn.open_table(ACCOUNTS)?, &id)?.is_some_and(|row| !row.demo) {
            // A real person's account of that name is never taken over.
            return Err(Error::AccountExists(id.to_string()));
        }
        for other in demo_accounts(&txn)? {
            if other != id {
                txn.open_table(ACCOUNTS)?.remove(other.key())?;
                end_sessions_of(&txn, &other, None)?;
            }
        }
        put_account(&txn, &id, &row)?;
        end_sessions_of(&txn, &id, None)?;
        txn.commit()?;

        let credentials = DemoCredentials {
            tenant: tenant.clone(),
            username: DEMO_USERNAME.into(),
            password: SecretString::new(password),
            totp_secret: enrolment.secret,
            otpauth_uri: enrolment.uri,
            patron_card: None,
            patron_password: None,
        };
        write_private(&path, &credentials)?;
        Ok(credentials)
    }

    /// Demo mode only: writes `DATA/demo-credentials.json` again with `credentials` (to add
    /// the demo patron's login to the staff account's).
    pub fn save_demo_credentials(&self, credentials: &DemoCredentials) -> Result<()> {
        write_private(&self.layout.demo_credentials_file(), credentials)
    }

    /// Outside demo mode (call it when the server starts without `--demo`): deletes every
    /// demo account, ending its sessions, and `DATA/demo-credentials.json`. How many
    /// accounts were deleted.
    pub fn remove_demo_staff(&self) -> Result<usize> {
        let txn = self.db.begin_write()?;
        let demo = demo_accounts(&txn)?;
        for id in &demo {
            txn.open_table(ACCOUNTS)?.remove(id.key())?;
            end_sessions_of(&txn, id, None)?;
        }
        txn.commit()?;
        let path = self.layout.demo_credentials_file();
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::Io { path, source: e }),
        }
        Ok(demo.len())
    }
}

fn demo_accounts(txn: &redb::WriteTransaction) -> Result<Vec<AccountId>> {
    let table = txn.open_table(ACCOUNTS)?;
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (key, value) = entry?;
        let row: AccountRow = decode("accounts", value.value())?;
        if row.demo {
            let (scope, name) = key.value();
            out.push(AccountId { scope: Scope::from_key(scope)?, username: name.parse()? });
        }
    }
    Ok(out)
}

/// The demo credentials file's content, if it exists and reads.
pub(crate) fn credentials_of(path: &Path) -> Result<Option<DemoCredentials>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Io { path: path.to_path_buf(), source: e }),
    }
}

/// Writes the file readable by its owner only (0600 on Unix), replacing it atomically.
fn write_private(path: &Path, credentials: &DemoCredentials) -> Result<()> {
    let mut json =
        serde_json::to_vec_pretty(credentials).map_err(|e| Error::Storage(format!("demo credentials: {e}")))?;
    json.push(b'\n');
    let tmp = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(Error::io(&tmp))?;
    file.write_all(&json).map_err(Error::io(&tmp))?;
    file.sync_all().map_err(Error::io(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(Error::io(path))?;
    Ok(())
}
