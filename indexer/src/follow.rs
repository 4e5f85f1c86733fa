//! Following the change feed: the background task that keeps an index current.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use catalogue::Catalogue;

use crate::error::Result;
use crate::index::Index;

/// At most this many changes per commit, so a large import becomes visible in steps.
const BATCH: usize = 5_000;

/// Starts a thread that applies the catalogue's change feed to `index` every `poll` until
/// `stop` is set: a change becomes searchable within about `poll` plus one commit. It
/// resumes from the index's own checkpoint, so stopping and starting again (or a crash)
/// loses nothing and applies nothing twice. The thread returns the first error it meets.
pub fn follow(
    index: Arc<Index>,
    catalogue: Arc<Catalogue>,
    poll: Duration,
    stop: Arc<AtomicBool>,
) -> JoinHandle<Result<()>> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let applied = index.apply_changes(&catalogue, BATCH)?;
            if applied.changes < BATCH {
                std::thread::sleep(poll);
            }
        }
        Ok(())
    })
}
