//! The harvests a library has open: for each, the catalogue snapshot its pages are read
//! from and the request that began it, behind a random id that its resumption tokens carry.
//!
//! A token is `{harvest id}.{datestamp}.{bib id}.{cursor}`: the harvest, where the page
//! before it ended, and how many entries came before. Answering from the harvest's own
//! snapshot means every page of one harvest sees the same catalogue, whatever is added,
//! changed or deleted meanwhile: no entry is repeated or skipped, and asking for the same
//! token again gives the same page (a harvester retrying after a timeout). What changed
//! during the harvest has a datestamp after it began and comes with the next incremental
//! harvest (`from` = this one's responseDate). A harvest not used for [`HARVEST_IDLE`] is
//! dropped, as are the least recently used beyond [`MAX_HARVESTS`], and all of them when
//! the server restarts: their tokens are then `badResumptionToken`, and the harvester
//! starts again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use catalogue::{OaiCursor, OaiSnapshot};

use super::OaiError;
use super::request::ListRequest;

/// How long a harvest lives after its last page was asked for.
pub(crate) const HARVEST_IDLE: Duration = Duration::from_secs(30 * 60);

/// At most this many harvests are open per library: each holds a snapshot, which keeps the
/// catalogue file from reusing the pages the snapshot sees.
pub(crate) const MAX_HARVESTS: usize = 32;

/// One open harvest.
pub(crate) struct Harvest {
    /// Its random id (32 hex digits).
    pub(crate) id: String,
    /// The catalogue as it was when the harvest began.
    pub(crate) snapshot: OaiSnapshot,
    /// The first request: verb, format, datestamps, set.
    pub(crate) request: ListRequest,
    /// How many entries the whole list has (completeListSize).
    pub(crate) complete: u64,
}

/// A position in a harvest, as a resumption token says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    /// Where the page before ended.
    pub(crate) after: OaiCursor,
    /// Entries before this page.
    pub(crate) cursor: u64,
}

impl Harvest {
    /// The token of the page after `position`.
    pub(crate) fn token(&self, position: Position) -> String {
        format!("{}.{}.{}.{}", self.id, position.after.0, position.after.1, position.cursor)
    }
}

struct Open {
    harvest: Arc<Harvest>,
    last_used: Instant,
}

/// The open harvests of one library.
#[derive(Default)]
pub(crate) struct Harvests {
    open: Mutex<HashMap<String, Open>>,
}

impl Harvests {
    /// Keeps a new harvest open and returns it (with its new id).
    pub(crate) fn begin(
        &self,
        snapshot: OaiSnapshot,
        request: ListRequest,
        complete: u64,
    ) -> Result<Arc<Harvest>, OaiError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|_| OaiError::Internal("no randomness for a harvest id".to_owned()))?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let harvest = Arc::new(Harvest { id: id.clone(), snapshot, request, complete });
        let now = Instant::now();
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        open.retain(|_, o| now.duration_since(o.last_used) < HARVEST_IDLE);
        while open.len() >= MAX_HARVESTS {
            let Some(oldest) = open.iter().min_by_key(|(_, o)| o.last_used).map(|(k, _)| k.clone()) else {
                break;
            };
            open.remove(&oldest);
        }
        open.insert(id, Open { harvest: harvest.clone(), last_used: now });
        Ok(harvest)
    }

    /// The harvest and position a token names, if the harvest is still open; refreshes it.
    pub(crate) fn resume(&self, token: &str) -> Result<(Arc<Harvest>, Position), OaiError> {
        let bad = |why: &str| OaiError::BadResumptionToken(format!("{why}: start the harvest again without a token"));
        let mut parts = token.split('.');
        let (Some(id), Some(stamp), Some(bib), Some(cursor), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("this is not a resumption token of this repository"));
        };
        let (Ok(stamp), Ok(bib), Ok(cursor)) = (stamp.parse::<i64>(), bib.parse::<u64>(), cursor.parse::<u64>()) else {
            return Err(bad("this is not a resumption token of this repository"));
        };
        let now = Instant::now();
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match open.get_mut(id) {
            Some(entry) if now.duration_since(entry.last_used) < HARVEST_IDLE => {
                entry.last_used = now;
                if cursor > entry.harvest.complete {
                    return Err(bad("the token points past the end of its list"));
                }
                Ok((entry.harvest.clone(), Position { after: (stamp, bib), cursor }))
            }
            Some(_) => {
                open.remove(id);
                Err(bad("the harvest of this token has expired"))
            }
            None => Err(bad("the harvest of this token has expired or was never begun here")),
        }
    }

    /// When a harvest used now expires, for the token's expirationDate.
    pub(crate) fn expires_at() -> SystemTime {
        SystemTime::now() + HARVEST_IDLE
    }
}
