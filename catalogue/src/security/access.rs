//! The access log: one JSON line per request, a file per library and Japanese day
//! (`DATA/tenants/<code>/logs/access-YYYY-MM-DD.log`; requests outside any library go to
//! `DATA/logs/access-YYYY-MM-DD.log`), kept [`ACCESS_LOG_RETENTION_DAYS`] days.
//!
//! ```text
//! {"time":"2026-04-01T10:00:00.123+09:00","tenant":"shiori-city","principal":"shiori-city/yamada","method":"POST","route":"/api/v1/{tenant}/circulation/checkout","status":200,"latency_ms":3.2,"client":"192.0.2.1"}
//! ```
//!
//! `route` is the matched route template, never the URL: a query string holds what a
//! patron searched for, which is theirs, not the log's.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::layout::DataLayout;
use crate::security::clock::{jst, jst_rfc3339};
use crate::tenant::TenantCode;

/// Access logs are deleted when their day is more than this many days before today (six
/// months).
pub const ACCESS_LOG_RETENTION_DAYS: i64 = 183;

/// One request.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessEntry {
    /// When the request arrived.
    pub time: Timestamp,
    /// The library of the URL, if any; the line goes to its log.
    pub tenant: Option<TenantCode>,
    /// The session's principal ([`Principal`](crate::Principal)'s display form), if any.
    pub principal: Option<String>,
    /// `GET`, `POST`, …
    pub method: String,
    /// The matched route template (`/api/v1/{tenant}/search`), or `-` when none matched.
    pub route: String,
    /// The response status.
    pub status: u16,
    /// Time to the response, in milliseconds.
    pub latency_ms: f64,
    /// The client's address.
    pub client: Option<String>,
}

#[derive(Serialize)]
struct Line<'a> {
    time: String,
    tenant: Option<&'a str>,
    principal: Option<&'a str>,
    method: &'a str,
    route: &'a str,
    status: u16,
    latency_ms: f64,
    client: Option<&'a str>,
}

struct OpenLog {
    date: Date,
    file: File,
}

/// Writes access logs, a file per library (or the deployment) and Japanese day: when an
/// entry's day differs from the open file's, the next file is opened and files past the
/// retention period are deleted. One per server, shared; lines are written whole, with one
/// `write` each, not synced (a crash may lose the last lines, never tear them).
pub struct AccessLogs {
    layout: DataLayout,
    open: Mutex<HashMap<Option<TenantCode>, OpenLog>>,
}

impl std::fmt::Debug for AccessLogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLogs").field("layout", &self.layout).finish_non_exhaustive()
    }
}

impl AccessLogs {
    /// The access logs of a data folder.
    pub fn new(layout: &DataLayout) -> Self {
        Self { layout: layout.clone(), open: Mutex::new(HashMap::new()) }
    }

    /// Appends an entry to its library's log of the entry's day. A library whose folder is
    /// gone (deleted) is not written to, and its folder is not made again.
    pub fn record(&self, entry: &AccessEntry) -> Result<()> {
        let layout = &self.layout;
        let date = entry.time.to_zoned(jst()).date();
        let line = Line {
            time: jst_rfc3339(entry.time),
            tenant: entry.tenant.as_ref().map(TenantCode::as_str),
            principal: entry.principal.as_deref(),
            method: &entry.method,
            route: &entry.route,
            status: entry.status,
            latency_ms: (entry.latency_ms * 1000.0).round() / 1000.0,
            client: entry.client.as_deref(),
        };
        let mut text = serde_json::to_string(&line).map_err(|e| Error::Storage(format!("an access line: {e}")))?;
        text.push('\n');

        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let current = open.get(&entry.tenant).filter(|log| log.date == date).is_some();
        if !current {
            open.remove(&entry.tenant);
            let dir = logs_dir(layout, entry.tenant.as_ref())?;
            let path = dir.join(file_name(date));
            let file = OpenOptions::new().append(true).create(true).open(&path).map_err(Error::io(&path))?;
            open.insert(entry.tenant.clone(), OpenLog { date, file });
            // A new day: time to drop the files that are past keeping.
            purge_dir(&dir, entry.time)?;
        }
        let log = open.get_mut(&entry.tenant).ok_or_else(|| Error::Storage("access log not open".into()))?;
        let path = || layout_log_path(layout, entry.tenant.as_ref(), date);
        log.file.write_all(text.as_bytes()).map_err(Error::io(path()))
    }

    /// Closes a library's open file (before deleting the library).
    pub fn forget(&self, tenant: &TenantCode) {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).remove(&Some(tenant.clone()));
    }
}

fn layout_log_path(layout: &DataLayout, tenant: Option<&TenantCode>, date: Date) -> PathBuf {
    match tenant {
        Some(code) => layout.access_log(code, date),
        None => layout.system_logs_dir().join(file_name(date)),
    }
}

/// The logs folder, made if needed; a library's only inside its existing folder.
fn logs_dir(layout: &DataLayout, tenant: Option<&TenantCode>) -> Result<PathBuf> {
    let (home, dir) = match tenant {
        Some(code) => (layout.tenant_dir(code), layout.logs_dir(code)),
        None => (layout.root().to_path_buf(), layout.system_logs_dir()),
    };
    if !home.is_dir() {
        return Err(Error::Io {
            path: home,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "the folder of this log does not exist"),
        });
    }
    std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
    Ok(dir)
}

fn file_name(date: Date) -> String {
    format!("access-{date}.log")
}

/// The day of an access log's file name, if it is one.
fn date_of(name: &str) -> Option<Date> {
    name.strip_prefix("access-")?.strip_suffix(".log")?.parse().ok()
}

/// Deletes the access logs of a library (`None`: the deployment's) whose day is more than
/// [`ACCESS_LOG_RETENTION_DAYS`] days before `now`'s day in Japan, by the date in the file
/// name; the files deleted. Other files are left alone.
pub fn purge_access_logs(layout: &DataLayout, tenant: Option<&TenantCode>, now: Timestamp) -> Result<Vec<PathBuf>> {
    let dir = match tenant {
        Some(code) => layout.logs_dir(code),
        None => layout.system_logs_dir(),
    };
    purge_dir(&dir, now)
}

fn purge_dir(dir: &Path, now: Timestamp) -> Result<Vec<PathBuf>> {
    let today = now.to_zoned(jst()).date();
    let oldest_kept = today.checked_sub(jiff::Span::new().days(ACCESS_LOG_RETENTION_DAYS)).unwrap_or(today);
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::Io { path: dir.to_path_buf(), source: e }),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io(dir))?;
        let name = entry.file_name();
        let Some(date) = name.to_str().and_then(date_of) else { continue };
        if date < oldest_kept && entry.file_type().is_ok_and(|t| t.is_file()) {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(Error::io(&path))?;
            removed.push(path);
        }
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let date = jiff::civil::date(2026, 4, 1);
        assert_eq!(file_name(date), "access-2026-04-01.log");
        assert_eq!(date_of("access-2026-04-01.log"), Some(date));
        assert_eq!(date_of("audit.log"), None);
        assert_eq!(date_of("access-2026-13-01.log"), None);
    }
}
