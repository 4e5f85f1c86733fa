//! Exporting a tenant's catalogue as UTF-8 ISO 2709 or MARCXML.

use std::io::Write;

use crate::error::{Error, Result};
use crate::marc::marcxml;
use crate::marc::record::Record;
use crate::store::{Catalogue, StoredBib};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// ISO 2709, UTF-8 (Leader/09 `a`).
    Marc,
    /// MARCXML collection, valid against MARC21slim.xsd.
    MarcXml,
}

const PAGE: usize = 1_000;

fn write_error(err: std::io::Error) -> Error {
    Error::Storage(format!("writing the export: {err}"))
}

/// Writes every record, in bib id order; returns how many were written.
pub fn export(catalogue: &Catalogue, format: ExportFormat, out: &mut dyn Write) -> Result<u64> {
    let written = match format {
        ExportFormat::Marc => for_each_bib(catalogue, |bib| out.write_all(&bib.marc).map_err(write_error))?,
        ExportFormat::MarcXml => {
            let mut writer = marcxml::Writer::new(&mut *out).map_err(write_error)?;
            let written = for_each_bib(catalogue, |bib| writer.record(&bib.record()?).map_err(write_error))?;
            writer.finish().map_err(write_error)?;
            written
        }
    };
    out.flush().map_err(write_error)?;
    Ok(written)
}

/// One record as a MARCXML `<record>` element in the MARC 21 slim namespace, without an
/// XML declaration: what SRU puts in `recordData` and a record page offers for download
/// (wrapped in a `<collection>` by [`export`] and by `collection = true` here).
pub fn marcxml_record(record: &Record, collection: bool) -> String {
    let mut out = Vec::new();
    if collection {
        let mut writer = match marcxml::Writer::new(&mut out) {
            Ok(writer) => writer,
            Err(_) => return String::new(),
        };
        // Writing to a Vec cannot fail.
        let _ = writer.record(record);
        let _ = writer.finish();
    } else {
        let _ = marcxml::write_record_element(record, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Calls `each` for every record, a page at a time.
fn for_each_bib(catalogue: &Catalogue, mut each: impl FnMut(StoredBib) -> Result<()>) -> Result<u64> {
    let mut count = 0;
    let mut after = None;
    loop {
        let page = catalogue.bibs_after(after, PAGE)?;
        let Some(last) = page.last() else {
            return Ok(count);
        };
        after = Some(last.id);
        for bib in page {
            each(bib)?;
            count += 1;
        }
    }
}
