//! What an OAI-PMH harvester reads: every record and every deletion with its datestamp, in
//! datestamp order, and the NDC classes that are the repository's sets.
//!
//! Two tables, written in the same transaction as the record they describe (by
//! `store::upsert` and `store::delete`, never elsewhere):
//! - `oai_stamps`: `(datestamp, bib id)` -> a status byte (0 live, 1 deleted) followed by the
//!   record's NDC first-level classes as ASCII digits (`"9"`, `"49"`, or none): the order of
//!   a harvest, and a tombstone for every deletion, kept for good (deletedRecord
//!   `persistent`);
//! - `oai_stamp_of`: bib id -> its datestamp, so a change can find and move the old entry.
//!
//! A harvest reads through one [`OaiSnapshot`] (a redb read transaction): the pages of a
//! `ListRecords` answered from the same snapshot see the catalogue as it was when the
//! harvest began, however it changes meanwhile, so no page repeats or skips a record.

use redb::{ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use crate::error::{Error, Result};
use crate::marc::record::Record;
use crate::store::{BIBS, Catalogue, StoredBib};

const OAI_STAMPS: TableDefinition<'_, (i64, u64), &[u8]> = TableDefinition::new("oai_stamps");
const OAI_STAMP_OF: TableDefinition<'_, u64, i64> = TableDefinition::new("oai_stamp_of");

const LIVE: u8 = 0;
const DELETED: u8 = 1;

/// Creates the tables if missing (every open).
pub(crate) fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(OAI_STAMPS)?;
    txn.open_table(OAI_STAMP_OF)?;
    Ok(())
}

/// The NDC first-level classes of a record (084 with $2 `njb*`), as sorted ASCII digits.
pub fn ndc_classes(record: &Record) -> String {
    let mut classes: Vec<u8> = Vec::new();
    for field in record.fields_with_tag("084") {
        if !field.subfield_values('2').next().unwrap_or("").trim().starts_with("njb") {
            continue;
        }
        for number in field.subfield_values('a') {
            if let Some(digit) = number.trim().bytes().next().filter(u8::is_ascii_digit) {
                classes.push(digit);
            }
        }
    }
    classes.sort_unstable();
    classes.dedup();
    String::from_utf8(classes).unwrap_or_default()
}

/// Records that `bib_id` changed at `datestamp` (created, updated, or deleted when
/// `deleted`): its entry moves to the new datestamp. Called inside the write transaction of
/// the change.
pub(crate) fn stamp(txn: &WriteTransaction, bib_id: u64, datestamp: i64, record: &Record, deleted: bool) -> Result<()> {
    let mut of = txn.open_table(OAI_STAMP_OF)?;
    let mut stamps = txn.open_table(OAI_STAMPS)?;
    let old = of.insert(bib_id, datestamp)?.map(|v| v.value());
    if let Some(old) = old {
        stamps.remove((old, bib_id))?;
    }
    let mut value = vec![if deleted { DELETED } else { LIVE }];
    value.extend_from_slice(ndc_classes(record).as_bytes());
    stamps.insert((datestamp, bib_id), value.as_slice())?;
    Ok(())
}

/// Schema 5 -> 6: an entry for every stored record at its last change, and a tombstone for
/// each deletion still in the change feed (at `now`: when it happened is not kept there).
/// Deletions already pruned from the feed before this version cannot be known.
pub(crate) fn migrate(txn: &WriteTransaction, deleted_in_feed: &[u64], now: i64) -> Result<u64> {
    let mut live = Vec::new();
    {
        let bibs = txn.open_table(BIBS)?;
        for row in bibs.iter()? {
            let (id, value) = row?;
            let bib = StoredBib::decode(id.value(), value.value())?;
            live.push((bib.id, bib.updated, ndc_classes(&bib.record()?)));
        }
    }
    let mut of = txn.open_table(OAI_STAMP_OF)?;
    let mut stamps = txn.open_table(OAI_STAMPS)?;
    let count = live.len() as u64;
    for (id, updated, classes) in live {
        let mut value = vec![LIVE];
        value.extend_from_slice(classes.as_bytes());
        of.insert(id, updated)?;
        stamps.insert((updated, id), value.as_slice())?;
    }
    for &id in deleted_in_feed {
        if of.get(id)?.is_none() {
            of.insert(id, now)?;
            stamps.insert((now, id), [DELETED].as_slice())?;
        }
    }
    Ok(count)
}

/// After a restore: the restored file's entries (records and tombstones) are all stamped
/// `now`, and every record the replaced file knew that the restored one does not (created
/// after the backup) gets a tombstone at `now`, with the sets it had. A harvester that
/// harvested the replaced catalogue then learns, with its next incremental harvest, what
/// went back (every record is sent again: which ones differ is not worth guessing) and
/// what is gone. `replaced` is the file restored over, when it could be read. A restored
/// file of an older schema is left to its migration (its entries get their records'
/// datestamps).
pub(crate) fn restamp_restored(restored: &redb::Database, replaced: Option<&redb::Database>, now: i64) -> Result<()> {
    let mut known: Vec<(u64, Vec<u8>)> = Vec::new();
    if let Some(replaced) = replaced {
        let txn = replaced.begin_read()?;
        if let Ok(stamps) = txn.open_table(OAI_STAMPS) {
            for row in stamps.iter()? {
                let (key, value) = row?;
                let mut value = value.value().to_vec();
                if let Some(status) = value.first_mut() {
                    *status = DELETED;
                }
                known.push((key.value().1, value));
            }
        }
    }
    let txn = restored.begin_write()?;
    {
        let version = txn.open_table(crate::store::META)?.get("schema_version")?.map(|v| v.value());
        if version != Some(crate::store::SCHEMA_VERSION) {
            return Ok(());
        }
        let mut of = txn.open_table(OAI_STAMP_OF)?;
        let mut stamps = txn.open_table(OAI_STAMPS)?;
        let mut entries = Vec::new();
        for row in stamps.iter()? {
            let (key, value) = row?;
            entries.push((key.value(), value.value().to_vec()));
        }
        for ((stamp, bib), value) in entries {
            stamps.remove((stamp, bib))?;
            stamps.insert((now, bib), value.as_slice())?;
            of.insert(bib, now)?;
        }
        for (bib, tombstone) in known {
            if of.get(bib)?.is_none() {
                stamps.insert((now, bib), tombstone.as_slice())?;
                of.insert(bib, now)?;
            }
        }
    }
    txn.commit()?;
    Ok(())
}

/// Which records a list request selects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OaiSelection {
    /// Datestamps from this second on (inclusive), Unix seconds.
    pub from: Option<i64>,
    /// Datestamps up to this second (inclusive), Unix seconds.
    pub until: Option<i64>,
    /// The set: none (every record), [`OaiSet::Ndc`] or one NDC class.
    pub set: Option<OaiSet>,
}

/// A set of the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OaiSet {
    /// Every record with an NDC number (setSpec `ndc`).
    Ndc,
    /// Records in one NDC first-level class, `b'0'..=b'9'` (setSpec `ndc:9`).
    NdcClass(u8),
}

impl OaiSet {
    /// The set of a setSpec (`ndc`, `ndc:0` … `ndc:9`), or `None` if there is no such set.
    pub fn parse(spec: &str) -> Option<OaiSet> {
        match spec.strip_prefix("ndc") {
            Some("") => Some(OaiSet::Ndc),
            Some(rest) => {
                let digit = rest.strip_prefix(':')?;
                match digit.as_bytes() {
                    [d] if d.is_ascii_digit() => Some(OaiSet::NdcClass(*d)),
                    _ => None,
                }
            }
            None => None,
        }
    }

    /// The setSpec.
    pub fn spec(self) -> String {
        match self {
            OaiSet::Ndc => "ndc".to_owned(),
            OaiSet::NdcClass(d) => format!("ndc:{}", d as char),
        }
    }

    fn contains(self, classes: &[u8]) -> bool {
        match self {
            OaiSet::Ndc => !classes.is_empty(),
            OaiSet::NdcClass(d) => classes.contains(&d),
        }
    }
}

/// One entry of a harvest: a record or a deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaiEntry {
    /// The bib id.
    pub bib_id: u64,
    /// When it was last created, changed or deleted, Unix seconds.
    pub datestamp: i64,
    /// True for a deleted record (a tombstone: no record).
    pub deleted: bool,
    /// The sets it belongs to.
    pub sets: Vec<OaiSet>,
    /// The record, when asked for and not deleted.
    pub record: Option<StoredBib>,
}

/// Where a list stopped: the datestamp and bib id of its last entry.
pub type OaiCursor = (i64, u64);

/// One consistent view of the catalogue for a whole harvest.
pub struct OaiSnapshot {
    txn: ReadTransaction,
}

impl Catalogue {
    /// A snapshot for a harvest: every page read through it sees the catalogue as it is now.
    /// Holding it keeps the file from reusing the pages it sees, so a server holds one only
    /// for a bounded time.
    pub fn oai_snapshot(&self) -> Result<OaiSnapshot> {
        Ok(OaiSnapshot { txn: self.db.begin_read()? })
    }
}

/// The record of an entry that is not deleted: there must be one.
fn read_bib(bibs: &ReadOnlyTable<u64, &[u8]>, bib_id: u64) -> Result<StoredBib> {
    let value =
        bibs.get(bib_id)?.ok_or_else(|| Error::Storage(format!("oai: bib {bib_id} has an entry but no record")))?;
    StoredBib::decode(bib_id, value.value())
}

fn sets_of(classes: &[u8]) -> Vec<OaiSet> {
    let mut sets = Vec::with_capacity(classes.len() + 1);
    if !classes.is_empty() {
        sets.push(OaiSet::Ndc);
    }
    sets.extend(classes.iter().copied().filter(u8::is_ascii_digit).map(OaiSet::NdcClass));
    sets
}

impl OaiSnapshot {
    /// The earliest datestamp of any entry, if there is one.
    pub fn earliest_datestamp(&self) -> Result<Option<i64>> {
        let stamps = self.txn.open_table(OAI_STAMPS)?;
        Ok(stamps.first()?.map(|(key, _)| key.value().0))
    }

    /// Up to `limit` entries of the selection after `after`, in (datestamp, bib id) order,
    /// with their records when `with_records`; and whether more follow.
    pub fn page(
        &self,
        selection: &OaiSelection,
        after: Option<OaiCursor>,
        limit: usize,
        with_records: bool,
    ) -> Result<(Vec<OaiEntry>, bool)> {
        let stamps = self.txn.open_table(OAI_STAMPS)?;
        let bibs = self.txn.open_table(BIBS)?;
        let floor = (selection.from.unwrap_or(i64::MIN), 0u64);
        let start = match after {
            None => floor,
            Some((stamp, id)) => match id.checked_add(1) {
                Some(next) => (stamp, next),
                None => match stamp.checked_add(1) {
                    Some(next) => (next, 0),
                    None => return Ok((Vec::new(), false)),
                },
            },
        };
        let start = start.max(floor);
        let end = (selection.until.unwrap_or(i64::MAX), u64::MAX);
        if start > end {
            return Ok((Vec::new(), false));
        }
        let mut out = Vec::with_capacity(limit.min(1024));
        for row in stamps.range(start..=end)? {
            let (key, value) = row?;
            let (datestamp, bib_id) = key.value();
            let value = value.value();
            let (&status, classes) = value
                .split_first()
                .ok_or_else(|| Error::Storage(format!("oai: the entry of bib {bib_id} is empty")))?;
            if let Some(set) = selection.set
                && !set.contains(classes)
            {
                continue;
            }
            if out.len() == limit {
                return Ok((out, true));
            }
            let deleted = status == DELETED;
            let record = if with_records && !deleted { Some(read_bib(&bibs, bib_id)?) } else { None };
            out.push(OaiEntry { bib_id, datestamp, deleted, sets: sets_of(classes), record });
        }
        Ok((out, false))
    }

    /// How many entries the selection has in all (a list's completeListSize).
    pub fn count(&self, selection: &OaiSelection) -> Result<u64> {
        let stamps = self.txn.open_table(OAI_STAMPS)?;
        let start = (selection.from.unwrap_or(i64::MIN), 0);
        let end = (selection.until.unwrap_or(i64::MAX), u64::MAX);
        if start > end {
            return Ok(0);
        }
        let mut count = 0;
        for row in stamps.range(start..=end)? {
            let (_, value) = row?;
            let value = value.value();
            let classes = value.get(1..).unwrap_or_default();
            if selection.set.is_none_or(|set| set.contains(classes)) {
                count += 1;
            }
        }
        Ok(count)
    }

    /// The entry of one bib id (live or deleted), with its record when `with_record`.
    pub fn entry(&self, bib_id: u64, with_record: bool) -> Result<Option<OaiEntry>> {
        let of = self.txn.open_table(OAI_STAMP_OF)?;
        let Some(datestamp) = of.get(bib_id)?.map(|v| v.value()) else {
            return Ok(None);
        };
        let stamps = self.txn.open_table(OAI_STAMPS)?;
        let value = stamps
            .get((datestamp, bib_id))?
            .ok_or_else(|| Error::Storage(format!("oai: bib {bib_id} has a datestamp but no entry")))?;
        let value = value.value().to_vec();
        let deleted = value.first() == Some(&DELETED);
        let record = if with_record && !deleted { Some(read_bib(&self.txn.open_table(BIBS)?, bib_id)?) } else { None };
        Ok(Some(OaiEntry { bib_id, datestamp, deleted, sets: sets_of(value.get(1..).unwrap_or_default()), record }))
    }

    /// Live records per NDC first-level class (index 0 is class 0), and live records with
    /// any NDC number: what ListSets offers.
    pub fn class_counts(&self) -> Result<([u64; 10], u64)> {
        let stamps = self.txn.open_table(OAI_STAMPS)?;
        let mut classes = [0u64; 10];
        let mut any = 0;
        for row in stamps.iter()? {
            let (_, value) = row?;
            let value = value.value();
            if value.first() != Some(&LIVE) || value.len() < 2 {
                continue;
            }
            any += 1;
            for &digit in &value[1..] {
                if digit.is_ascii_digit() {
                    classes[(digit - b'0') as usize] += 1;
                }
            }
        }
        Ok((classes, any))
    }
}

#[cfg(test)]
mod tests {
    use super::OaiSet;

    #[test]
    fn set_specs_round_trip_and_refuse_others() {
        assert_eq!(OaiSet::parse("ndc"), Some(OaiSet::Ndc));
        assert_eq!(OaiSet::parse("ndc:9"), Some(OaiSet::NdcClass(b'9')));
        assert_eq!(OaiSet::parse("ndc:9").map(OaiSet::spec).as_deref(), Some("ndc:9"));
        for bad in ["", "ndc:", "ndc:91", "ndc:x", "ndcx", "lang:jpn", "ndc:9:1"] {
            assert_eq!(OaiSet::parse(bad), None, "{bad}");
        }
        assert!(OaiSet::Ndc.contains(b"9"));
        assert!(!OaiSet::Ndc.contains(b""));
        assert!(OaiSet::NdcClass(b'4').contains(b"49"));
        assert!(!OaiSet::NdcClass(b'3').contains(b"49"));
    }
}
