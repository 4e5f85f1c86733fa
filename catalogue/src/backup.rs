//! Backups of a library's catalogue: generations of `catalogue.redb` in
//! `DATA/tenants/<code>/backups/`, named by the time in Japan they were taken, the newest
//! [`BACKUP_GENERATIONS`] kept; and restoring one while the library is closed.
//!
//! A backup is taken while the catalogue is open and in use. It is consistent because it is
//! a copy of one read transaction: redb's read transactions see one committed state (a
//! snapshot), whatever commits meanwhile. Every table of that snapshot, whichever module
//! created it, is copied into a new redb file written under a temporary name; the copy is
//! committed (fsynced), read back and compared table by table with the snapshot (entry
//! counts), then renamed into place and the folder fsynced. A backup that fails leaves at
//! most a `.partial` file, removed by the next backup, and never replaces a generation.
//!
//! Tables are found by listing the snapshot's tables, not from a list kept here, so a table
//! added later is backed up without anyone remembering to. Its key and value types are read
//! from redb's type check; a table of a type combination this module cannot copy fails the
//! backup ([`Error::Storage`]) rather than leaving it out; `every_table_type_is_copied`
//! fails when a table of such types is added, so add its types to the lists below.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use redb::{
    Database, Key, MultimapTableDefinition, MultimapTableHandle, ReadTransaction, ReadableDatabase,
    ReadableMultimapTable, ReadableTable, ReadableTableMetadata, TableDefinition, TableError, TableHandle, TypeName,
    Value, WriteTransaction,
};

use crate::error::{Error, Result};
use crate::layout::DataLayout;
use crate::store::{Catalogue, SCHEMA_VERSION};
use crate::tenant::TenantCode;

/// How many backups of a library are kept: after a new one is written, older ones beyond
/// this are removed.
pub const BACKUP_GENERATIONS: usize = 3;

/// The suffix of a backup file.
const SUFFIX: &str = ".redb";
/// A backup being written.
const PARTIAL: &str = ".redb.partial";
/// The catalogue a restore replaced, kept (the latest one only) in case the restore was a
/// mistake. Not a generation.
const REPLACED_PREFIX: &str = "replaced-";

/// One backup generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// Its name: the time in Japan it was taken, `YYYYMMDDTHHMMSS.mmm+0900`.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// When it was taken.
    pub time: Timestamp,
    /// Its size.
    pub bytes: u64,
}

/// What [`Catalogue::backup`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The new generation.
    pub backup: Backup,
    /// Entries copied per table (a multimap table counts each key-value pair).
    pub tables: BTreeMap<String, u64>,
    /// Older generations removed to keep [`BACKUP_GENERATIONS`].
    pub removed: Vec<PathBuf>,
}

impl BackupReport {
    /// Entries copied, every table together.
    pub fn entries(&self) -> u64 {
        self.tables.values().sum()
    }
}

/// What [`restore_backup`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The generation now in place as `catalogue.redb`.
    pub restored: Backup,
    /// Where the catalogue it replaced was moved (none if there was no catalogue file).
    pub replaced: Option<PathBuf>,
    /// The search index was removed: it described the replaced catalogue. Rebuild it
    /// (`shiori restore` does; the server rebuilds an index that is behind or ahead of its
    /// catalogue's change feed when it opens the library).
    pub index_removed: bool,
}

/// Japan's time zone (+09:00 all year: no daylight saving).
fn jst() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::fixed(jiff::tz::offset(9))
}

/// The name of a backup taken at `at`: the time in Japan, to the millisecond.
pub fn backup_name(at: Timestamp) -> String {
    let t = at.to_zoned(jst()).datetime();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}+0900",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.subsec_nanosecond() / 1_000_000
    )
}

/// The time a backup name stands for; `None` unless `name` is exactly of the form
/// [`backup_name`] writes (so a name given on the command line can never be a path).
pub fn parse_backup_name(name: &str) -> Option<Timestamp> {
    let bytes = name.as_bytes();
    if bytes.len() != 24 || bytes[8] != b'T' || bytes[15] != b'.' || &name[19..] != "+0900" {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i32> {
        let part = name.get(range)?;
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let date = jiff::civil::Date::new(digits(0..4)? as i16, digits(4..6)? as i8, digits(6..8)? as i8).ok()?;
    let time = jiff::civil::Time::new(
        digits(9..11)? as i8,
        digits(11..13)? as i8,
        digits(13..15)? as i8,
        digits(16..19)? * 1_000_000,
    )
    .ok()?;
    date.to_datetime(time).to_zoned(jst()).ok().map(|z| z.timestamp())
}

/// The library's backups, oldest first. No folder: none.
pub fn list_backups(layout: &DataLayout, tenant: &TenantCode) -> Result<Vec<Backup>> {
    let dir = layout.backups_dir(tenant);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::Io { path: dir, source: e }),
    };
    let mut backups = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io(&dir))?;
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(SUFFIX)) else { continue };
        let Some(time) = parse_backup_name(name) else { continue };
        let meta = entry.metadata().map_err(Error::io(entry.path()))?;
        if !meta.is_file() {
            continue;
        }
        backups.push(Backup { name: name.to_owned(), path: entry.path(), time, bytes: meta.len() });
    }
    backups.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.name.cmp(&b.name)));
    Ok(backups)
}

impl Catalogue {
    /// Writes a new backup generation of this catalogue, named by `now` in Japan, while it
    /// stays open for reading and writing; then removes generations beyond
    /// [`BACKUP_GENERATIONS`], oldest first. Blocking (it copies every table).
    pub fn backup(&self, layout: &DataLayout, now: Timestamp) -> Result<BackupReport> {
        let dir = layout.backups_dir(self.tenant());
        std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        remove_partials(&dir)?;
        let name = backup_name(now);
        let path = dir.join(format!("{name}{SUFFIX}"));
        if path.exists() {
            return Err(Error::invalid("backup", format!("a backup named {name} already exists")));
        }
        let partial = dir.join(format!("{name}{PARTIAL}"));
        let written = write_snapshot(&self.db, &partial).and_then(|tables| {
            let copied = count_file(&partial)?;
            if copied != tables {
                return Err(Error::Storage(format!(
                    "backup {name}: the copy does not match the snapshot ({copied:?} against {tables:?})"
                )));
            }
            Ok(tables)
        });
        let tables = match written {
            Ok(tables) => tables,
            Err(err) => {
                let _ = std::fs::remove_file(&partial);
                return Err(err);
            }
        };
        sync_file(&partial)?;
        std::fs::rename(&partial, &path).map_err(Error::io(&path))?;
        sync_dir(&dir)?;
        let bytes = std::fs::metadata(&path).map_err(Error::io(&path))?.len();
        let mut removed = Vec::new();
        let backups = list_backups(layout, self.tenant())?;
        let surplus = backups.len().saturating_sub(BACKUP_GENERATIONS);
        for old in backups.into_iter().take(surplus) {
            std::fs::remove_file(&old.path).map_err(Error::io(&old.path))?;
            removed.push(old.path);
        }
        if !removed.is_empty() {
            sync_dir(&dir)?;
        }
        Ok(BackupReport { backup: Backup { name, path, time: now, bytes }, tables, removed })
    }
}

/// Replaces the library's `catalogue.redb` by a backup: the one named `generation` (with or
/// without `.redb`), or the latest. The library must be closed: a catalogue open anywhere
/// (`shiori serve`, another command) is [`Error::InUse`] and nothing is touched. The
/// replaced file is kept as `backups/replaced-<time>.redb` (the latest such file only), and
/// the search index is removed, since it describes the replaced catalogue: rebuild it.
pub fn restore_backup(
    layout: &DataLayout,
    tenant: &TenantCode,
    generation: Option<&str>,
    now: Timestamp,
) -> Result<RestoreReport> {
    let backups = list_backups(layout, tenant)?;
    let chosen = match generation {
        Some(wanted) => {
            let wanted = wanted.strip_suffix(SUFFIX).unwrap_or(wanted);
            backups.into_iter().find(|b| b.name == wanted).ok_or_else(|| Error::UnknownBackup(wanted.to_owned()))?
        }
        None => backups.into_iter().next_back().ok_or_else(|| Error::UnknownBackup("(any)".to_owned()))?,
    };
    let current = layout.catalogue_file(tenant);
    // Holding the current file open proves no one else has it, and keeps anyone from
    // opening it until it has been replaced. A missing or damaged file is what a restore
    // is for: it is not opened (nor repaired).
    let held = match Database::builder().set_repair_callback(|session| session.abort()).open(&current) {
        Ok(db) => Some(db),
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(Error::InUse { path: current }),
        Err(_) => None,
    };
    let dir = layout.tenant_dir(tenant);
    let restoring = dir.join("catalogue.redb.restoring");
    std::fs::copy(&chosen.path, &restoring).map_err(Error::io(&restoring))?;
    // Harvesters must learn that the catalogue went back: every entry is stamped now, and
    // what the replaced file had that the backup has not is reported deleted.
    let restamped = check_restorable(&restoring).and_then(|()| {
        let db = Database::create(&restoring)?;
        crate::oai::restamp_restored(&db, held.as_ref(), now.as_second())
    });
    if let Err(err) = restamped.and_then(|()| sync_file(&restoring)) {
        let _ = std::fs::remove_file(&restoring);
        return Err(err);
    }
    let backups_dir = layout.backups_dir(tenant);
    let mut replaced = None;
    if std::fs::symlink_metadata(&current).is_ok() {
        let old_replaced = replaced_files(&backups_dir)?;
        let keep = backups_dir.join(format!("{REPLACED_PREFIX}{}{SUFFIX}", backup_name(now)));
        std::fs::rename(&current, &keep).map_err(Error::io(&keep))?;
        for old in old_replaced {
            std::fs::remove_file(&old).map_err(Error::io(&old))?;
        }
        sync_dir(&backups_dir)?;
        replaced = Some(keep);
    }
    std::fs::rename(&restoring, &current).map_err(Error::io(&current))?;
    sync_dir(&dir)?;
    drop(held);
    let index = layout.index_dir(tenant);
    let index_removed = match std::fs::remove_dir_all(&index) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::Io { path: index, source: e }),
    };
    Ok(RestoreReport { restored: chosen, replaced, index_removed })
}

/// A backup about to be restored must open and hold a schema this binary reads.
fn check_restorable(path: &Path) -> Result<()> {
    let db = Database::open(path)?;
    let txn = db.begin_read()?;
    let meta = txn.open_table(crate::store::META)?;
    let version = meta.get("schema_version")?.map(|v| v.value());
    match version {
        None => Err(Error::Storage(format!("{}: not a catalogue (no schema version)", path.display()))),
        Some(found) if found > SCHEMA_VERSION => {
            Err(Error::SchemaTooNew { path: path.to_path_buf(), found, supported: SCHEMA_VERSION })
        }
        Some(_) => Ok(()),
    }
}

/// Files of earlier restores' replaced catalogues.
fn replaced_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
            return Ok(Vec::new());
        }
        Err(e) => return Err(Error::Io { path: dir.to_path_buf(), source: e }),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io(dir))?;
        if entry.file_name().to_str().is_some_and(|n| n.starts_with(REPLACED_PREFIX) && n.ends_with(SUFFIX)) {
            found.push(entry.path());
        }
    }
    Ok(found)
}

/// Removes what interrupted backups left.
fn remove_partials(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let entry = entry.map_err(Error::io(dir))?;
        if entry.file_name().to_str().is_some_and(|n| n.ends_with(PARTIAL)) {
            std::fs::remove_file(entry.path()).map_err(Error::io(entry.path()))?;
        }
    }
    Ok(())
}

fn sync_file(path: &Path) -> Result<()> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(Error::io(path))
}

/// Makes a rename in `dir` durable (a no-op where folders cannot be opened).
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir).and_then(|f| f.sync_all()).map_err(Error::io(dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Copies every table of one read transaction of `source` into a new redb file at `target`,
/// committed durably. Returns the entries copied per table.
fn write_snapshot(source: &Database, target: &Path) -> Result<BTreeMap<String, u64>> {
    let snapshot = source.begin_read()?;
    let copy = Database::create(target)?;
    let write = copy.begin_write()?;
    let mut copier = Copier { read: &snapshot, write: &write, counts: BTreeMap::new() };
    visit_tables(&snapshot, &mut copier)?;
    let counts = copier.counts;
    write.commit()?;
    drop(copy);
    Ok(counts)
}

/// The entries of every table of a redb file.
fn count_file(path: &Path) -> Result<BTreeMap<String, u64>> {
    let db = Database::open(path)?;
    let txn = db.begin_read()?;
    let mut counter = Counter { read: &txn, counts: BTreeMap::new() };
    visit_tables(&txn, &mut counter)?;
    Ok(counter.counts)
}

/// Something done to each table, with its key and value types.
trait TableVisitor {
    fn table<K: Key + 'static, V: Value + 'static>(&mut self, name: &str) -> Result<()>;
    fn multimap<K: Key + 'static, V: Key + 'static>(&mut self, name: &str) -> Result<()>;
}

struct Copier<'a> {
    read: &'a ReadTransaction,
    write: &'a WriteTransaction,
    counts: BTreeMap<String, u64>,
}

impl TableVisitor for Copier<'_> {
    fn table<K: Key + 'static, V: Value + 'static>(&mut self, name: &str) -> Result<()> {
        let from = self.read.open_table(TableDefinition::<K, V>::new(name))?;
        let mut to = self.write.open_table(TableDefinition::<K, V>::new(name))?;
        let mut copied = 0;
        for row in from.iter()? {
            let (key, value) = row?;
            to.insert(key.value(), value.value())?;
            copied += 1;
        }
        self.counts.insert(name.to_owned(), copied);
        Ok(())
    }

    fn multimap<K: Key + 'static, V: Key + 'static>(&mut self, name: &str) -> Result<()> {
        let from = self.read.open_multimap_table(MultimapTableDefinition::<K, V>::new(name))?;
        let mut to = self.write.open_multimap_table(MultimapTableDefinition::<K, V>::new(name))?;
        let mut copied = 0;
        for row in from.iter()? {
            let (key, values) = row?;
            for value in values {
                to.insert(key.value(), value?.value())?;
                copied += 1;
            }
        }
        self.counts.insert(format!("{name} (multimap)"), copied);
        Ok(())
    }
}

struct Counter<'a> {
    read: &'a ReadTransaction,
    counts: BTreeMap<String, u64>,
}

impl TableVisitor for Counter<'_> {
    fn table<K: Key + 'static, V: Value + 'static>(&mut self, name: &str) -> Result<()> {
        let len = self.read.open_table(TableDefinition::<K, V>::new(name))?.len()?;
        self.counts.insert(name.to_owned(), len);
        Ok(())
    }

    fn multimap<K: Key + 'static, V: Key + 'static>(&mut self, name: &str) -> Result<()> {
        let len = self.read.open_multimap_table(MultimapTableDefinition::<K, V>::new(name))?.len()?;
        self.counts.insert(format!("{name} (multimap)"), len);
        Ok(())
    }
}

/// Calls the visitor for every table and multimap table of the transaction, with the types
/// the table is stored with.
fn visit_tables(txn: &ReadTransaction, visitor: &mut impl TableVisitor) -> Result<()> {
    let names: Vec<String> = txn.list_tables()?.map(|t| t.name().to_owned()).collect();
    for name in names {
        let (key, value) = match txn.open_table(TableDefinition::<Probe, Probe>::new(&name)) {
            Ok(_) => return Err(unknown_types(&name, &Probe::type_name(), &Probe::type_name())),
            Err(TableError::TableTypeMismatch { key, value, .. }) => (key, value),
            Err(err) => return Err(err.into()),
        };
        if !by_key(&key, &value, &name, visitor, false)? {
            return Err(unknown_types(&name, &key, &value));
        }
    }
    let names: Vec<String> = txn.list_multimap_tables()?.map(|t| t.name().to_owned()).collect();
    for name in names {
        let (key, value) = match txn.open_multimap_table(MultimapTableDefinition::<Probe, Probe>::new(&name)) {
            Ok(_) => return Err(unknown_types(&name, &Probe::type_name(), &Probe::type_name())),
            Err(TableError::TableTypeMismatch { key, value, .. }) => (key, value),
            Err(err) => return Err(err.into()),
        };
        if !by_key(&key, &value, &name, visitor, true)? {
            return Err(unknown_types(&name, &key, &value));
        }
    }
    Ok(())
}

fn unknown_types(table: &str, key: &TypeName, value: &TypeName) -> Error {
    Error::Storage(format!("backup: table {table} has types ({key:?}, {value:?}) that the backup cannot copy"))
}

/// The key types tables are stored with, then the value types.
fn by_key(
    key: &TypeName,
    value: &TypeName,
    name: &str,
    visitor: &mut impl TableVisitor,
    multimap: bool,
) -> Result<bool> {
    macro_rules! keys {
        ($($k:ty),* $(,)?) => {$(
            if *key == <$k as Value>::type_name() {
                return if multimap {
                    multimap_value::<$k>(value, name, visitor)
                } else {
                    table_value::<$k>(value, name, visitor)
                };
            }
        )*};
    }
    keys!(
        u64,
        u32,
        u16,
        u8,
        i64,
        i32,
        &'static str,
        &'static [u8],
        (u64, u64),
        (u64, u32),
        (u64, i64),
        (i64, u64),
        (u64, &'static str),
        (&'static str, u64),
        (&'static str, i64),
        (&'static str, &'static str),
        (&'static str, u32),
        (&'static str, u16),
        (&'static str, i32),
        (&'static str, &'static str, u64),
        (&'static str, &'static str, &'static str),
        (&'static [u8], u64),
        (u32, u32),
        (u32, u64),
        (u64, u16),
        (u64, u8),
        (u64, u64, u64),
        (u64, u64, u32),
    );
    Ok(false)
}

fn table_value<K: Key + 'static>(value: &TypeName, name: &str, visitor: &mut impl TableVisitor) -> Result<bool> {
    macro_rules! values {
        ($($v:ty),* $(,)?) => {$(
            if *value == <$v as Value>::type_name() {
                visitor.table::<K, $v>(name)?;
                return Ok(true);
            }
        )*};
    }
    values!(
        &'static [u8],
        &'static str,
        u64,
        u32,
        u16,
        u8,
        i64,
        i32,
        bool,
        (),
        (u64, u8),
        (u64, u64),
        (u64, u32),
        (u64, i64),
        (i64, i64),
        (i64, u64),
        (u32, u32),
        (&'static str, u64),
        (&'static str, &'static str),
        (u64, u64, u64),
    );
    Ok(false)
}

fn multimap_value<K: Key + 'static>(value: &TypeName, name: &str, visitor: &mut impl TableVisitor) -> Result<bool> {
    macro_rules! values {
        ($($v:ty),* $(,)?) => {$(
            if *value == <$v as Value>::type_name() {
                visitor.multimap::<K, $v>(name)?;
                return Ok(true);
            }
        )*};
    }
    values!(
        u64,
        u32,
        i64,
        &'static str,
        &'static [u8],
        (u64, u64),
        (u64, u32),
        (i64, u64),
        (u64, i64),
        (&'static str, u64),
        (u64, &'static str),
    );
    Ok(false)
}

/// A type no table is stored with: opening a table with it reveals the table's own types.
#[derive(Debug)]
struct Probe;

impl Value for Probe {
    type SelfType<'a> = Probe;
    type AsBytes<'a> = [u8; 0];

    fn fixed_width() -> Option<usize> {
        Some(0)
    }

    fn from_bytes<'a>(_data: &'a [u8]) -> Probe
    where
        Self: 'a,
    {
        Probe
    }

    fn as_bytes<'a, 'b: 'a>(_value: &'a Probe) -> [u8; 0]
    where
        Self: 'b,
    {
        []
    }

    fn type_name() -> TypeName {
        TypeName::new("shiori::backup::Probe")
    }
}

impl Key for Probe {
    fn compare(_data1: &[u8], _data2: &[u8]) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table a catalogue has (whichever module creates it) is of types the backup
    /// copies: a table added with new types fails here, not at a library's first backup.
    #[test]
    fn every_table_type_is_copied() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("shiori-backup-types-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let layout = DataLayout::new(&dir);
        let code: TenantCode = "types".parse()?;
        let catalogue = Catalogue::open(&layout, &code)?;
        let at: Timestamp = "2026-03-31T18:00:00Z".parse().map_err(|e| Error::Storage(format!("{e}")))?;
        let report = catalogue.backup(&layout, at);
        let listed = {
            let txn = catalogue.db.begin_read()?;
            txn.list_tables()?.count() + txn.list_multimap_tables()?.count()
        };
        drop(catalogue);
        let _ = std::fs::remove_dir_all(&dir);
        let report = report?;
        assert_eq!(report.tables.len(), listed, "{:?}", report.tables);
        assert!(listed >= 10, "{listed} tables");
        Ok(())
    }

    #[test]
    fn names_are_japanese_time_to_the_millisecond_and_parse_back() -> Result<()> {
        let at: Timestamp = "2026-03-31T18:00:00.042Z".parse().map_err(|e| Error::Storage(format!("{e}")))?;
        let name = backup_name(at);
        assert_eq!(name, "20260401T030000.042+0900");
        assert_eq!(parse_backup_name(&name), Some(at));
        for bad in [
            "",
            "../../etc/passwd",
            "20260401T030000.042+0900.redb",
            "2026040xT030000.042+0900",
            "20261301T030000.042+0900",
        ] {
            assert_eq!(parse_backup_name(bad), None, "{bad}");
        }
        Ok(())
    }
}
