//! The tenants registry in `system.redb`.

use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layout::DataLayout;
use crate::tenant::TenantCode;

const TENANTS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("tenants");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
const SYSTEM_SCHEMA_VERSION: u64 = 1;

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

/// The deployment-wide registry: which tenants exist.
pub struct System {
    db: Database,
    layout: DataLayout,
}

impl System {
    /// Opens (creating if needed) `system.redb` in the data folder.
    pub fn open(layout: &DataLayout) -> Result<System> {
        std::fs::create_dir_all(layout.root()).map_err(Error::io(layout.root()))?;
        let path = layout.system_file();
        let db = Database::create(&path)?;
        let txn = db.begin_write()?;
        {
            // Version 1 is the first: nothing older to migrate yet.
            check_schema(&txn, &path, SYSTEM_SCHEMA_VERSION)?;
            txn.open_table(TENANTS)?;
        }
        txn.commit()?;
        Ok(System { db, layout: layout.clone() })
    }

    /// The data layout this registry belongs to.
    pub fn layout(&self) -> &DataLayout {
        &self.layout
    }

    /// Registers a tenant and creates its folder. Refuses a code already in use.
    pub fn create_tenant(&self, code: &TenantCode, name: &str) -> Result<Tenant> {
        let name = name.trim();
        let tenant = Tenant { code: code.clone(), name: name.to_string(), created: now() };
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

pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
