//! Saving records from the staff pages and the records API: a new record, a record replaced
//! at the version the librarian read (so two librarians cannot overwrite each other), every
//! previous version kept with who saved it and when, a diff between two versions, restoring
//! one, and deleting a record only when none of its copies is on loan or waited for.
//!
//! Every save is one write transaction: the record, its lookups (control number, ISBN), the
//! previous version in `bib_versions`, the change feed and the OAI-PMH datestamp. Imports
//! that change a record keep its previous version too (`store::upsert`), so the history of
//! a record is whole whichever way it changed.

use redb::{ReadableDatabase, ReadableMultimapTable, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::BIB_VERSIONS;
use super::validate::{Problem, validate};
use crate::circulation;
use crate::error::{Error, Result};
use crate::marc::iso2709;
use crate::marc::record::{Field, Record};
use crate::store::{self, BIB_BY_CONTROL, BIBS, Catalogue, ChangeKind, StoredBib};
use crate::system::now;

/// Who saved a version and when, without the record itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    /// The version number (1 when created, +1 on every change).
    pub version: u32,
    /// When it was saved, seconds since the Unix epoch.
    pub saved: i64,
    /// Who saved it: a staff account's name, or `import` for a file import.
    pub by: String,
    /// Where it came from (`form`, `editor`, `api`, `copy:<target>`, an import file name).
    pub source: String,
    /// True for the record as it is now.
    pub current: bool,
}

/// A version of a record: who, when, and the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Who and when.
    pub info: VersionInfo,
    /// The record as it was.
    pub record: Record,
}

/// The stored form of a previous version (the record follows as ISO 2709).
#[derive(Serialize, Deserialize)]
struct VersionHeader {
    saved: i64,
    by: String,
    source: String,
}

/// Who is saving, and through which door.
#[derive(Debug, Clone, Copy)]
pub struct Saver<'a> {
    /// The staff account's name (`import` for imports).
    pub by: &'a str,
    /// `form`, `editor`, `api`, `copy:<target>`, `restore`.
    pub source: &'a str,
}

impl Catalogue {
    /// Stores a new record after [`validate`] found nothing wrong with it
    /// ([`Error::InvalidRecord`] otherwise). A record without 001 gets one: the library's
    /// own number `{tenant}-{bib id}` under 003 = the tenant code. A record whose 003 + 001
    /// is already another record's is refused ([`Error::ControlNumberInUse`]): open that
    /// record instead.
    pub fn create_record(&self, mut record: Record, saver: Saver<'_>) -> Result<StoredBib> {
        refuse_problems(validate(&record))?;
        let txn = self.db.begin_write()?;
        let id = store::next_bib_id(&txn)?;
        if record.control_number().is_none_or(|n| n.trim().is_empty()) {
            let tenant = self.tenant().as_str().to_owned();
            record.set_control(tag(b"001")?, format!("{tenant}-{id:08}"));
            record.set_control(tag(b"003")?, tenant);
            record.fields.sort_by_key(|f| !f.tag().is_control());
        }
        let key = store::control_key(&record);
        if let Some(other) = txn.open_table(BIB_BY_CONTROL)?.get(key.as_str())?.map(|v| v.value()) {
            return Err(control_in_use(&record, other));
        }
        let marc = encode(&record)?;
        let now = now();
        let stored = StoredBib { id, version: 1, created: now, updated: now, source: saver.source.to_owned(), marc };
        txn.open_table(BIBS)?.insert(id, stored.encode().as_slice())?;
        txn.open_table(BIB_BY_CONTROL)?.insert(key.as_str(), id)?;
        store::index_isbns(&txn, id, &record)?;
        write_author(&txn, id, 1, saver.by)?;
        store::append_change(&txn, id, ChangeKind::Created)?;
        crate::oai::stamp(&txn, id, now, &record, false)?;
        txn.commit()?;
        Ok(stored)
    }

    /// Replaces record `bib_id` with `record` when it is still at `expected` — the version
    /// the librarian opened ([`Error::VersionMismatch`] otherwise, and nothing is written).
    /// The record must pass [`validate`]; its 003 + 001 may change but not to another
    /// record's, and a record without 001 keeps the stored 001 and 003. The version it replaces is kept. A record identical to the stored one
    /// changes nothing and keeps its version.
    pub fn replace_record(&self, bib_id: u64, record: Record, expected: u32, saver: Saver<'_>) -> Result<StoredBib> {
        refuse_problems(validate(&record))?;
        let txn = self.db.begin_write()?;
        let stored = replace_in(&txn, bib_id, &record, expected, saver)?;
        txn.commit()?;
        Ok(stored)
    }

    /// Every version of a record, newest first, the current one included; empty for an
    /// unknown record. Versions saved before history was kept (schema 7) are not listed.
    pub fn record_versions(&self, bib_id: u64) -> Result<Vec<VersionInfo>> {
        let txn = self.db.begin_read()?;
        let Some(current) = txn.open_table(BIBS)?.get(bib_id)?.map(|v| StoredBib::decode(bib_id, v.value())) else {
            return Ok(Vec::new());
        };
        let current = current?;
        let versions = txn.open_table(BIB_VERSIONS)?;
        let mut out = Vec::new();
        for row in versions.range((bib_id, 0)..=(bib_id, u32::MAX))? {
            let (key, value) = row?;
            let version = key.value().1;
            if version == current.version {
                // The author of the current version (written at its save, see `write_author`).
                continue;
            }
            let (header, _) = decode_version(bib_id, version, value.value())?;
            out.push(VersionInfo {
                version,
                saved: header.saved,
                by: header.by,
                source: header.source,
                current: false,
            });
        }
        let by = versions
            .get((bib_id, current.version))?
            .map(|v| decode_version(bib_id, current.version, v.value()).map(|(h, _)| h.by))
            .transpose()?
            .unwrap_or_default();
        out.push(VersionInfo {
            version: current.version,
            saved: current.updated,
            by,
            source: current.source.clone(),
            current: true,
        });
        out.reverse();
        Ok(out)
    }

    /// One version of a record (the current one too); `None` when the record or that version
    /// is not kept.
    pub fn record_version(&self, bib_id: u64, version: u32) -> Result<Option<Version>> {
        let infos = self.record_versions(bib_id)?;
        let Some(info) = infos.into_iter().find(|v| v.version == version) else {
            return Ok(None);
        };
        if info.current {
            let Some(bib) = self.get(bib_id)? else { return Ok(None) };
            return Ok(Some(Version { info, record: bib.record()? }));
        }
        let txn = self.db.begin_read()?;
        let value = txn.open_table(BIB_VERSIONS)?.get((bib_id, version))?;
        let Some(value) = value else { return Ok(None) };
        let (_, marc) = decode_version(bib_id, version, value.value())?;
        let record = iso2709::parse(marc)
            .map(|(record, _)| record)
            .map_err(|e| Error::Storage(format!("bib {bib_id} version {version} is unreadable: {}", e.reason)))?;
        Ok(Some(Version { info, record }))
    }

    /// Puts back an earlier version of a record as a new version (history is never
    /// rewritten), when the record is still at `expected`.
    pub fn restore_version(&self, bib_id: u64, version: u32, expected: u32, by: &str) -> Result<StoredBib> {
        let old = self.record_version(bib_id, version)?.ok_or(Error::UnknownVersion { bib_id, version })?;
        let txn = self.db.begin_write()?;
        let stored = replace_in(&txn, bib_id, &old.record, expected, Saver { by, source: "restore" })?;
        txn.commit()?;
        Ok(stored)
    }

    /// Deletes a record with its copies, when none of them is on loan and no patron waits
    /// for it ([`Error::RecordInUse`] otherwise, and nothing is deleted); `false` for an
    /// unknown record. Its previous versions are kept (the history outlives the record).
    pub fn delete_record(&self, bib_id: u64, by: &str) -> Result<bool> {
        let txn = self.db.begin_write()?;
        let Some(current) = txn.open_table(BIBS)?.get(bib_id)?.map(|v| StoredBib::decode(bib_id, v.value())) else {
            return Ok(false);
        };
        let current = current?;
        let items: Vec<u64> = {
            let by_bib = txn.open_multimap_table(circulation::ITEMS_BY_BIB)?;
            let mut ids = Vec::new();
            for id in by_bib.get(bib_id)? {
                ids.push(id?.value());
            }
            ids
        };
        let loans = {
            let loans = txn.open_table(circulation::LOANS)?;
            let mut n = 0u32;
            for id in &items {
                n += u32::from(loans.get(*id)?.is_some());
            }
            n
        };
        let holds = txn.open_multimap_table(circulation::HOLDS_BY_BIB)?.get(bib_id)?.len() as u32;
        if loans > 0 || holds > 0 {
            return Err(Error::RecordInUse { bib_id, loans, holds });
        }
        for id in items {
            circulation::remove_item(&txn, id)?;
        }
        // The deleted version joins the history, so it can be read (and re-created) later.
        keep_version(&txn, &current, by)?;
        store::remove_bib(&txn, bib_id)?;
        txn.commit()?;
        Ok(true)
    }
}

/// A leader without its lengths, to compare two.
fn leader_key(leader: &str) -> String {
    leader.chars().enumerate().filter(|(i, _)| !matches!(i, 0..=4 | 12..=16)).map(|(_, c)| c).collect()
}

/// The changes from one record to another, field by field, in the order of `new` (a
/// longest common subsequence of the fields' text; a field changed in place is a removal
/// and an addition next to each other, shown as a change).
pub fn diff(old: &Record, new: &Record) -> Vec<FieldChange> {
    let mut a: Vec<String> =
        std::iter::once(format!("LDR {}", old.leader)).chain(old.fields.iter().map(line)).collect();
    let b: Vec<String> = std::iter::once(format!("LDR {}", new.leader)).chain(new.fields.iter().map(line)).collect();
    // The leader's lengths (00-04, 12-16) are recomputed on every output: a leader that
    // differs only there has not changed.
    if leader_key(&old.leader) == leader_key(&new.leader) {
        a[0] = b[0].clone();
    }
    // LCS table; records have tens of fields, so the quadratic table is small. Bounded for
    // pathological records: beyond 2,000 fields each side, everything is a change.
    if a.len() > 2_000 || b.len() > 2_000 {
        let mut out: Vec<FieldChange> = a.into_iter().map(FieldChange::removed).collect();
        out.extend(b.into_iter().map(FieldChange::added));
        return out;
    }
    let mut table = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            table[i][j] = if a[i] == b[j] { table[i + 1][j + 1] + 1 } else { table[i + 1][j].max(table[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out: Vec<FieldChange> = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(FieldChange {
                kind: ChangeKindOfField::Same,
                tag: tag_of(&a[i]),
                old: Some(a[i].clone()),
                new: Some(b[j].clone()),
            });
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || table[i][j + 1] >= table[i + 1][j]) {
            out.push(FieldChange::added(b[j].clone()));
            j += 1;
        } else {
            out.push(FieldChange::removed(a[i].clone()));
            i += 1;
        }
    }
    // A removal next to an addition of the same tag is one change.
    let mut merged: Vec<FieldChange> = Vec::with_capacity(out.len());
    for change in out {
        if let Some(last) = merged.last_mut() {
            let pair = matches!(
                (last.kind, change.kind),
                (ChangeKindOfField::Removed, ChangeKindOfField::Added)
                    | (ChangeKindOfField::Added, ChangeKindOfField::Removed)
            );
            if pair && last.tag == change.tag {
                let (old, new) = if last.kind == ChangeKindOfField::Removed {
                    (last.old.take(), change.new)
                } else {
                    (change.old, last.new.take())
                };
                *last = FieldChange { kind: ChangeKindOfField::Changed, tag: change.tag, old, new };
                continue;
            }
        }
        merged.push(change);
    }
    merged
}

/// What happened to one field between two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKindOfField {
    /// In both, unchanged.
    Same,
    /// Only in the newer.
    Added,
    /// Only in the older.
    Removed,
    /// Changed in place.
    Changed,
}

/// One line of a diff: a field (or the leader) as text, in MARC-breaker form
/// (`245 10 $a吾輩は猫である /$c夏目漱石.`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// What happened.
    pub kind: ChangeKindOfField,
    /// The tag (`LDR` for the leader).
    pub tag: String,
    /// The field in the older version.
    pub old: Option<String>,
    /// The field in the newer version.
    pub new: Option<String>,
}

impl FieldChange {
    fn added(line: String) -> FieldChange {
        FieldChange { kind: ChangeKindOfField::Added, tag: tag_of(&line), old: None, new: Some(line) }
    }

    fn removed(line: String) -> FieldChange {
        FieldChange { kind: ChangeKindOfField::Removed, tag: tag_of(&line), old: Some(line), new: None }
    }
}

/// A field as one line: `001 value`, `245 10 $aTitle $cAuthor`.
pub fn line(field: &Field) -> String {
    match field {
        Field::Control { tag, value } => format!("{tag} {value}"),
        Field::Data { tag, ind1, ind2, subfields } => {
            let mut out = format!("{tag} {ind1}{ind2} ");
            for s in subfields {
                out.push('$');
                out.push(s.code);
                out.push_str(&s.value);
            }
            out
        }
    }
}

fn tag_of(line: &str) -> String {
    line.split(' ').next().unwrap_or("").to_owned()
}

fn tag(bytes: &[u8; 3]) -> Result<crate::marc::record::Tag> {
    crate::marc::record::Tag::new(*bytes).ok_or_else(|| Error::Storage("tag".into()))
}

fn refuse_problems(problems: Vec<Problem>) -> Result<()> {
    if problems.is_empty() { Ok(()) } else { Err(Error::InvalidRecord { problems }) }
}

fn control_in_use(record: &Record, bib_id: u64) -> Error {
    Error::ControlNumberInUse {
        organisation: record.control_organisation().unwrap_or("").to_owned(),
        number: record.control_number().unwrap_or("").to_owned(),
        bib_id,
    }
}

fn encode(record: &Record) -> Result<Vec<u8>> {
    let mut marc = Vec::new();
    iso2709::write(record, &mut marc).map_err(|e| Error::Export { bib_id: 0, reason: e.0 })?;
    Ok(marc)
}

/// The replacement of one record inside `txn`; see [`Catalogue::replace_record`].
/// `record` with the 001 and 003 of `stored`.
fn with_control_number_of(record: &Record, stored: &Record) -> Result<Record> {
    let mut record = record.clone();
    for (name, bytes) in [("001", b"001"), ("003", b"003")] {
        if let Some(value) = stored.control_value(name) {
            record.set_control(tag(bytes)?, value.to_owned());
        }
    }
    record.fields.sort_by_key(|f| !f.tag().is_control());
    Ok(record)
}

fn replace_in(
    txn: &WriteTransaction,
    bib_id: u64,
    record: &Record,
    expected: u32,
    saver: Saver<'_>,
) -> Result<StoredBib> {
    let current = txn.open_table(BIBS)?.get(bib_id)?.map(|v| StoredBib::decode(bib_id, v.value()));
    let current = current.ok_or(Error::UnknownBib(bib_id))??;
    if current.version != expected {
        return Err(Error::VersionMismatch { bib_id, expected, current: current.version });
    }
    let old_record = current.record()?;
    // A record sent without its 001 (an API client that leaves the control fields to the
    // library) keeps the stored 001 and 003 rather than losing its number.
    let kept;
    let record = if record.control_number().is_none_or(|n| n.trim().is_empty()) {
        kept = with_control_number_of(record, &old_record)?;
        &kept
    } else {
        record
    };
    let marc = encode(record)?;
    if marc == current.marc {
        return Ok(current);
    }
    let old_key = store::control_key(&old_record);
    let new_key = store::control_key(record);
    if new_key != old_key {
        let mut by_control = txn.open_table(BIB_BY_CONTROL)?;
        if let Some(other) = by_control.get(new_key.as_str())?.map(|v| v.value())
            && other != bib_id
        {
            return Err(control_in_use(record, other));
        }
        by_control.remove(old_key.as_str())?;
        by_control.insert(new_key.as_str(), bib_id)?;
    }
    keep_version(txn, &current, "")?;
    store::unindex_isbns(txn, bib_id, &old_record)?;
    store::index_isbns(txn, bib_id, record)?;
    let now = now();
    let stored = StoredBib {
        id: bib_id,
        version: current.version.saturating_add(1),
        created: current.created,
        updated: now,
        source: saver.source.to_owned(),
        marc,
    };
    txn.open_table(BIBS)?.insert(bib_id, stored.encode().as_slice())?;
    write_author(txn, bib_id, stored.version, saver.by)?;
    store::append_change(txn, bib_id, ChangeKind::Updated)?;
    crate::oai::stamp(txn, bib_id, now, record, false)?;
    Ok(stored)
}

/// Keeps `current` (about to be replaced or deleted) as a previous version. Its author is
/// the one written when it was saved (`write_author`), or `by` when none was (a record
/// imported before history was kept, or by an import).
pub(crate) fn keep_version(txn: &WriteTransaction, current: &StoredBib, by: &str) -> Result<()> {
    let mut versions = txn.open_table(BIB_VERSIONS)?;
    let author = versions
        .get((current.id, current.version))?
        .map(|v| decode_version(current.id, current.version, v.value()).map(|(h, _)| h.by))
        .transpose()?;
    let header = VersionHeader {
        saved: current.updated,
        by: author.filter(|a| !a.is_empty()).unwrap_or_else(|| by.to_owned()),
        source: current.source.clone(),
    };
    let mut value = serde_json::to_vec(&header).map_err(|e| Error::Storage(format!("version header: {e}")))?;
    value.push(b'\n');
    value.extend_from_slice(&current.marc);
    versions.insert((current.id, current.version), value.as_slice())?;
    Ok(())
}

/// Notes who saved the current version, as a header without a record: the row becomes the
/// version's full entry (with the record) when a later save replaces it.
pub(crate) fn write_author(txn: &WriteTransaction, bib_id: u64, version: u32, by: &str) -> Result<()> {
    let header = VersionHeader { saved: now(), by: by.to_owned(), source: String::new() };
    let mut value = serde_json::to_vec(&header).map_err(|e| Error::Storage(format!("version header: {e}")))?;
    value.push(b'\n');
    txn.open_table(BIB_VERSIONS)?.insert((bib_id, version), value.as_slice())?;
    Ok(())
}

fn decode_version(bib_id: u64, version: u32, bytes: &[u8]) -> Result<(VersionHeader, &[u8])> {
    let corrupt = || Error::Storage(format!("bib {bib_id} version {version}: stored value is damaged"));
    let newline = bytes.iter().position(|&b| b == b'\n').ok_or_else(corrupt)?;
    let header: VersionHeader = serde_json::from_slice(&bytes[..newline]).map_err(|_| corrupt())?;
    Ok((header, &bytes[newline + 1..]))
}
