//! Exporting a tenant's catalogue as UTF-8 ISO 2709, MARCXML, MarcEdit's `.mrk` or
//! MARC-in-JSON.
//!
//! Every record is written with its control fields first and otherwise exactly as
//! stored: nothing is repaired. A record the format cannot carry as it is (an indicator
//! or a leader position MARC21slim.xsd refuses, a control character XML cannot hold, a
//! line break in `.mrk`, a record too long for a MARC leader …) is left out and reported
//! with its bib id and the reason, and the export goes on with the others.

use std::io::Write;

use crate::error::{Error, Result};
use crate::marc::check::{self, Target};
use crate::marc::record::Record;
use crate::marc::{iso2709, json, marcxml, mnemonic};
use crate::store::{Catalogue, StoredBib};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// ISO 2709, UTF-8 (Leader/09 `a`).
    Marc,
    /// MARCXML collection, valid against MARC21slim.xsd.
    MarcXml,
    /// MarcEdit's mnemonic form (`.mrk`), UTF-8, records separated by blank lines.
    Mnemonic,
    /// MARC-in-JSON: one array, one record per line (what pymarc's `JSONReader` reads).
    Json,
}

impl ExportFormat {
    fn target(self) -> Target {
        match self {
            ExportFormat::Marc => Target::Iso2709,
            ExportFormat::MarcXml => Target::MarcXml,
            ExportFormat::Mnemonic => Target::Mnemonic,
            ExportFormat::Json => Target::Json,
        }
    }

    /// The format's name in messages (`MARCXML`, `.mrk` …).
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Marc => "ISO 2709",
            ExportFormat::MarcXml => "MARCXML",
            ExportFormat::Mnemonic => ".mrk",
            ExportFormat::Json => "MARC-in-JSON",
        }
    }
}

/// A record an export left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRecord {
    /// The record's bib id.
    pub bib_id: u64,
    /// Why the format cannot carry it as it is (`field 245: indicator 1 'A' is not …`).
    pub reason: String,
}

/// What an export wrote and what it left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Records written.
    pub written: u64,
    /// Records left out, in bib id order.
    pub skipped: Vec<SkippedRecord>,
}

impl ExportReport {
    /// The one-line summary: how many were written and skipped.
    pub fn summary(&self) -> String {
        if self.skipped.is_empty() {
            format!("exported {} records", self.written)
        } else {
            format!(
                "exported {} records; skipped {} that the format cannot carry as they are (nothing was repaired)",
                self.written,
                self.skipped.len()
            )
        }
    }
}

const PAGE: usize = 1_000;

fn write_error(err: std::io::Error) -> Error {
    Error::Storage(format!("writing the export: {err}"))
}

/// Writes every record that `format` can carry, in bib id order, control fields first;
/// the others are left out and listed in the report. `Err` only for faults (the store,
/// the output).
pub fn export(catalogue: &Catalogue, format: ExportFormat, out: &mut dyn Write) -> Result<ExportReport> {
    let mut report = ExportReport::default();
    let mut buffer = Vec::new();
    let mut text = String::new();
    match format {
        ExportFormat::Marc => each_record(catalogue, &mut report, |record| {
            buffer.clear();
            iso2709::write_exchange(record, &mut buffer).map(|()| out.write_all(&buffer))
        })?,
        ExportFormat::MarcXml => {
            let mut writer = marcxml::Writer::new(&mut *out).map_err(write_error)?;
            each_record(catalogue, &mut report, |record| {
                check::check(record, Target::MarcXml).map(|()| writer.record(record))
            })?;
            writer.finish().map_err(write_error)?;
        }
        ExportFormat::Mnemonic => each_record(catalogue, &mut report, |record| {
            text.clear();
            mnemonic::write(record, &mut text).map(|()| out.write_all(text.as_bytes()))
        })?,
        ExportFormat::Json => {
            out.write_all(b"[\n").map_err(write_error)?;
            let mut first = true;
            each_record(catalogue, &mut report, |record| {
                text.clear();
                if !first {
                    text.push_str(",\n");
                }
                json::write(record, &mut text).map(|()| {
                    first = false;
                    out.write_all(text.as_bytes())
                })
            })?;
            out.write_all(if first { b"]\n" } else { b"\n]\n" }).map_err(write_error)?;
        }
    }
    out.flush().map_err(write_error)?;
    Ok(report)
}

/// Calls `write` for every stored record, counting those written and listing those it
/// refuses (`Err(reason)`; an unreadable stored record is listed the same way).
fn each_record(
    catalogue: &Catalogue,
    report: &mut ExportReport,
    mut write: impl FnMut(&Record) -> std::result::Result<std::io::Result<()>, String>,
) -> Result<()> {
    for_each_bib(catalogue, |bib| {
        let written = match bib.record() {
            Ok(record) => write(&record),
            Err(err) => Err(format!("stored record unreadable: {err}")),
        };
        match written {
            Ok(io) => {
                io.map_err(write_error)?;
                report.written += 1;
            }
            Err(reason) => report.skipped.push(SkippedRecord { bib_id: bib.id, reason }),
        }
        Ok(())
    })
}

/// Why `record` cannot be written in `format` as it is, or `Ok`: what [`export`] checks.
pub fn check_record(record: &Record, format: ExportFormat) -> std::result::Result<(), String> {
    check::check(record, format.target())
}

/// One record as UTF-8 ISO 2709 for export (a record page's `.mrc`): control fields
/// first, nothing repaired; `Err` with the reason when ISO 2709 cannot carry it.
pub fn iso2709_record(record: &Record) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    iso2709::write_exchange(record, &mut out)?;
    Ok(out)
}

/// One record as a MARCXML `<record>` element valid against MARC21slim.xsd, control
/// fields first and nothing repaired, or why it cannot be one: what an SRU response or a
/// record page should carry (with a surrogate diagnostic or an error for the `Err`).
/// Without an XML declaration, wrapped in a `<collection>` when `collection` is true.
pub fn try_marcxml_record(record: &Record, collection: bool) -> std::result::Result<String, String> {
    check::check(record, Target::MarcXml)?;
    Ok(unchecked_marcxml(record, collection))
}

/// One record as a MARCXML `<record>` element in the MARC 21 slim namespace, without an
/// XML declaration: what SRU puts in `recordData` and a record page offers for download
/// (wrapped in a `<collection>` by [`export`] and by `collection = true` here). Control
/// fields come first. Always well-formed and valid: a record that MARCXML cannot carry
/// as it is (see [`try_marcxml_record`], which says why) is shown with what the schema
/// refuses blanked or left out, which is fit for a page but not for an export.
pub fn marcxml_record(record: &Record, collection: bool) -> String {
    match try_marcxml_record(record, collection) {
        Ok(xml) => xml,
        Err(_) => unchecked_marcxml(&marcxml::displayable(record), collection),
    }
}

fn unchecked_marcxml(record: &Record, collection: bool) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    if collection {
        if let Ok(mut writer) = marcxml::Writer::new(&mut out) {
            let _ = writer.record(record);
            let _ = writer.finish();
        }
    } else {
        let _ = marcxml::write_record_element(record, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Calls `each` for every record, a page at a time.
fn for_each_bib(catalogue: &Catalogue, mut each: impl FnMut(StoredBib) -> Result<()>) -> Result<()> {
    let mut after = None;
    loop {
        let page = catalogue.bibs_after(after, PAGE)?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some(last.id);
        for bib in page {
            each(bib)?;
        }
    }
}
