//! Where each tenant's files live under the data folder (DESIGN.md "Data layout").

use std::path::{Path, PathBuf};

use crate::tenant::TenantCode;

/// The data folder: `system.redb` plus one folder per tenant. Every tenant path is
/// built from a [`TenantCode`], so no path can name another tenant's files by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLayout {
    root: PathBuf,
}

impl DataLayout {
    /// The layout under `root` (the `--data` folder, `./shiori-data` by default).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The data folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The tenants registry, operator accounts and sessions.
    pub fn system_file(&self) -> PathBuf {
        self.root.join("system.redb")
    }

    /// The deployment's own logs (requests outside any library, operators' actions).
    pub fn system_logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// The deployment's audit log (operators' actions).
    pub fn system_audit_log(&self) -> PathBuf {
        self.system_logs_dir().join("audit.log")
    }

    /// Demo mode's staff credentials (never present outside demo mode).
    pub fn demo_credentials_file(&self) -> PathBuf {
        self.root.join("demo-credentials.json")
    }

    /// The folder holding everything of one tenant; deleting it deletes the tenant.
    pub fn tenant_dir(&self, tenant: &TenantCode) -> PathBuf {
        self.root.join("tenants").join(tenant.as_str())
    }

    /// The tenant's catalogue, circulation and change feed.
    pub fn catalogue_file(&self, tenant: &TenantCode) -> PathBuf {
        self.tenant_dir(tenant).join("catalogue.redb")
    }

    /// The tenant's tantivy index (derived from the catalogue).
    pub fn index_dir(&self, tenant: &TenantCode) -> PathBuf {
        self.tenant_dir(tenant).join("index")
    }

    /// Generations of catalogue snapshots.
    pub fn backups_dir(&self, tenant: &TenantCode) -> PathBuf {
        self.tenant_dir(tenant).join("backups")
    }

    /// Access and audit logs.
    pub fn logs_dir(&self, tenant: &TenantCode) -> PathBuf {
        self.tenant_dir(tenant).join("logs")
    }

    /// The tenant's audit log: append-only, hash-chained.
    pub fn audit_log(&self, tenant: &TenantCode) -> PathBuf {
        self.logs_dir(tenant).join("audit.log")
    }

    /// The tenant's access log of one day in Japan: `logs/access-YYYY-MM-DD.log`.
    pub fn access_log(&self, tenant: &TenantCode, date: jiff::civil::Date) -> PathBuf {
        self.logs_dir(tenant).join(format!("access-{date}.log"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tenant_path_is_inside_its_own_folder() -> crate::Result<()> {
        let layout = DataLayout::new("/srv/shiori");
        let a: TenantCode = "city-a".parse()?;
        let b: TenantCode = "city-b".parse()?;
        let day = jiff::civil::date(2026, 4, 1);
        for path in [
            layout.catalogue_file(&a),
            layout.index_dir(&a),
            layout.backups_dir(&a),
            layout.logs_dir(&a),
            layout.audit_log(&a),
            layout.access_log(&a, day),
        ] {
            assert!(path.starts_with(layout.tenant_dir(&a)));
            assert!(!path.starts_with(layout.tenant_dir(&b)));
        }
        assert_eq!(layout.system_file(), Path::new("/srv/shiori/system.redb"));
        assert_eq!(layout.access_log(&a, day), Path::new("/srv/shiori/tenants/city-a/logs/access-2026-04-01.log"));
        assert!(!layout.system_logs_dir().starts_with(layout.root().join("tenants")));
        Ok(())
    }
}
