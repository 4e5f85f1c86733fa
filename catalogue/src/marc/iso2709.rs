//! ISO 2709 (MARC exchange format): splitting a file into records, parsing one record
//! (UTF-8 or MARC-8, whatever Leader/09 claims), and writing UTF-8 records.

use super::check;
use super::marc8;
use super::record::{Field, Record, Subfield, Tag};

const FIELD_TERMINATOR: u8 = 0x1E;
const RECORD_TERMINATOR: u8 = 0x1D;
const SUBFIELD_DELIMITER: u8 = 0x1F;

/// One record's bytes as found in a file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawRecord<'a> {
    /// Byte offset of the record in the file.
    pub(crate) offset: usize,
    /// The record, up to and including its terminator when it has one.
    pub(crate) bytes: &'a [u8],
}

/// Splits ISO 2709 data into records. The declared length is trusted when a record
/// terminator sits where it says; otherwise the next terminator ends the record, so a
/// record with a wrong length costs only itself, never its neighbours.
pub(crate) fn split(data: &[u8]) -> impl Iterator<Item = RawRecord<'_>> {
    let mut at = 0;
    std::iter::from_fn(move || {
        // Line breaks or padding between records are not part of any record.
        while data.get(at).is_some_and(|b| b.is_ascii_whitespace() || *b == 0 || *b == 0x1A) {
            at += 1;
        }
        let rest = data.get(at..).filter(|r| !r.is_empty())?;
        let declared = rest.get(..5).and_then(parse_digits).filter(|len| *len >= 24);
        let end = match declared {
            Some(len) if rest.get(len - 1) == Some(&RECORD_TERMINATOR) => len,
            _ => rest.iter().position(|b| *b == RECORD_TERMINATOR).map_or(rest.len(), |p| p + 1),
        };
        let record = RawRecord { offset: at, bytes: &rest[..end] };
        at += end;
        Some(record)
    })
}

/// Why a record could not be read, and where (byte offset within the record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) offset: usize,
    pub(crate) reason: String,
}

fn error(offset: usize, reason: impl Into<String>) -> ParseError {
    ParseError { offset, reason: reason.into() }
}

/// The character encoding a record's text was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceEncoding {
    /// UTF-8, as Leader/09 `a` says.
    Utf8,
    /// MARC-8 (Leader/09 blank), converted to UTF-8.
    Marc8,
    /// Leader/09 says MARC-8 but the bytes are UTF-8 (a common cataloguing-tool bug).
    Utf8DespiteLeader,
    /// Leader/09 says UTF-8 but the bytes are MARC-8.
    Marc8DespiteLeader,
}

/// Parses one ISO 2709 record into UTF-8 text.
pub(crate) fn parse(raw: &[u8]) -> Result<(Record, SourceEncoding), ParseError> {
    if raw.len() < 25 {
        return Err(error(
            0,
            format!("record of {} bytes is shorter than its 24-byte leader and directory", raw.len()),
        ));
    }
    let leader_bytes = &raw[..24];
    if !leader_bytes.iter().all(|b| b.is_ascii() && !b.is_ascii_control()) {
        return Err(error(0, "leader contains non-ASCII or control bytes"));
    }
    if !matches!(leader_bytes[10], b'2' | b' ') || !matches!(leader_bytes[11], b'2' | b' ') {
        return Err(error(
            10,
            format!(
                "Leader/10-11 {:?} declare other indicator or subfield-code lengths than MARC 21's 2 and 2 (danMARC2 or another MARC)",
                String::from_utf8_lossy(&leader_bytes[10..12])
            ),
        ));
    }
    let base = parse_digits(&leader_bytes[12..17])
        .ok_or_else(|| error(12, "leader base address of data (positions 12-16) is not a number"))?;
    if base < 25 || base > raw.len() {
        return Err(error(12, format!("base address of data {base} lies outside the record ({} bytes)", raw.len())));
    }
    // The directory ends with a field terminator just before the base address; tolerate
    // a base address that is off, as long as the terminator is where entries end.
    let directory_end = raw[24..base].iter().position(|b| *b == FIELD_TERMINATOR).map_or(base - 1, |p| p + 24);
    let directory = &raw[24..directory_end];
    if !directory.len().is_multiple_of(12) {
        return Err(error(
            24,
            format!("directory of {} bytes is not a whole number of 12-byte entries", directory.len()),
        ));
    }

    let mut entries = Vec::with_capacity(directory.len() / 12);
    for (index, entry) in directory.chunks_exact(12).enumerate() {
        let at = 24 + index * 12;
        let tag_bytes = [entry[0], entry[1], entry[2]];
        let tag = Tag::new(tag_bytes).ok_or_else(|| {
            error(
                at,
                format!("directory entry {} has an invalid tag {:?}", index + 1, String::from_utf8_lossy(&tag_bytes)),
            )
        })?;
        let length =
            parse_digits(&entry[3..7]).ok_or_else(|| error(at + 3, format!("field {tag}: length is not a number")))?;
        let start = parse_digits(&entry[7..12])
            .ok_or_else(|| error(at + 7, format!("field {tag}: starting position is not a number")))?;
        let data = raw.get(base + start..base + start + length).ok_or_else(|| {
            error(at, format!("field {tag} (start {start}, length {length}) lies outside the record"))
        })?;
        let data = data.strip_suffix(&[FIELD_TERMINATOR]).unwrap_or(data);
        entries.push((tag, base + start, data));
    }

    let encoding = detect_encoding(leader_bytes[9], entries.iter().map(|(_, _, data)| *data))
        .map_err(|(reason, index)| error(entries.get(index).map_or(0, |e| e.1), reason))?;
    let decode = |bytes: &[u8], offset: usize, tag: Tag| -> Result<String, ParseError> {
        match encoding {
            SourceEncoding::Utf8 | SourceEncoding::Utf8DespiteLeader => match std::str::from_utf8(bytes) {
                Ok(text) => Ok(text.to_string()),
                Err(e) => Err(error(offset + e.valid_up_to(), format!("field {tag}: invalid UTF-8"))),
            },
            SourceEncoding::Marc8 | SourceEncoding::Marc8DespiteLeader => {
                marc8::decode(bytes).map_err(|e| error(offset + e.offset, format!("field {tag}: MARC-8: {}", e.reason)))
            }
        }
    };

    let mut fields = Vec::with_capacity(entries.len());
    for (tag, offset, data) in entries {
        if tag.is_control() {
            fields.push(Field::Control { tag, value: decode(data, offset, tag)? });
            continue;
        }
        let (Some(&i1), Some(&i2)) = (data.first(), data.get(1)) else {
            return Err(error(offset, format!("field {tag} is too short for its two indicators")));
        };
        let indicator = |b: u8, at: usize| {
            if b.is_ascii_alphanumeric() || b == b' ' || b == b'|' {
                Ok(b as char)
            } else {
                Err(error(at, format!("field {tag}: indicator byte 0x{b:02X} is not a letter, digit or blank")))
            }
        };
        let (ind1, ind2) = (indicator(i1, offset)?, indicator(i2, offset + 1)?);
        let mut subfields = Vec::new();
        let body = &data[2..];
        let mut pieces = body.split(|b| *b == SUBFIELD_DELIMITER);
        let leading = pieces.next().unwrap_or_default();
        // Stray punctuation between the indicators and the first subfield (a `\\` left by
        // an editor, as in pymarc's regression45.dat) carries nothing and is dropped;
        // letters or digits there would be data, and the record is refused instead.
        if !leading.iter().all(|b| b.is_ascii_whitespace() || b.is_ascii_punctuation()) {
            return Err(error(offset + 2, format!("field {tag}: data before the first subfield delimiter")));
        }
        let mut at = offset + 2 + leading.len();
        for piece in pieces {
            at += 1;
            let Some((&code, value)) = piece.split_first() else {
                at += piece.len();
                continue; // an empty subfield (delimiter followed by nothing) carries nothing
            };
            if !code.is_ascii_graphic() {
                return Err(error(
                    at,
                    format!("field {tag}: subfield code 0x{code:02X} is not a printable ASCII character"),
                ));
            }
            subfields.push(Subfield { code: code as char, value: decode(value, at + 1, tag)? });
            at += piece.len();
        }
        fields.push(Field::Data { tag, ind1, ind2, subfields });
    }
    let mut leader = String::from_utf8_lossy(leader_bytes).into_owned();
    leader.replace_range(9..10, "a");
    Ok((Record { leader, fields }, encoding))
}

/// Decides how to read a record's text. Leader/09 is believed unless the bytes prove
/// it wrong: MARC-8 never forms multi-byte UTF-8 sequences (its non-ASCII bytes are
/// single diacritics before a letter), and UTF-8 never has escape sequences.
fn detect_encoding<'a>(
    leader_09: u8,
    fields: impl Iterator<Item = &'a [u8]> + Clone,
) -> Result<SourceEncoding, (String, usize)> {
    let all_utf8 = fields.clone().all(|f| std::str::from_utf8(f).is_ok());
    let any_multibyte = fields.clone().any(|f| f.iter().any(|b| *b >= 0x80));
    let any_escape = fields.clone().any(|f| f.contains(&0x1B));
    match leader_09 {
        b'a' if all_utf8 => Ok(SourceEncoding::Utf8),
        b'a' => {
            let marc8_ok = fields.clone().all(|f| marc8::decode(f).is_ok());
            if marc8_ok && (any_escape || any_multibyte) {
                Ok(SourceEncoding::Marc8DespiteLeader)
            } else {
                let index = fields.clone().position(|f| std::str::from_utf8(f).is_err()).unwrap_or(0);
                Err(("Leader/09 says UTF-8 but a field is not valid UTF-8 (nor MARC-8)".to_string(), index))
            }
        }
        _ if all_utf8 && any_multibyte && !any_escape => Ok(SourceEncoding::Utf8DespiteLeader),
        _ => Ok(SourceEncoding::Marc8),
    }
}

fn parse_digits(bytes: &[u8]) -> Option<usize> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// Why a record cannot be written as ISO 2709.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WriteError(pub(crate) String);

/// Appends `record` to `out` as UTF-8 ISO 2709 (Leader/09 `a`, lengths recomputed), its
/// fields in record order: how the catalogue stores a record as imported. Exports use
/// [`write_exchange`].
pub(crate) fn write(record: &Record, out: &mut Vec<u8>) -> Result<(), WriteError> {
    write_fields(&record.leader, record.fields.iter(), out)
}

/// Appends `record` to `out` for export: checked first (see [`check`](super::check)),
/// nothing repaired, the control fields first (see [`Record::exchange_order`]). A record
/// that cannot be written as it is comes back as the reason, and nothing is appended.
pub(crate) fn write_exchange(record: &Record, out: &mut Vec<u8>) -> Result<(), String> {
    check::check(record, check::Target::Iso2709)?;
    write_fields(&record.leader, record.exchange_order(), out).map_err(|e| e.0)
}

fn write_fields<'a>(
    leader: &str,
    fields: impl Iterator<Item = &'a Field>,
    out: &mut Vec<u8>,
) -> Result<(), WriteError> {
    let mut directory = Vec::with_capacity(12 * 16 + 1);
    let mut data = Vec::new();
    for field in fields {
        let start = data.len();
        match field {
            Field::Control { value, .. } => data.extend_from_slice(value.as_bytes()),
            Field::Data { ind1, ind2, subfields, .. } => {
                data.push(ascii_or_blank(*ind1));
                data.push(ascii_or_blank(*ind2));
                for subfield in subfields {
                    data.push(SUBFIELD_DELIMITER);
                    data.push(ascii_or_blank(subfield.code));
                    data.extend_from_slice(subfield.value.as_bytes());
                }
            }
        }
        data.push(FIELD_TERMINATOR);
        let length = data.len() - start;
        if length > 9999 || start > 99999 {
            return Err(WriteError(format!("field {} is too long for ISO 2709 ({length} bytes)", field.tag())));
        }
        directory.extend_from_slice(field.tag().as_bytes());
        directory.extend_from_slice(format!("{length:04}{start:05}").as_bytes());
    }
    directory.push(FIELD_TERMINATOR);
    let base = 24 + directory.len();
    let total = base + data.len() + 1;
    if total > 99999 {
        return Err(WriteError(format!("record of {total} bytes is too long for ISO 2709 (99,999 at most)")));
    }
    out.extend_from_slice(&leader_with(leader, total, base));
    out.extend_from_slice(&directory);
    out.extend_from_slice(&data);
    out.push(RECORD_TERMINATOR);
    Ok(())
}

/// The leader every export writes: the record's own, with the record length and base
/// address its ISO 2709 form has, Leader/09 `a` (UTF-8), and MARC 21's `22` and `4500`.
/// Fails when the record is too long for ISO 2709 (a field over 9,999 bytes, the record
/// over 99,999), which no MARC leader can say.
pub(crate) fn exchange_leader(record: &Record) -> Result<String, WriteError> {
    let mut data = 0;
    for field in &record.fields {
        let length = match field {
            Field::Control { value, .. } => value.len() + 1,
            Field::Data { subfields, .. } => {
                3 + subfields.iter().map(|s| 1 + s.code.len_utf8() + s.value.len()).sum::<usize>()
            }
        };
        if length > 9999 || data > 99999 {
            return Err(WriteError(format!("field {} is too long for ISO 2709 ({length} bytes)", field.tag())));
        }
        data += length;
    }
    let base = 24 + 12 * record.fields.len() + 1;
    let total = base + data + 1;
    if total > 99999 {
        return Err(WriteError(format!("record of {total} bytes is too long for ISO 2709 (99,999 at most)")));
    }
    Ok(String::from_utf8_lossy(&leader_with(&record.leader, total, base)).into_owned())
}

fn leader_with(leader: &str, total: usize, base: usize) -> Vec<u8> {
    let mut leader: Vec<u8> = leader.bytes().map(|b| if b.is_ascii_graphic() { b } else { b' ' }).collect();
    leader.resize(24, b' ');
    leader[..5].copy_from_slice(format!("{total:05}").as_bytes());
    leader[9] = b'a';
    leader[10..12].copy_from_slice(b"22");
    leader[12..17].copy_from_slice(format!("{base:05}").as_bytes());
    leader[20..24].copy_from_slice(b"4500");
    leader
}

fn ascii_or_blank(c: char) -> u8 {
    if c.is_ascii() && !c.is_ascii_control() { c as u8 } else { b' ' }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        Record {
            leader: "00000nam a2200000 i 4500".to_string(),
            fields: vec![
                Field::Control { tag: Tag::new(*b"001").unwrap_or_else(|| unreachable!()), value: "SH001".into() },
                Field::Data {
                    tag: Tag::new(*b"245").unwrap_or_else(|| unreachable!()),
                    ind1: '1',
                    ind2: '0',
                    subfields: vec![
                        Subfield { code: 'a', value: "こゝろ /".into() },
                        Subfield { code: 'c', value: "夏目漱石".into() },
                    ],
                },
            ],
        }
    }

    #[test]
    fn writes_and_reads_back() -> Result<(), String> {
        let mut bytes = Vec::new();
        write(&sample(), &mut bytes).map_err(|e| e.0)?;
        let raw: Vec<_> = split(&bytes).collect();
        assert_eq!(raw.len(), 1);
        let (record, encoding) = parse(raw[0].bytes).map_err(|e| e.reason)?;
        assert_eq!(encoding, SourceEncoding::Utf8);
        assert_eq!(record.fields, sample().fields);
        assert_eq!(&record.leader[5..12], "nam a22");
        Ok(())
    }

    #[test]
    fn a_wrong_length_costs_only_its_own_record() -> Result<(), String> {
        let mut bytes = Vec::new();
        for _ in 0..3 {
            write(&sample(), &mut bytes).map_err(|e| e.0)?;
        }
        let len = bytes.len() / 3;
        bytes[len..len + 5].copy_from_slice(b"00030"); // the second record lies about its length
        let raw: Vec<_> = split(&bytes).collect();
        assert_eq!(raw.iter().map(|r| r.offset).collect::<Vec<_>>(), [0, len, 2 * len]);
        assert!(parse(raw[2].bytes).is_ok());
        Ok(())
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&b""[..], b"0", b"00024", b"abcde", &[0xFF; 40], b"00030nam a2200025   4500\x1e\x1d"] {
            for raw in split(bytes) {
                let _ = parse(raw.bytes);
            }
        }
        let bad_base = b"00040nam a22000XX   4500001000100000\x1eX\x1e\x1d";
        assert!(parse(bad_base).is_err_and(|e| e.reason.contains("base address")));
    }
}
