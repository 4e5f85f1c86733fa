//! MarcEdit's mnemonic form (`.mrk`, LC's MARCMaker/MARCBreaker): one line per field,
//! records separated by blank lines, UTF-8 (a BOM and CRLF line ends are read too).
//!
//! ```text
//! =LDR  00000nam\\2200000\i\4500
//! =001  123
//! =245  10$aTitle /$cby X.
//! ```
//!
//! `\` is a blank in the leader, in control fields and in indicators; `$` starts a
//! subfield; `{dollar}`, `{lcub}`, `{rcub}` and `{bsol}` stand for `$`, `{`, `}` and `\`.
//! Files MarcEdit saved in MARC-8 mode carry LC's character mnemonics too: the spacing
//! ones in [`SPACING`] and the diacritics in [`COMBINING`] (written before their letter,
//! as in MARC-8; stored after it and composed to NFC, as the MARC-8 reader does) are
//! read, and any other `{name}` refuses its record rather than storing a guess.

use unicode_normalization::UnicodeNormalization;

use super::check::{self, Target};
use super::record::{Field, Record, Subfield, Tag};

/// Escapes: what the writer writes for characters the form gives a meaning to.
const ESCAPES: &[(&str, char)] = &[("dollar", '$'), ("lcub", '{'), ("rcub", '}'), ("bsol", '\\')];

/// LC's mnemonics for spacing characters (MARCMaker character set, SGML entity names).
const SPACING: &[(&str, char)] = &[("copy", '©'), ("reg", '®'), ("pound", '£'), ("deg", '°')];

/// LC's mnemonics for the common MARC-8 combining diacritics, with their Unicode forms.
const COMBINING: &[(&str, char)] = &[
    ("grave", '\u{300}'),
    ("acute", '\u{301}'),
    ("circ", '\u{302}'),
    ("tilde", '\u{303}'),
    ("macr", '\u{304}'),
    ("breve", '\u{306}'),
    ("dot", '\u{307}'),
    ("uml", '\u{308}'),
    ("ring", '\u{30A}'),
    ("caron", '\u{30C}'),
    ("cedil", '\u{327}'),
];

/// One record of a `.mrk` file: where it starts (1-based line, byte offset) and the
/// record, or why it was refused (naming the line).
pub(crate) struct MrkRecord {
    pub(crate) line: usize,
    pub(crate) offset: usize,
    pub(crate) result: Result<Record, String>,
}

/// The records of a `.mrk` file, in order.
pub(crate) fn read(data: &[u8]) -> Vec<MrkRecord> {
    let bom = if data.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let mut out = Vec::new();
    // (line number, byte offset, line without its line end)
    let mut current: Vec<(usize, usize, &[u8])> = Vec::new();
    let mut offset = bom;
    for (index, raw) in data[bom..].split(|b| *b == b'\n').enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let at = offset;
        offset += raw.len() + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            if !current.is_empty() {
                out.push(parse_record(&std::mem::take(&mut current)));
            }
            continue;
        }
        current.push((index + 1, at, line));
    }
    if !current.is_empty() {
        out.push(parse_record(&current));
    }
    out
}

fn parse_record(lines: &[(usize, usize, &[u8])]) -> MrkRecord {
    let (first_line, offset) = lines.first().map_or((0, 0), |(n, at, _)| (*n, *at));
    let mut leader = None;
    let mut fields = Vec::with_capacity(lines.len());
    let mut failure = None;
    for (number, _, bytes) in lines {
        match parse_line(bytes) {
            Ok(Line::Leader(value)) if leader.is_none() => leader = Some(value),
            Ok(Line::Leader(_)) => failure = Some(format!("line {number}: a second =LDR in one record")),
            Ok(Line::Field(field)) => fields.push(field),
            Err(why) => failure = Some(format!("line {number}: {why}")),
        }
        if failure.is_some() {
            break;
        }
    }
    let result = match (failure, leader) {
        (Some(why), _) => Err(why),
        (None, None) => Err(format!("line {first_line}: record without an =LDR line")),
        (None, Some(_)) if fields.is_empty() => Err(format!("line {first_line}: record has no fields")),
        (None, Some(mut leader)) => {
            // The text is UTF-8 whatever Leader/09 said, as with every reader here.
            leader.replace_range(9..10, "a");
            Ok(Record { leader, fields })
        }
    };
    MrkRecord { line: first_line, offset, result }
}

enum Line {
    Leader(String),
    Field(Field),
}

fn parse_line(bytes: &[u8]) -> Result<Line, String> {
    let line = std::str::from_utf8(bytes)
        .map_err(|e| format!("invalid UTF-8 at byte {} of the line (save the .mrk as UTF-8)", e.valid_up_to()))?;
    let Some(rest) = line.strip_prefix('=') else {
        return Err(format!("{:?} does not start with '=' and a tag", shorten(line)));
    };
    let (Some(tag), Some(content)) = (rest.get(..3), rest.get(3..)) else {
        return Err(format!("{:?} is too short for a tag", shorten(line)));
    };
    // MarcEdit writes two spaces between the tag and the content.
    let content = content
        .strip_prefix("  ")
        .ok_or_else(|| format!("field {tag}: expected two spaces after the tag in {:?}", shorten(line)))?;
    if tag == "LDR" {
        let leader = content.replace('\\', " ");
        if leader.chars().count() != 24 || !leader.is_ascii() {
            return Err(format!("leader {content:?} is not 24 ASCII characters"));
        }
        return Ok(Line::Leader(leader));
    }
    let tag: Tag = tag.parse().map_err(|()| format!("invalid tag {tag:?}"))?;
    if tag.is_control() {
        let value = decode(&content.replace('\\', " ")).map_err(|why| format!("field {tag}: {why}"))?;
        return Ok(Line::Field(Field::Control { tag, value }));
    }
    let mut chars = content.chars();
    let indicator = |c: Option<char>| match c {
        Some('\\') => Ok(' '),
        Some(c) if c.is_ascii_alphanumeric() || c == ' ' || c == '|' => Ok(c),
        Some(c) => Err(format!("field {tag}: indicator {c:?} is not a letter, digit or blank ('\\')")),
        None => Err(format!("field {tag} is too short for its two indicators")),
    };
    let (ind1, ind2) = (indicator(chars.next())?, indicator(chars.next())?);
    let body = chars.as_str();
    let mut pieces = body.split('$');
    if pieces.next().is_some_and(|lead| !lead.trim().is_empty()) {
        return Err(format!("field {tag}: data before the first '$' subfield"));
    }
    let mut subfields = Vec::new();
    for piece in pieces {
        let mut chars = piece.chars();
        let Some(code) = chars.next() else {
            return Err(format!("field {tag}: '$' without a subfield code"));
        };
        if !code.is_ascii_graphic() {
            return Err(format!("field {tag}: subfield code {code:?} is not a printable ASCII character"));
        }
        let value = decode(chars.as_str()).map_err(|why| format!("field {tag} ${code}: {why}"))?;
        subfields.push(Subfield { code, value });
    }
    Ok(Line::Field(Field::Data { tag, ind1, ind2, subfields }))
}

fn shorten(line: &str) -> String {
    line.chars().take(40).collect()
}

/// Resolves `{name}` mnemonics. Diacritics are held until the next character and put
/// after it (MARC-8 order to Unicode order), then the text is composed to NFC.
fn decode(text: &str) -> Result<String, String> {
    if !text.contains('{') {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut pending = String::new();
    let mut combined = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '{' {
            let Some(end) = rest.find('}') else {
                return Err(format!("'{{' without '}}' in {:?} (a literal brace is {{lcub}})", shorten(rest)));
            };
            let name = &rest[1..end];
            rest = &rest[end + 1..];
            let lookup = |table: &[(&str, char)]| table.iter().find(|(n, _)| *n == name).map(|(_, c)| *c);
            if let Some(mark) = lookup(COMBINING) {
                pending.push(mark);
                combined = true;
                continue;
            }
            let Some(c) = lookup(ESCAPES).or_else(|| lookup(SPACING)) else {
                return Err(format!("unknown mnemonic {{{name}}} (save the file from MarcEdit as UTF-8)"));
            };
            out.push(c);
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out.push_str(&std::mem::take(&mut pending));
    }
    // Diacritics with nothing after them stay at the end, as MARC-8 readers leave them.
    out.push_str(&pending);
    Ok(if combined { out.nfc().collect() } else { out })
}

/// Appends `record` as `.mrk` lines and a blank line: checked first, written exactly,
/// control fields first; what [`read`] reads back as the same record.
pub(crate) fn write(record: &Record, out: &mut String) -> Result<(), String> {
    check::check(record, Target::Mnemonic)?;
    let leader = super::iso2709::exchange_leader(record).map_err(|e| e.0)?;
    let mut text = String::with_capacity(256);
    text.push_str("=LDR  ");
    text.push_str(&leader.replace(' ', "\\"));
    text.push('\n');
    for field in record.exchange_order() {
        text.push('=');
        text.push_str(field.tag().as_str());
        text.push_str("  ");
        match field {
            Field::Control { value, .. } => {
                for c in value.chars() {
                    match c {
                        ' ' => text.push('\\'),
                        _ => escape_into(c, &mut text),
                    }
                }
            }
            Field::Data { ind1, ind2, subfields, .. } => {
                for ind in [*ind1, *ind2] {
                    text.push(if ind == ' ' { '\\' } else { ind });
                }
                for subfield in subfields {
                    text.push('$');
                    text.push(subfield.code);
                    for c in subfield.value.chars() {
                        escape_into(c, &mut text);
                    }
                }
            }
        }
        text.push('\n');
    }
    text.push('\n');
    out.push_str(&text);
    Ok(())
}

fn escape_into(c: char, out: &mut String) {
    match ESCAPES.iter().find(|(_, e)| *e == c) {
        Some((name, _)) => {
            out.push('{');
            out.push_str(name);
            out.push('}');
        }
        None => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_marcedit_lines_with_escapes_bom_and_crlf() {
        let data = "\u{FEFF}=LDR  00000nam\\\\2200000\\i\\4500\r\n=001  ab\\1\r\n=245  10$aPrice {dollar}5 {lcub}x{rcub} a{bsol}b$cP{acute}erez\r\n\r\n";
        let records = read(data.as_bytes());
        assert_eq!(records.len(), 1);
        let record = records[0].result.as_ref().unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(record.leader, "00000nam a2200000 i 4500");
        assert_eq!(record.control_number(), Some("ab 1"));
        let title = &record.fields[1];
        assert_eq!(title.subfield_values('a').collect::<Vec<_>>(), ["Price $5 {x} a\\b"]);
        assert_eq!(title.subfield_values('c').collect::<Vec<_>>(), ["Pérez"]);
        assert_eq!(records[0].line, 1);
    }

    #[test]
    fn a_bad_line_costs_only_its_record() {
        let data = "=LDR  00000nam\\\\2200000\\i\\4500\n=001  1\n\n=LDR  00000nam\\\\2200000\\i\\4500\n=245  10$a{nosuch}\n\n=LDR  00000nam\\\\2200000\\i\\4500\n=001  3\n";
        let records = read(data.as_bytes());
        assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 4, 7]);
        assert!(records[0].result.is_ok() && records[2].result.is_ok());
        let why = records[1].result.as_ref().err().cloned().unwrap_or_default();
        assert!(why.starts_with("line 5: field 245 $a: unknown mnemonic {nosuch}"), "{why}");
    }
}
