//! Deleting a library when its contract ends: its registration, staff accounts, sessions
//! and switches in `system.redb`, and every file under its folder (catalogue, index,
//! backups, logs, anything else), said path by path.

use std::path::{Path, PathBuf};

use redb::ReadableTable;

use crate::error::{Error, Result};
use crate::layout::DataLayout;
use crate::security::accounts::{ACCOUNTS, AccountId, ROLE_POLICIES, Scope, usernames_in};
use crate::security::login::LOGIN_FAILURES;
use crate::security::sessions::end_sessions_of;
use crate::system::{System, TENANTS};
use crate::tenant::TenantCode;

/// What [`System::delete_tenant`] removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionReport {
    /// The library.
    pub tenant: TenantCode,
    /// It was registered (false when only a folder was left from an interrupted deletion).
    pub registered: bool,
    /// Staff accounts deleted.
    pub accounts: usize,
    /// Sessions ended.
    pub sessions: usize,
    /// Backup generations removed (their files are among `removed`).
    pub backups: usize,
    /// Every file and folder removed, children before their folder, then the library's
    /// folder (and `demo-credentials.json` if it named this library).
    pub removed: Vec<PathBuf>,
}

impl System {
    /// Deletes a library: in one transaction its registration, its staff accounts, their
    /// sessions and failure counts, and its role switches; then its whole folder, file by
    /// file. Symbolic links are removed, never followed, and a library folder that is not
    /// where the layout puts it inside the data folder (a link to elsewhere) is refused
    /// before anything is touched ([`Error::UnsafePath`]).
    ///
    /// Close the library first (its catalogue, index, followers, open logs). If the folder
    /// removal fails half-way, running this again finishes it: an unregistered library
    /// whose folder remains is still deleted. A code with neither registration nor folder
    /// is [`Error::UnknownTenant`].
    pub fn delete_tenant(&self, code: &TenantCode) -> Result<DeletionReport> {
        let folder = tenant_folder(&self.layout, code)?;
        let txn = self.db.begin_write()?;
        let registered = txn.open_table(TENANTS)?.remove(code.as_str())?.is_some();
        let scope = Scope::Tenant(code.clone());
        let staff = usernames_in(&txn.open_table(ACCOUNTS)?, &scope)?;
        let mut sessions = 0;
        {
            let mut accounts = txn.open_table(ACCOUNTS)?;
            for (username, _) in &staff {
                accounts.remove((scope.key(), username.as_str()))?;
            }
        }
        for (username, _) in &staff {
            sessions += end_sessions_of(&txn, &AccountId { scope: scope.clone(), username: username.clone() }, None)?;
        }
        txn.open_table(ROLE_POLICIES)?.remove(code.as_str())?;
        {
            let mut failures = txn.open_table(LOGIN_FAILURES)?;
            let mut names = Vec::new();
            for entry in failures.range((scope.key(), "")..)? {
                let (key, _) = entry?;
                let (key_scope, name) = key.value();
                if key_scope != scope.key() {
                    break;
                }
                names.push(name.to_string());
            }
            for name in names {
                failures.remove((scope.key(), name.as_str()))?;
            }
        }
        if !registered && folder.is_none() && staff.is_empty() {
            return Err(Error::UnknownTenant(code.to_string()));
        }
        txn.commit()?;

        let mut removed = Vec::new();
        let mut backups = 0;
        if let Some(folder) = folder {
            remove_tree(&folder, &mut removed)?;
            let backups_dir = folder.join("backups");
            backups = removed
                .iter()
                .filter(|path| path.parent() == Some(backups_dir.as_path()))
                .filter_map(|path| path.file_name()?.to_str()?.strip_suffix(".redb"))
                .filter(|name| crate::backup::parse_backup_name(name).is_some())
                .count();
        }
        // Demo credentials of this library name an account that no longer exists.
        let demo = self.layout.demo_credentials_file();
        if crate::security::demo::credentials_of(&demo)?.is_some_and(|c| c.tenant == *code) {
            std::fs::remove_file(&demo).map_err(Error::io(&demo))?;
            removed.push(demo);
        }
        Ok(DeletionReport { tenant: code.clone(), registered, accounts: staff.len(), sessions, backups, removed })
    }
}

/// The library's folder, canonical, if it exists; refused unless it is a real folder at
/// `<data>/tenants/<code>` once every link is resolved.
fn tenant_folder(layout: &DataLayout, code: &TenantCode) -> Result<Option<PathBuf>> {
    let dir = layout.tenant_dir(code);
    match std::fs::symlink_metadata(&dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Io { path: dir, source: e }),
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(Error::UnsafePath { path: dir, reason: "the library's folder is a symbolic link" });
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(Error::UnsafePath { path: dir, reason: "the library's folder is not a folder" });
        }
        Ok(_) => {}
    }
    let root = std::fs::canonicalize(layout.root()).map_err(Error::io(layout.root()))?;
    let canonical = std::fs::canonicalize(&dir).map_err(Error::io(&dir))?;
    if canonical != root.join("tenants").join(code.as_str()) {
        return Err(Error::UnsafePath { path: dir, reason: "the library's folder is outside the data folder" });
    }
    Ok(Some(canonical))
}

/// Removes `path` and everything under it without following links, recording each path.
fn remove_tree(path: &Path, removed: &mut Vec<PathBuf>) -> Result<()> {
    let meta = std::fs::symlink_metadata(path).map_err(Error::io(path))?;
    if meta.is_dir() {
        let mut children: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(Error::io(path))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<std::io::Result<_>>()
            .map_err(Error::io(path))?;
        children.sort();
        for child in children {
            remove_tree(&child, removed)?;
        }
        std::fs::remove_dir(path).map_err(Error::io(path))?;
    } else {
        // Files and symbolic links (the link itself, not what it points to).
        std::fs::remove_file(path).map_err(Error::io(path))?;
    }
    removed.push(path.to_path_buf());
    Ok(())
}
