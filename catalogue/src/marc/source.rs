//! Reading a MARC file of any supported format, record by record, with each record's
//! ordinal and byte offset so a bad one can be reported and the rest imported.

use std::borrow::Cow;
use std::io::Read;

use super::iso2709::{self, SourceEncoding};
use super::record::Record;
use super::{json, marcxml, mnemonic};

/// The most a gzip-compressed file may decompress to (1 GiB). The whole file is held in
/// memory while it is imported, as an uncompressed one is; a compression ratio of 1,000
/// (a "gzip bomb") would otherwise turn a 64 MiB upload (the server's default limit) into
/// 64 GiB. MARC compresses 4 to 15 times, so this admits every real file up to the
/// 250,000-record LC dump (242 MB) several times over.
pub const MAX_DECOMPRESSED_BYTES: u64 = 1 << 30;

/// A MARC file format, detected from the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ISO 2709 exchange format (UTF-8 or MARC-8).
    Iso2709,
    /// MARCXML (a collection or a single record, with or without the namespace).
    MarcXml,
    /// MarcEdit's mnemonic form (`.mrk`): `=LDR  …`, `=245  10$a…`, UTF-8.
    Mnemonic,
    /// MARC-in-JSON: one object, an array of them, or one object per line.
    Json,
    /// gzip-compressed (any of the others inside): see [`decompress`].
    Gzip,
}

/// Detects the format from the first bytes, or says why it is neither.
pub fn detect(data: &[u8]) -> Result<Format, String> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    // Some files carry filler (NUL, line breaks) before the first record.
    let start = data.iter().position(|b| !b.is_ascii_whitespace() && *b != 0).unwrap_or(data.len());
    let head = &data[start..];
    if data.starts_with(&[0x1F, 0x8B]) {
        return Ok(Format::Gzip);
    }
    match head.first() {
        Some(b'<') => return Ok(Format::MarcXml),
        Some(b'{' | b'[') => return Ok(Format::Json),
        Some(b'=') if head.get(1..4).is_some_and(|tag| tag.iter().all(u8::is_ascii_alphanumeric)) => {
            return Ok(Format::Mnemonic);
        }
        _ => {}
    }
    if head.len() >= 24 && head[..5].iter().all(u8::is_ascii_digit) {
        return Ok(Format::Iso2709);
    }
    if head.is_empty() {
        return Err("the file is empty".into());
    }
    Err("not MARC: neither ISO 2709 (a record starts with its 5-digit length), MARCXML (starts with '<'), \
         MARC-in-JSON (starts with '{' or '['), MarcEdit .mrk (starts with '=LDR') nor gzip"
        .into())
}

/// The bytes of `data` with gzip undone (several members are read one after the other,
/// as `gzip -d` does), or `data` itself when it is not gzip. At most
/// [`MAX_DECOMPRESSED_BYTES`] are decompressed; beyond that, or when the gzip stream is
/// damaged or holds another gzip, the reason is given.
pub fn decompress(data: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    decompress_bounded(data, MAX_DECOMPRESSED_BYTES)
}

fn decompress_bounded(data: &[u8], limit: u64) -> Result<Cow<'_, [u8]>, String> {
    if detect(data) != Ok(Format::Gzip) {
        return Ok(Cow::Borrowed(data));
    }
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(64 << 20));
    // One byte more than the limit is read, to tell "exactly the limit" from "beyond".
    let mut decoder = flate2::read::MultiGzDecoder::new(data).take(limit + 1);
    decoder.read_to_end(&mut out).map_err(|err| format!("gzip: the compressed data are damaged: {err}"))?;
    if out.len() as u64 > limit {
        return Err(format!(
            "gzip: the file decompresses to more than {} MiB, the most an import takes (a gzip bomb, or a file to split)",
            limit >> 20
        ));
    }
    if detect(&out) == Ok(Format::Gzip) {
        return Err("gzip: a gzip file inside a gzip file (decompress it once first)".into());
    }
    Ok(Cow::Owned(out))
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

/// The records of `data`, lazily for ISO 2709. `Err` only when the format is unknown, or
/// for gzip, which [`decompress`] undoes first (the import does).
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
        Format::Mnemonic => Ok(Box::new(mnemonic::read(data).into_iter().enumerate().map(|(index, record)| {
            let line = record.line;
            SourceRecord {
                ordinal: index + 1,
                offset: record.offset,
                raw: None,
                result: record
                    .result
                    .map(|r| (r, SourceEncoding::Utf8))
                    .map_err(|why| if why.starts_with("line ") { why } else { format!("line {line}: {why}") }),
            }
        }))),
        // JSON with neither key of MARC-in-JSON anywhere is some other JSON, not MARC with
        // every record broken (as XML without a MARCXML record is not MARCXML).
        Format::Json if !has_key(data, b"\"leader\"") && !has_key(data, b"\"fields\"") => {
            Err("JSON, but not MARC-in-JSON: no object has a \"leader\" or \"fields\"".into())
        }
        Format::Json => Ok(Box::new(json::read(data).into_iter().enumerate().map(|(index, record)| {
            let line = record.line;
            SourceRecord {
                ordinal: index + 1,
                offset: record.offset,
                raw: None,
                result: record.result.map(|r| (r, SourceEncoding::Utf8)).map_err(|why| {
                    if why.starts_with("malformed JSON") { why } else { format!("record at line {line}: {why}") }
                }),
            }
        }))),
        Format::Gzip => Err("gzip-compressed: decompress it first (catalogue::decompress)".into()),
    }
}

fn has_key(data: &[u8], key: &[u8]) -> bool {
    data.windows(key.len()).any(|window| window == key)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let _ = encoder.write_all(data);
        encoder.finish().unwrap_or_default()
    }

    #[test]
    fn a_gzip_bomb_is_refused_at_the_bound() {
        // 4 MiB of zeros compress to about 4 KB: a ratio of 1,000, as a bomb has.
        let bomb = gzip(&vec![0u8; 4 << 20]);
        assert!(bomb.len() < 8 << 10);
        let refused = decompress_bounded(&bomb, 1 << 20);
        assert!(refused.as_ref().is_err_and(|e| e.contains("more than 1 MiB")), "{refused:?}");
        assert_eq!(decompress_bounded(&bomb, 4 << 20).map(|d| d.len()), Ok(4 << 20));
        let nested = gzip(&gzip(b"00024nam a2200025   4500"));
        assert!(decompress(&nested).is_err_and(|e| e.contains("inside a gzip")));
        assert!(matches!(decompress(b"00024nam"), Ok(Cow::Borrowed(_))));
    }
}
