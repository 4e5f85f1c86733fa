//! The daily backups while the server runs: every library at the configured hour in Japan
//! (03:00 by default), and at start-up every library whose latest backup is a day old or
//! missing. Backups run on a blocking thread, one library after another, while the
//! libraries stay open (a backup is one read transaction: see `catalogue::Catalogue::backup`).

use std::time::Duration;

use catalogue::{AuditEvent, BackupReport};
use jiff::{SignedDuration, Timestamp};

use super::{AppState, Library};

/// Who the audit log says made a backup of the server's own accord.
const PRINCIPAL: &str = "system:backup";

/// A library whose latest backup is older than this is backed up at start-up.
const MAX_AGE: SignedDuration = SignedDuration::from_hours(24);

/// The next `hour`:00 in Japan strictly after `now`.
pub(crate) fn next_run(now: Timestamp, hour: u8) -> Timestamp {
    let jst = jiff::tz::TimeZone::fixed(jiff::tz::offset(9));
    let here = now.to_zoned(jst.clone());
    let today = here.date().at(hour as i8, 0, 0, 0);
    let candidate = today.to_zoned(jst.clone()).map(|z| z.timestamp()).unwrap_or(now);
    if candidate > now { candidate } else { candidate + SignedDuration::from_hours(24) }
}

/// Backs up one library and writes the audit line (blocking).
pub(crate) fn back_up(state: &AppState, library: &Library) -> catalogue::Result<BackupReport> {
    let report = library.catalogue.backup(state.layout(), state.clock().now())?;
    let removed: Vec<String> =
        report.removed.iter().filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
    let event = AuditEvent::new(PRINCIPAL, "backup.create", format!("backup {}", report.backup.name))
        .after(serde_json::json!({ "bytes": report.backup.bytes, "entries": report.entries(), "removed": removed }));
    state.audit(Some(&library.tenant.code), &event);
    Ok(report)
}

/// Backs up every library (or only those whose latest backup is older than a day), logging
/// each outcome; one library failing does not stop the others.
fn back_up_all(state: &AppState, only_due: bool) {
    let now = state.clock().now();
    for library in state.libraries() {
        let code = &library.tenant.code;
        if only_due {
            match catalogue::list_backups(state.layout(), code) {
                Ok(backups) if backups.last().is_some_and(|latest| now.duration_since(latest.time) < MAX_AGE) => {
                    continue;
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(tenant = %code, error = %err, "cannot list backups"),
            }
        }
        let started = std::time::Instant::now();
        match back_up(state, library) {
            Ok(report) => tracing::info!(
                tenant = %code,
                backup = %report.backup.name,
                bytes = report.backup.bytes,
                entries = report.entries(),
                removed = report.removed.len(),
                seconds = started.elapsed().as_secs_f64(),
                "backup"
            ),
            Err(err) => tracing::error!(tenant = %code, error = %err, "backup failed"),
        }
    }
}

/// The task `serve` runs: start-up backups of libraries that are due, then every library
/// each day at `hour` in Japan.
pub(crate) async fn daily(state: AppState, hour: u8) {
    let first = state.clone();
    if let Err(err) = tokio::task::spawn_blocking(move || back_up_all(&first, true)).await {
        tracing::error!(error = %err, "start-up backups panicked");
    }
    loop {
        let now = state.clock().now();
        let wait = next_run(now, hour).duration_since(now);
        let wait = Duration::try_from(wait).unwrap_or(Duration::from_secs(60)).max(Duration::from_secs(1));
        tokio::time::sleep(wait).await;
        let state = state.clone();
        if let Err(err) = tokio::task::spawn_blocking(move || back_up_all(&state, false)).await {
            tracing::error!(error = %err, "daily backups panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_run_is_the_next_such_hour_in_japan() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        // 02:59 in Japan: today at 03:00.
        assert_eq!(next_run(at("2026-03-31T17:59:00Z"), 3), at("2026-03-31T18:00:00Z"));
        // 03:00 exactly, and later: tomorrow.
        assert_eq!(next_run(at("2026-03-31T18:00:00Z"), 3), at("2026-04-01T18:00:00Z"));
        assert_eq!(next_run(at("2026-04-01T05:00:00Z"), 3), at("2026-04-01T18:00:00Z"));
        // 23:00 in Japan is 14:00 UTC.
        assert_eq!(next_run(at("2026-04-01T05:00:00Z"), 23), at("2026-04-01T14:00:00Z"));
    }
}
