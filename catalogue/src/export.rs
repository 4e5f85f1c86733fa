//! Exporting a tenant's catalogue as UTF-8 ISO 2709 or MARCXML.

use std::io::Write;

use crate::error::{Error, Result};
use crate::marc::marcxml;
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
