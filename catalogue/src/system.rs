//! The deployment's registry in `system.redb`: the tenants, and (see `security/`) the
//! operator and staff accounts, role switches, login failures and sessions.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layout::DataLayout;
use crate::security::{self, Clock, SystemClock};
use crate::tenant::TenantCode;

pub(crate) const TENANTS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("tenants");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
/// 1 the tenants registry; 2 adds accounts, role switches, login failures and sessions.
pub const SYSTEM_SCHEMA_VERSION: u64 = 2;

/// A registered library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Its code (folder name and URL segment).
    pub code: TenantCode,
    /// Its name as shown to people, e.g. 栞市立図書館.
    pub name: String,
    /// When it was created (seconds since the Unix epoch).
    pub created: i64,
}

/// The deployment-wide registry: which tenants exist, who may log in, who is logged in.
///
/// redb allows one open handle per file and process: a server opens `System` once and
/// shares it (it is `Send + Sync`).
pub struct System {
    pub(crate) db: Database,
    pub(crate) layout: DataLayout,
    pub(crate) clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("System").field("layout", &self.layout).field("clock", &self.clock).finish_non_exhaustive()
    }
}

impl System {
    /// Opens (creating if needed) `system.redb` in the data folder, migrating an older
    /// schema and refusing a newer one. Time is the system clock.
    pub fn open(layout: &DataLayout) -> Result<System> {
        Self::open_with_clock(layout, Arc::new(SystemClock))
    }

    /// Opens with a given clock: sessions, lockouts, TOTP and timestamps use it (tests use
    /// a [`ManualClock`](crate::ManualClock)).
    pub fn open_with_clock(layout: &DataLayout, clock: Arc<dyn Clock>) -> Result<System> {
        std::fs::create_dir_all(layout.root()).map_err(Error::io(layout.root()))?;
        let path = layout.system_file();
        let db = Database::create(&path)?;
        // It holds TOTP secrets and password hashes: its owner's only.
        owner_only(&path)?;
        let txn = db.begin_write()?;
        {
            let version = check_schema(&txn, &path, SYSTEM_SCHEMA_VERSION)?;
            // Every table is opened, and so created if missing; older versions are then
            // migrated one at a time inside this transaction.
            txn.open_table(TENANTS)?;
            security::create_tables(&txn)?;
            if version < 2 {
                // 1 -> 2: security. Its tables, created just above, start empty; the
                // tenants are unchanged. No account exists until `shiori admin bootstrap`.
                txn.open_table(META)?.insert("schema_version", 2)?;
            }
        }
        txn.commit()?;
        Ok(System { db, layout: layout.clone(), clock })
    }

    /// The clock security decisions use.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The schema version of the open file: always [`SYSTEM_SCHEMA_VERSION`], since opening
    /// migrates an older file.
    pub fn schema_version(&self) -> Result<u64> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let version = meta.get("schema_version")?.map(|v| v.value());
        version.ok_or_else(|| Error::Storage("system.redb has no schema version".into()))
    }

    /// The data layout this registry belongs to.
    pub fn layout(&self) -> &DataLayout {
        &self.layout
    }

    /// Registers a tenant and creates its folder. Refuses a code already in use.
    pub fn create_tenant(&self, code: &TenantCode, name: &str) -> Result<Tenant> {
        let name = name.trim();
        let tenant = Tenant { code: code.clone(), name: name.to_string(), created: self.clock.now().as_second() };
        let txn = self.db.begin_write()?;
        {
            let mut tenants = txn.open_table(TENANTS)?;
            if tenants.get(code.as_str())?.is_some() {
                return Err(Error::TenantExists(code.to_string()));
            }
            let row = serde_json::to_vec(&tenant).map_err(|e| Error::Storage(e.to_string()))?;
            tenants.insert(code.as_str(), row.as_slice())?;
        }
        let dir = self.layout.tenant_dir(code);
        std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        txn.commit()?;
        Ok(tenant)
    }

    /// The tenant with `code`, if registered.
    pub fn tenant(&self, code: &TenantCode) -> Result<Option<Tenant>> {
        let txn = self.db.begin_read()?;
        let tenants = txn.open_table(TENANTS)?;
        let row = tenants.get(code.as_str())?;
        row.map(|row| serde_json::from_slice(row.value()).map_err(|e| Error::Storage(e.to_string()))).transpose()
    }

    /// Every tenant, ordered by code.
    pub fn tenants(&self) -> Result<Vec<Tenant>> {
        let txn = self.db.begin_read()?;
        let tenants = txn.open_table(TENANTS)?;
        let mut out = Vec::new();
        for row in tenants.iter()? {
            let (_, value) = row?;
            out.push(serde_json::from_slice(value.value()).map_err(|e| Error::Storage(e.to_string()))?);
        }
        Ok(out)
    }
}

/// Records the schema version of a new store, or returns the version of an existing one
/// after refusing one newer than `supported` (an older binary must not half-understand a
/// newer file). The caller migrates older versions in the same transaction.
pub(crate) fn check_schema(txn: &redb::WriteTransaction, path: &std::path::Path, supported: u64) -> Result<u64> {
    let mut meta = txn.open_table(META)?;
    let found = meta.get("schema_version")?.map(|v| v.value());
    match found {
        None => {
            meta.insert("schema_version", supported)?;
            Ok(supported)
        }
        Some(found) if found > supported => Err(Error::SchemaTooNew { path: path.to_path_buf(), found, supported }),
        Some(found) => Ok(found),
    }
}

/// Makes a file readable and writable by its owner only (Unix; elsewhere a no-op).
fn owner_only(path: &std::path::Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(Error::io(path))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
