//! One tenant's catalogue: MARC records in `catalogue.redb`, their lookups, and the
//! change feed. Every write that changes a record (or, through `circulation`, what the
//! OPAC shows of it) appends to the feed in the same transaction, so the feed can never
//! miss or invent a change (see docs/catalogue-format.md).

use redb::{
    Database, MultimapTableDefinition, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    WriteTransaction,
};
use sha2::{Digest, Sha256};

use crate::circulation;
use crate::error::{Error, Result};
use crate::isbn::isbn13;
use crate::layout::DataLayout;
use crate::marc::iso2709;
use crate::marc::record::{Record, Tag};
use crate::system::{check_schema, now};
use crate::tenant::TenantCode;

pub(crate) const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
pub(crate) const BIBS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("bibs");
pub(crate) const BIB_BY_CONTROL: TableDefinition<'_, &str, u64> = TableDefinition::new("bib_by_control");
const BIB_BY_ISBN: MultimapTableDefinition<'_, &str, u64> = MultimapTableDefinition::new("bib_by_isbn");
const CHANGES: TableDefinition<'_, u64, (u64, u8)> = TableDefinition::new("changes");

/// The newest catalogue schema this binary reads and writes: 1 the records and the change
/// feed, 2 adds circulation (branches, items, patrons, loans), 3 loan rules, calendars,
/// holds, the outbox of notices, reading records and monthly loan counters, 4 patrons' OPAC
/// passwords and sessions, 5 patrons' second factor (TOTP) and login challenges, 6 the
/// datestamps and tombstones an OAI-PMH harvest reads, 7 cataloguing (previous versions of
/// records, copies' acquisition and withdrawal, copy-cataloguing targets, barcode ranges).
pub const SCHEMA_VERSION: u64 = 7;

/// What happened to a record in the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// A new record.
    Created,
    /// A record's content changed.
    Updated,
    /// A record was deleted.
    Deleted,
    /// The record is unchanged but its holdings are not: an item was added, changed or
    /// deleted, or lent, returned or renewed; a hold was placed, set aside, cancelled,
    /// expired or fulfilled (availability, due dates and hold counts changed).
    Holdings,
}

impl ChangeKind {
    fn code(self) -> u8 {
        match self {
            ChangeKind::Created => 1,
            ChangeKind::Updated => 2,
            ChangeKind::Deleted => 3,
            ChangeKind::Holdings => 4,
        }
    }

    fn from_code(code: u8) -> Option<ChangeKind> {
        Some(match code {
            1 => ChangeKind::Created,
            2 => ChangeKind::Updated,
            3 => ChangeKind::Deleted,
            4 => ChangeKind::Holdings,
            _ => return None,
        })
    }
}

/// One entry of the change feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Sequence number, strictly increasing, never reused.
    pub seq: u64,
    /// The bibliographic record concerned.
    pub bib_id: u64,
    /// What happened.
    pub kind: ChangeKind,
}

/// A record as stored, with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBib {
    /// The bib id (stable for the record's life in this tenant).
    pub id: u64,
    /// 1 when created, +1 on every change of content.
    pub version: u32,
    /// Created, seconds since the Unix epoch.
    pub created: i64,
    /// Last changed, seconds since the Unix epoch.
    pub updated: i64,
    /// Where the last version came from (the import file name).
    pub source: String,
    /// The record as UTF-8 ISO 2709.
    pub marc: Vec<u8>,
}

impl StoredBib {
    /// The stored record, parsed.
    pub fn record(&self) -> Result<Record> {
        iso2709::parse(&self.marc)
            .map(|(record, _)| record)
            .map_err(|e| Error::Storage(format!("bib {} is unreadable: {}", self.id, e.reason)))
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let source = self.source.as_bytes();
        let source = &source[..source.len().min(u16::MAX as usize)];
        let mut out = Vec::with_capacity(23 + source.len() + self.marc.len());
        out.push(1u8);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.created.to_le_bytes());
        out.extend_from_slice(&self.updated.to_le_bytes());
        out.extend_from_slice(&(source.len() as u16).to_le_bytes());
        out.extend_from_slice(source);
        out.extend_from_slice(&self.marc);
        out
    }

    pub(crate) fn decode(id: u64, bytes: &[u8]) -> Result<StoredBib> {
        let corrupt = || Error::Storage(format!("bib {id}: stored value is damaged"));
        let (&layout, rest) = bytes.split_first().ok_or_else(corrupt)?;
        if layout != 1 || rest.len() < 22 {
            return Err(corrupt());
        }
        let u32_at = |at: usize| rest.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes);
        let i64_at = |at: usize| rest.get(at..at + 8).and_then(|b| b.try_into().ok()).map(i64::from_le_bytes);
        let source_len =
            rest.get(20..22).and_then(|b| b.try_into().ok()).map(u16::from_le_bytes).ok_or_else(corrupt)?;
        let source = rest.get(22..22 + source_len as usize).ok_or_else(corrupt)?;
        Ok(StoredBib {
            id,
            version: u32_at(0).ok_or_else(corrupt)?,
            created: i64_at(4).ok_or_else(corrupt)?,
            updated: i64_at(12).ok_or_else(corrupt)?,
            source: String::from_utf8_lossy(source).into_owned(),
            marc: rest.get(22 + source_len as usize..).ok_or_else(corrupt)?.to_vec(),
        })
    }
}

/// The result of storing one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new record with this bib id.
    Created(u64),
    /// An existing record (same 003 + 001) whose content changed.
    Updated(u64),
    /// An existing record with identical content: nothing written.
    Unchanged(u64),
}

/// One tenant's catalogue.
pub struct Catalogue {
    pub(crate) db: Database,
    tenant: TenantCode,
}

impl Catalogue {
    /// Opens (creating if needed) the tenant's `catalogue.redb`, migrating an older schema
    /// and refusing a newer one. The caller checks the tenant is registered.
    pub fn open(layout: &DataLayout, tenant: &TenantCode) -> Result<Catalogue> {
        let dir = layout.tenant_dir(tenant);
        std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        let path = layout.catalogue_file(tenant);
        let db = Database::create(&path)?;
        let txn = db.begin_write()?;
        {
            let version = check_schema(&txn, &path, SCHEMA_VERSION)?;
            // Every table is opened, and so created if missing, on every open. Older
            // schemas are then migrated one version at a time inside this transaction, so
            // a crash leaves an old file at its old version, untouched.
            txn.open_table(BIBS)?;
            txn.open_table(BIB_BY_CONTROL)?;
            txn.open_multimap_table(BIB_BY_ISBN)?;
            txn.open_table(CHANGES)?;
            circulation::create_tables(&txn)?;
            crate::oai::create_tables(&txn)?;
            crate::cataloguing::create_tables(&txn)?;
            if version < 2 {
                // 1 -> 2: circulation. Its tables, created just above, are new and start
                // empty; nothing in the version-1 tables changes.
                txn.open_table(META)?.insert("schema_version", 2)?;
            }
            if version < 3 {
                // 2 -> 3: loan rules, calendars, holds, outbox, reading records, counters.
                // Their tables, created just above, start empty (no stored rule: the
                // default applies). Rows of version 2 are read as they are: the new fields
                // of patrons and loans have defaults (no contact or class, no reading
                // record, no overdue notice sent yet).
                txn.open_table(META)?.insert("schema_version", 3)?;
            }
            if version < 4 {
                // 3 -> 4: patrons' OPAC passwords, login failures and sessions. Their
                // tables, created just above, start empty: no patron can log in until a
                // librarian sets a password.
                txn.open_table(META)?.insert("schema_version", 4)?;
            }
            if version < 5 {
                // 4 -> 5: patrons' second factor and the challenges of two-step logins. Their
                // tables, created just above, start empty: every patron logs in with the
                // password alone until they turn the second factor on. The version goes up
                // so that an older binary, which would let such a patron in without a code,
                // refuses the file.
                txn.open_table(META)?.insert("schema_version", 5)?;
            }
            if version < 6 {
                // 5 -> 6: OAI-PMH. Every record gets its entry at its last change; the
                // deletions still in the change feed get tombstones (the feed's older
                // deletions were pruned and cannot be known).
                let mut deleted = Vec::new();
                for row in txn.open_table(CHANGES)?.iter()? {
                    let (_, value) = row?;
                    let (bib_id, code) = value.value();
                    if ChangeKind::from_code(code) == Some(ChangeKind::Deleted) {
                        deleted.push(bib_id);
                    }
                }
                crate::oai::migrate(&txn, &deleted, now())?;
                txn.open_table(META)?.insert("schema_version", 6)?;
            }
            if version < 7 {
                // 6 -> 7: cataloguing. Its tables, created just above, start empty: no
                // previous versions (history starts with the next save), no acquisition
                // date (a copy's is then the day it is first seen), the default targets.
                txn.open_table(META)?.insert("schema_version", 7)?;
            }
        }
        txn.commit()?;
        Ok(Catalogue { db, tenant: tenant.clone() })
    }

    /// The tenant this catalogue belongs to.
    pub fn tenant(&self) -> &TenantCode {
        &self.tenant
    }

    /// The schema version of the open file: always [`SCHEMA_VERSION`], since opening
    /// migrates an older file.
    pub fn schema_version(&self) -> Result<u64> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let version = meta.get("schema_version")?.map(|v| v.value());
        version.ok_or_else(|| Error::Storage("the catalogue has no schema version".into()))
    }

    /// Stores records in one transaction: a record whose 003 + 001 is known updates that
    /// record (or changes nothing if identical), otherwise it is created. A record without
    /// 001 gets a generated control number derived from its content, so importing the same
    /// file twice still finds it. Every change appends to the feed in the same transaction.
    pub fn upsert(&self, records: Vec<Record>, source: &str) -> Result<Vec<Outcome>> {
        let txn = self.db.begin_write()?;
        let mut outcomes = Vec::with_capacity(records.len());
        for record in records {
            outcomes.push(upsert_one(&txn, record, source)?);
        }
        txn.commit()?;
        Ok(outcomes)
    }

    /// Deletes a record; `false` if there was none. A record with items is refused
    /// ([`Error::BibHasItems`]): its items must be deleted or moved to another record first,
    /// so no item ever points at a missing record.
    pub fn delete(&self, bib_id: u64) -> Result<bool> {
        let txn = self.db.begin_write()?;
        let items = circulation::item_count_of_bib(&txn, bib_id)?;
        if items > 0 {
            return Err(Error::BibHasItems { bib_id, items });
        }
        let deleted = remove_bib(&txn, bib_id)?;
        txn.commit()?;
        Ok(deleted)
    }

    /// The record with `bib_id`.
    pub fn get(&self, bib_id: u64) -> Result<Option<StoredBib>> {
        let txn = self.db.begin_read()?;
        let bibs = txn.open_table(BIBS)?;
        let value = bibs.get(bib_id)?;
        value.map(|v| StoredBib::decode(bib_id, v.value())).transpose()
    }

    /// The bib id of the record with this 003 (may be empty) and 001.
    pub fn find_by_control_number(&self, organisation: &str, number: &str) -> Result<Option<u64>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BIB_BY_CONTROL)?;
        Ok(table.get(key_of(organisation, number).as_str())?.map(|v| v.value()))
    }

    /// The bib ids of records carrying this ISBN (10 or 13 digits, any punctuation).
    pub fn find_by_isbn(&self, isbn: &str) -> Result<Vec<u64>> {
        let Some(isbn) = isbn13(isbn) else {
            return Ok(Vec::new());
        };
        let txn = self.db.begin_read()?;
        let table = txn.open_multimap_table(BIB_BY_ISBN)?;
        let mut out = Vec::new();
        for id in table.get(isbn.as_str())? {
            out.push(id?.value());
        }
        Ok(out)
    }

    /// Number of records.
    pub fn len(&self) -> Result<u64> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(BIBS)?.len()?)
    }

    /// True when there are no records.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Up to `limit` records with bib id greater than `after`, in bib id order: a page of
    /// a full scan (export, reindex) that does not hold a transaction between pages.
    pub fn bibs_after(&self, after: Option<u64>, limit: usize) -> Result<Vec<StoredBib>> {
        let txn = self.db.begin_read()?;
        let bibs = txn.open_table(BIBS)?;
        let range = match after {
            Some(after) if after == u64::MAX => return Ok(Vec::new()),
            Some(after) => bibs.range(after + 1..)?,
            None => bibs.range(0..)?,
        };
        let mut out = Vec::with_capacity(limit.min(4096));
        for row in range.take(limit) {
            let (id, value) = row?;
            out.push(StoredBib::decode(id.value(), value.value())?);
        }
        Ok(out)
    }

    /// Up to `limit` changes with sequence number greater than `after`, in order.
    pub fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Change>> {
        let txn = self.db.begin_read()?;
        let changes = txn.open_table(CHANGES)?;
        let mut out = Vec::new();
        if after == u64::MAX {
            return Ok(out);
        }
        for row in changes.range(after + 1..)?.take(limit) {
            let (seq, value) = row?;
            let (bib_id, code) = value.value();
            let kind = ChangeKind::from_code(code)
                .ok_or_else(|| Error::Storage(format!("change {}: unknown kind {code}", seq.value())))?;
            out.push(Change { seq: seq.value(), bib_id, kind });
        }
        Ok(out)
    }

    /// The sequence number of the newest change (0 when there has been none).
    pub fn last_change_seq(&self) -> Result<u64> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        Ok(meta.get("last_seq")?.map_or(0, |v| v.value()))
    }

    /// Removes the changes with sequence number below `checkpoint` (the indexer has applied
    /// them); returns how many were removed. Sequence numbers are never reused.
    pub fn prune_changes_below(&self, checkpoint: u64) -> Result<u64> {
        let txn = self.db.begin_write()?;
        let removed = {
            let mut changes = txn.open_table(CHANGES)?;
            let mut below = Vec::new();
            for row in changes.range(..checkpoint)? {
                below.push(row?.0.value());
            }
            for seq in &below {
                changes.remove(seq)?;
            }
            below.len() as u64
        };
        txn.commit()?;
        Ok(removed)
    }
}

fn upsert_one(txn: &WriteTransaction, mut record: Record, source: &str) -> Result<Outcome> {
    if record.control_number().is_none() {
        let mut bytes = Vec::new();
        iso2709::write(&record, &mut bytes).map_err(|e| Error::Export { bib_id: 0, reason: e.0 })?;
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        record.set_control(Tag::new(*b"001").ok_or_else(|| Error::Storage("tag 001".into()))?, format!("SH{hex}"));
    }
    let key = control_key(&record);
    let mut marc = Vec::new();
    iso2709::write(&record, &mut marc).map_err(|e| Error::Export { bib_id: 0, reason: e.0 })?;

    let mut by_control = txn.open_table(BIB_BY_CONTROL)?;
    let mut bibs = txn.open_table(BIBS)?;
    let mut by_isbn = txn.open_multimap_table(BIB_BY_ISBN)?;
    let existing = by_control.get(key.as_str())?.map(|v| v.value());
    let now = now();
    let mut replaced: Option<(StoredBib, u32)> = None;
    let outcome = match existing {
        Some(id) => {
            let old = bibs.get(id)?.map(|v| StoredBib::decode(id, v.value())).transpose()?;
            let Some(old) = old else {
                return Err(Error::Storage(format!("control number {key:?} points at missing bib {id}")));
            };
            if old.marc == marc {
                return Ok(Outcome::Unchanged(id));
            }
            for isbn in isbns(&old.record()?) {
                by_isbn.remove(isbn.as_str(), id)?;
            }
            let stored = StoredBib {
                id,
                version: old.version.saturating_add(1),
                created: old.created,
                updated: now,
                source: source.to_string(),
                marc,
            };
            bibs.insert(id, stored.encode().as_slice())?;
            replaced = Some((old, stored.version));
            Outcome::Updated(id)
        }
        None => {
            let id = next_bib_id(txn)?;
            let stored = StoredBib { id, version: 1, created: now, updated: now, source: source.to_string(), marc };
            bibs.insert(id, stored.encode().as_slice())?;
            by_control.insert(key.as_str(), id)?;
            Outcome::Created(id)
        }
    };
    let (id, kind) = match outcome {
        Outcome::Created(id) => (id, ChangeKind::Created),
        Outcome::Updated(id) | Outcome::Unchanged(id) => (id, ChangeKind::Updated),
    };
    for isbn in isbns(&record) {
        by_isbn.insert(isbn.as_str(), id)?;
    }
    drop((by_control, bibs, by_isbn));
    if let Some((old, version)) = replaced {
        // The history of a record is whole whichever way it changed.
        crate::cataloguing::history::keep_version(txn, &old, "import")?;
        crate::cataloguing::history::write_author(txn, id, version, "import")?;
    }
    append_change(txn, id, kind)?;
    crate::oai::stamp(txn, id, now, &record, false)?;
    Ok(outcome)
}

pub(crate) fn next_bib_id(txn: &WriteTransaction) -> Result<u64> {
    let mut meta = txn.open_table(META)?;
    let next = meta.get("next_bib_id")?.map_or(1, |v| v.value());
    meta.insert("next_bib_id", next + 1)?;
    Ok(next)
}

pub(crate) fn append_change(txn: &WriteTransaction, bib_id: u64, kind: ChangeKind) -> Result<()> {
    let mut meta = txn.open_table(META)?;
    let seq = meta.get("last_seq")?.map_or(0, |v| v.value()) + 1;
    meta.insert("last_seq", seq)?;
    txn.open_table(CHANGES)?.insert(seq, (bib_id, kind.code()))?;
    Ok(())
}

pub(crate) fn key_of(organisation: &str, number: &str) -> String {
    format!("{}\u{1f}{}", organisation.trim(), number.trim())
}

pub(crate) fn control_key(record: &Record) -> String {
    key_of(record.control_organisation().unwrap_or(""), record.control_number().unwrap_or(""))
}

fn isbns(record: &Record) -> Vec<String> {
    let mut out: Vec<String> =
        record.fields_with_tag("020").flat_map(|f| f.subfield_values('a')).filter_map(isbn13).collect();
    out.sort();
    out.dedup();
    out
}

/// Adds a record's ISBNs to the ISBN lookup, inside `txn`.
pub(crate) fn index_isbns(txn: &WriteTransaction, bib_id: u64, record: &Record) -> Result<()> {
    let mut by_isbn = txn.open_multimap_table(BIB_BY_ISBN)?;
    for isbn in isbns(record) {
        by_isbn.insert(isbn.as_str(), bib_id)?;
    }
    Ok(())
}

/// Removes a record's ISBNs from the ISBN lookup, inside `txn`.
pub(crate) fn unindex_isbns(txn: &WriteTransaction, bib_id: u64, record: &Record) -> Result<()> {
    let mut by_isbn = txn.open_multimap_table(BIB_BY_ISBN)?;
    for isbn in isbns(record) {
        by_isbn.remove(isbn.as_str(), bib_id)?;
    }
    Ok(())
}

/// Removes a record and its lookups inside `txn`, with its deletion in the change feed and
/// its OAI-PMH tombstone; `false` if there was none. The caller has dealt with its items.
pub(crate) fn remove_bib(txn: &WriteTransaction, bib_id: u64) -> Result<bool> {
    let old = txn.open_table(BIBS)?.remove(bib_id)?.map(|v| StoredBib::decode(bib_id, v.value())).transpose()?;
    let Some(old) = old else { return Ok(false) };
    let record = old.record()?;
    txn.open_table(BIB_BY_CONTROL)?.remove(control_key(&record).as_str())?;
    unindex_isbns(txn, bib_id, &record)?;
    append_change(txn, bib_id, ChangeKind::Deleted)?;
    crate::oai::stamp(txn, bib_id, now(), &record, true)?;
    Ok(true)
}
