//! Importing MARC files (ISO 2709, MARCXML, MarcEdit `.mrk`, MARC-in-JSON, each also
//! gzip-compressed): every good record is stored, every bad one is reported with its
//! file, ordinal, byte offset and reason (with the line for `.mrk` and JSON), and nothing is half-written (records are stored
//! in batches, each one transaction; re-running an import is an idempotent upsert).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::marc::iso2709::SourceEncoding;
use crate::marc::source::{self, SourceRecord};
use crate::store::{Catalogue, Outcome};

/// Records per write transaction: large enough to amortise the commit, small enough that a
/// crash loses little work (nothing is lost: a re-run stores what is missing).
const BATCH: usize = 2_000;

/// A record that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based position of the record in its file.
    pub ordinal: usize,
    /// Byte offset of the record in its file.
    pub offset: usize,
    /// Why it was refused.
    pub reason: String,
    /// The record's bytes (ISO 2709 only), so it can be fixed and imported again.
    pub raw: Option<Vec<u8>>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// The file imported.
    pub file: PathBuf,
    /// Records read (stored or rejected).
    pub read: u64,
    /// New records.
    pub created: u64,
    /// Existing records whose content changed.
    pub updated: u64,
    /// Existing records with identical content.
    pub unchanged: u64,
    /// Records read as MARC-8 (or UTF-8 although Leader/09 said otherwise), converted.
    pub converted: u64,
    /// Records refused, in file order.
    pub rejected: Vec<Rejection>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl ImportReport {
    /// Records per second over the whole import.
    pub fn records_per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.read as f64 / self.seconds } else { 0.0 }
    }

    /// The one-line summary a librarian reads.
    pub fn summary(&self) -> String {
        format!(
            "{}: read {}, new {}, updated {}, unchanged {}, rejected {}, {:.2} s, {:.0} records/s",
            self.file.display(),
            self.read,
            self.created,
            self.updated,
            self.unchanged,
            self.rejected.len(),
            self.seconds,
            self.records_per_second()
        )
    }

    /// Writes the rejected records next to each other in `dir`: `NAME.rejects.tsv` (file,
    /// ordinal, byte offset, reason: opens in a spreadsheet) and, for ISO 2709 input,
    /// `NAME.rejects.mrc` with the raw records to fix and import again. Returns the files
    /// written (none when nothing was rejected).
    pub fn write_rejects(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        if self.rejected.is_empty() {
            return Ok(Vec::new());
        }
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        let name = self.file.file_name().map_or_else(|| "import".into(), |n| n.to_string_lossy().into_owned());
        let tsv = dir.join(format!("{name}.rejects.tsv"));
        let mut text = String::from("file\tordinal\tbyte_offset\treason\n");
        for r in &self.rejected {
            let reason = r.reason.replace(['\t', '\n', '\r'], " ");
            text.push_str(&format!("{}\t{}\t{}\t{}\n", self.file.display(), r.ordinal, r.offset, reason));
        }
        std::fs::write(&tsv, text).map_err(Error::io(&tsv))?;
        let mut written = vec![tsv];
        if self.rejected.iter().any(|r| r.raw.is_some()) {
            let mrc = dir.join(format!("{name}.rejects.mrc"));
            let mut file = std::fs::File::create(&mrc).map_err(Error::io(&mrc))?;
            for raw in self.rejected.iter().filter_map(|r| r.raw.as_ref()) {
                file.write_all(raw).map_err(Error::io(&mrc))?;
            }
            written.push(mrc);
        }
        Ok(written)
    }
}

/// Imports one file (format detected from its bytes). `progress` is called after each
/// batch with (bytes read so far, total bytes).
pub fn import_file(catalogue: &Catalogue, path: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<ImportReport> {
    let started = Instant::now();
    let data = std::fs::read(path).map_err(Error::io(path))?;
    let source_name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut report = import_bytes(catalogue, &data, &source_name, progress).map_err(|err| match err {
        Error::NotMarc { reason, .. } => Error::NotMarc { path: path.to_path_buf(), reason },
        other => other,
    })?;
    report.file = path.to_path_buf();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Imports MARC held in memory (an upload), format detected from the bytes, exactly as
/// [`import_file`] imports a file; `source` is the name the records are stored with (and
/// the report's `file`). Bytes that are no MARC at all are [`Error::NotMarc`].
pub fn import_bytes(
    catalogue: &Catalogue,
    data: &[u8],
    source: &str,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport> {
    let started = Instant::now();
    let not_marc = |reason| Error::NotMarc { path: PathBuf::from(source), reason };
    // gzip of any format is undone first, bounded (see `MAX_DECOMPRESSED_BYTES`); offsets
    // and progress are then those of the decompressed bytes.
    let data = source::decompress(data).map_err(not_marc)?;
    let data = &*data;
    let records = source::records(data).map_err(not_marc)?;
    let source_name = source.to_owned();
    let mut report = ImportReport { file: PathBuf::from(source), ..ImportReport::default() };
    let mut batch = Vec::with_capacity(BATCH);
    let mut last_offset = 0;
    // A thread parses the next records while the last batch is written: parsing (UTF-8
    // checks, MARC-8 detection, subfields) is a fifth of an import and needs no store.
    std::thread::scope(|scope| -> Result<()> {
        let (parsed, arrivals) = std::sync::mpsc::sync_channel::<Vec<SourceRecord<'_>>>(2);
        scope.spawn(move || {
            let mut chunk = Vec::with_capacity(BATCH);
            for record in records {
                chunk.push(record);
                // The receiver has gone only if storing failed: nothing more to do.
                if chunk.len() == BATCH
                    && parsed.send(std::mem::replace(&mut chunk, Vec::with_capacity(BATCH))).is_err()
                {
                    return;
                }
            }
            let _ = parsed.send(chunk);
        });
        for record in arrivals.into_iter().flatten() {
            report.read += 1;
            last_offset = record.offset;
            match record.result {
                Ok((parsed, encoding)) => {
                    if encoding != SourceEncoding::Utf8 {
                        report.converted += 1;
                    }
                    batch.push(parsed);
                }
                Err(reason) => report.rejected.push(Rejection {
                    ordinal: record.ordinal,
                    offset: record.offset,
                    reason,
                    raw: record.raw.map(<[u8]>::to_vec),
                }),
            }
            if batch.len() >= BATCH {
                store(catalogue, &mut batch, &source_name, &mut report)?;
                progress(last_offset as u64, data.len() as u64);
            }
        }
        Ok(())
    })?;
    store(catalogue, &mut batch, &source_name, &mut report)?;
    progress(data.len() as u64, data.len() as u64);
    let _ = last_offset;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn store(catalogue: &Catalogue, batch: &mut Vec<crate::Record>, source: &str, report: &mut ImportReport) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    for outcome in catalogue.upsert(std::mem::take(batch), source)? {
        match outcome {
            Outcome::Created(_) => report.created += 1,
            Outcome::Updated(_) => report.updated += 1,
            Outcome::Unchanged(_) => report.unchanged += 1,
        }
    }
    Ok(())
}
