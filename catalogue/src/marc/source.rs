//! Reading a MARC file of any supported format, record by record, with each record's
//! ordinal and byte offset so a bad one can be reported and the rest imported.

use super::iso2709::{self, SourceEncoding};
use super::marcxml;
use super::record::Record;

/// A MARC file format, detected from the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ISO 2709 exchange format (UTF-8 or MARC-8).
    Iso2709,
    /// MARCXML (a collection or a single record, with or without the namespace).
    MarcXml,
}

/// Detects the format from the first bytes, or says why it is neither.
pub fn detect(data: &[u8]) -> Result<Format, String> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    // Some files carry filler (NUL, line breaks) before the first record.
    let start = data.iter().position(|b| !b.is_ascii_whitespace() && *b != 0).unwrap_or(data.len());
    let head = &data[start..];
    if head.first() == Some(&b'<') {
        return Ok(Format::MarcXml);
    }
    if head.len() >= 24 && head[..5].iter().all(u8::is_ascii_digit) {
        return Ok(Format::Iso2709);
    }
    if head.is_empty() {
        return Err("the file is empty".into());
    }
    Err("not MARC: neither ISO 2709 (a record starts with its 5-digit length) nor MARCXML (starts with '<')".into())
}

/// One record read from a file.
#[derive(Debug)]
pub struct SourceRecord<'a> {
    /// 1-based position of the record in the file.
    pub ordinal: usize,
    /// Byte offset of the record in the file.
    pub offset: usize,
    /// The record's bytes in the file (ISO 2709 only; for a rejects file).
    pub raw: Option<&'a [u8]>,
    /// The record and the encoding it was read in, or why it was refused.
    pub result: Result<(Record, SourceEncoding), String>,
}

/// The records of `data`, lazily for ISO 2709. `Err` only when the format is unknown.
pub fn records(data: &[u8]) -> Result<Box<dyn Iterator<Item = SourceRecord<'_>> + Send + '_>, String> {
    match detect(data)? {
        Format::Iso2709 => Ok(Box::new(iso2709::split(data).enumerate().map(|(index, raw)| {
            SourceRecord {
                ordinal: index + 1,
                offset: raw.offset,
                raw: Some(raw.bytes),
                result: iso2709::parse(raw.bytes)
                    .map_err(|e| format!("{} (at byte {} of the file)", e.reason, raw.offset + e.offset)),
            }
        }))),
        Format::MarcXml => {
            let records = marcxml::read(data);
            if records.is_empty() {
                return Err(
                    "XML, but no MARCXML <record> in the MARC 21 slim namespace (MODS or Dublin Core are not imported)"
                        .into(),
                );
            }
            Ok(Box::new(records.into_iter().enumerate().map(|(index, record)| SourceRecord {
                ordinal: index + 1,
                offset: record.offset,
                raw: None,
                result: record.result.map(|r| (r, SourceEncoding::Utf8)),
            })))
        }
    }
}
