//! What a record must be for an export format to carry it as it is.
//!
//! The catalogue keeps records as imported, and the readers are lenient where real files
//! are (an upper-case or `|` indicator, a local tag, a data field without subfields, text
//! with a stray control character). An export must not "fix" such a record behind the
//! librarian's back, nor write one that a validating reader refuses: every export checks
//! each record against what its format allows, and a record that fails is left out and
//! reported with the reason this module gives. The writers then write the record exactly
//! (control fields first, see [`Record::exchange_order`]).
//!
//! MARCXML's rules are MARC21slim.xsd's patterns: the leader
//! `[\d ]{5}[\dA-Za-z ][\dA-Za-z][\dA-Za-z ]{3}(2| )(2| )[\d ]{5}[\dA-Za-z ]{3}(4500|    )`,
//! control tags `00[1-9A-Za-z]`, data tags of one case and not `00X`, indicators
//! `[\da-z ]`, subfield codes any printable ASCII but `@` and `|`, at least one subfield
//! in a data field, and only the characters XML 1.0 allows in text.

use super::iso2709;
use super::record::{Field, Record};

/// The formats a record is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// ISO 2709 (MARC 21 exchange, UTF-8).
    Iso2709,
    /// MARCXML, valid against MARC21slim.xsd.
    MarcXml,
    /// MarcEdit's mnemonic form (`.mrk`), read back identically by our reader.
    Mnemonic,
    /// MARC-in-JSON.
    Json,
}

/// `Ok` when `record` can be written in `target` exactly as it is; otherwise the first
/// reason it cannot, naming the field (`field 245 $a: …`).
pub(crate) fn check(record: &Record, target: Target) -> Result<(), String> {
    check_leader(&record.leader, target)?;
    // Lengths: every format carries the leader's record length and base address, which
    // MARC 21 bounds at five digits (and a field at four).
    iso2709::exchange_leader(record).map_err(|e| e.0)?;
    for field in &record.fields {
        let tag = field.tag();
        match field {
            Field::Control { value, .. } => {
                if target == Target::MarcXml && !control_tag_ok(tag.as_bytes()) {
                    return Err(format!(
                        "control field tag {tag} is not one MARC21slim.xsd allows (001-009, 00A-00Z, 00a-00z)"
                    ));
                }
                check_text(value, target).map_err(|why| format!("field {tag}: {why}"))?;
            }
            Field::Data { ind1, ind2, subfields, .. } => {
                if target == Target::MarcXml && !data_tag_ok(tag.as_bytes()) {
                    return Err(format!(
                        "data field tag {tag} is not one MARC21slim.xsd allows (010-999, or letters and digits of one case, not 00X)"
                    ));
                }
                for (n, ind) in [(1, *ind1), (2, *ind2)] {
                    check_indicator(ind, target).map_err(|why| format!("field {tag}: indicator {n} {ind:?} {why}"))?;
                }
                if target == Target::MarcXml && subfields.is_empty() {
                    return Err(format!("field {tag} has no subfields (MARC21slim.xsd wants at least one)"));
                }
                for subfield in subfields {
                    let code = subfield.code;
                    check_code(code, target).map_err(|why| format!("field {tag}: subfield code {code:?} {why}"))?;
                    check_text(&subfield.value, target).map_err(|why| format!("field {tag} ${code}: {why}"))?;
                }
            }
        }
    }
    Ok(())
}

fn check_leader(leader: &str, target: Target) -> Result<(), String> {
    let length = leader.chars().count();
    if length != 24 {
        return Err(format!("leader {leader:?} is {length} characters, not 24"));
    }
    let bytes = leader.as_bytes();
    if let Some(at) = bytes.iter().position(|b| *b != b' ' && !b.is_ascii_graphic()) {
        return Err(format!(
            "leader position {at} holds {:?}, not a printable ASCII character",
            leader_char(bytes, at)
        ));
    }
    match target {
        Target::MarcXml => {
            // Positions 0-4, 9-16 and 20-23 are written by the exporter (lengths, UTF-8,
            // MARC 21's 2, 2 and 4500); the others are written as they are.
            for at in (5..9).chain(17..20) {
                let b = bytes[at];
                let ok = b.is_ascii_alphanumeric() || (b == b' ' && at != 6);
                if !ok {
                    let want = if at == 6 { "a letter or digit" } else { "a letter, digit or blank" };
                    return Err(format!(
                        "leader position {at} holds {:?}; MARC21slim.xsd wants {want} there",
                        leader_char(bytes, at)
                    ));
                }
            }
        }
        Target::Mnemonic if bytes.contains(&b'\\') => {
            return Err("leader holds '\\', which .mrk reads back as a blank".into());
        }
        _ => {}
    }
    Ok(())
}

fn leader_char(bytes: &[u8], at: usize) -> char {
    bytes.get(at).map_or('?', |b| *b as char)
}

/// MARC21slim.xsd `controltagDataType`: `00[1-9A-Za-z]`.
fn control_tag_ok(tag: &[u8; 3]) -> bool {
    tag[0] == b'0' && tag[1] == b'0' && (matches!(tag[2], b'1'..=b'9') || tag[2].is_ascii_alphabetic())
}

/// MARC21slim.xsd `tagDataType`:
/// `(0([1-9A-Z][0-9A-Z])|0([1-9a-z][0-9a-z]))|(([1-9A-Z][0-9A-Z]{2})|([1-9a-z][0-9a-z]{2}))`.
fn data_tag_ok(tag: &[u8; 3]) -> bool {
    let upper = |b: u8| b.is_ascii_digit() || b.is_ascii_uppercase();
    let lower = |b: u8| b.is_ascii_digit() || b.is_ascii_lowercase();
    let nonzero = |b: u8| b != b'0';
    if tag[0] == b'0' {
        nonzero(tag[1]) && ((upper(tag[1]) && upper(tag[2])) || (lower(tag[1]) && lower(tag[2])))
    } else {
        (upper(tag[0]) && upper(tag[1]) && upper(tag[2])) || (lower(tag[0]) && lower(tag[1]) && lower(tag[2]))
    }
}

fn check_indicator(ind: char, target: Target) -> Result<(), &'static str> {
    if !(ind == ' ' || ind.is_ascii_graphic()) {
        return Err("is not one printable ASCII character or blank");
    }
    match target {
        Target::MarcXml if !(ind == ' ' || ind.is_ascii_digit() || ind.is_ascii_lowercase()) => {
            Err("is not one MARC21slim.xsd allows (a digit, a lower-case letter or blank)")
        }
        Target::Mnemonic if !(ind.is_ascii_alphanumeric() || ind == ' ' || ind == '|') => {
            Err("cannot be written in .mrk (a letter, digit, '|' or blank; '\\' there means blank)")
        }
        _ => Ok(()),
    }
}

fn check_code(code: char, target: Target) -> Result<(), &'static str> {
    if !code.is_ascii_graphic() {
        return Err("is not one printable ASCII character");
    }
    match target {
        Target::MarcXml if matches!(code, '@' | '|') => Err("is not one MARC21slim.xsd allows ('@' and '|' are not)"),
        Target::Mnemonic if code == '$' => Err("cannot be written in .mrk ('$' starts a subfield)"),
        _ => Ok(()),
    }
}

fn check_text(text: &str, target: Target) -> Result<(), String> {
    for c in text.chars() {
        let why = match c {
            '\u{1D}' | '\u{1E}' | '\u{1F}' => Some("the ISO 2709 record, field or subfield delimiter"),
            _ if target == Target::MarcXml && !xml_char(c) => Some("a character XML 1.0 cannot carry"),
            '\r' | '\n' if target == Target::Mnemonic => Some("a line break, which .mrk cannot carry"),
            _ => None,
        };
        if let Some(why) = why {
            return Err(format!("holds U+{:04X}, {why}", c as u32));
        }
    }
    Ok(())
}

/// XML 1.0's `Char` (surrogates cannot occur in a Rust string).
pub(crate) fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marc::record::{Subfield, Tag};

    fn tag(s: &str) -> Tag {
        s.parse().unwrap_or_else(|()| unreachable!("test tag"))
    }

    fn record(fields: Vec<Field>) -> Record {
        Record { leader: "00000nam a2200000 i 4500".into(), fields }
    }

    fn data(t: &str, ind1: char, ind2: char, subfields: &[(char, &str)]) -> Field {
        Field::Data {
            tag: tag(t),
            ind1,
            ind2,
            subfields: subfields.iter().map(|(code, value)| Subfield { code: *code, value: (*value).into() }).collect(),
        }
    }

    #[test]
    fn the_schema_patterns_of_tags() {
        for ok in ["010", "245", "999", "0A1", "ABC", "abc", "0ab", "9ZZ"] {
            assert!(data_tag_ok(tag(ok).as_bytes()), "{ok}");
        }
        for bad in ["001", "000", "00A", "aB1", "0aB", "Abc"] {
            assert!(!data_tag_ok(tag(bad).as_bytes()), "{bad}");
        }
        for ok in ["001", "009", "00A", "00z"] {
            assert!(control_tag_ok(tag(ok).as_bytes()), "{ok}");
        }
        assert!(!control_tag_ok(tag("000").as_bytes()));
    }

    #[test]
    fn each_format_refuses_what_it_cannot_carry() {
        let good = record(vec![
            Field::Control { tag: tag("001"), value: "x 1".into() },
            data("245", '1', '0', &[('a', "こゝろ / $5 {x}")]),
        ]);
        for target in [Target::Iso2709, Target::MarcXml, Target::Mnemonic, Target::Json] {
            assert_eq!(check(&good, target), Ok(()), "{target:?}");
        }
        let upper_ind = record(vec![data("245", 'A', '|', &[('a', "t")])]);
        assert!(check(&upper_ind, Target::Iso2709).is_ok());
        assert!(check(&upper_ind, Target::MarcXml).is_err_and(|e| e.contains("indicator 1 'A'")));
        let control_char = record(vec![data("500", ' ', ' ', &[('a', "bell\u{7}")])]);
        assert!(check(&control_char, Target::Json).is_ok());
        assert!(check(&control_char, Target::MarcXml).is_err_and(|e| e.contains("field 500 $a: holds U+0007")));
        let delimiter = record(vec![data("500", ' ', ' ', &[('a', "a\u{1F}b")])]);
        assert!(check(&delimiter, Target::Json).is_err());
        let empty = record(vec![data("500", ' ', ' ', &[])]);
        assert!(check(&empty, Target::Iso2709).is_ok());
        assert!(check(&empty, Target::MarcXml).is_err_and(|e| e.contains("no subfields")));
        let at_code = record(vec![data("500", ' ', ' ', &[('@', "x")])]);
        assert!(check(&at_code, Target::MarcXml).is_err());
        let newline = record(vec![data("500", ' ', ' ', &[('a', "two\nlines")])]);
        assert!(check(&newline, Target::MarcXml).is_ok());
        assert!(check(&newline, Target::Mnemonic).is_err_and(|e| e.contains("line break")));
        let mut bad_leader = good.clone();
        bad_leader.leader = "00000nam a2200000 | 4500".into();
        assert!(check(&bad_leader, Target::Iso2709).is_ok());
        assert!(check(&bad_leader, Target::MarcXml).is_err_and(|e| e.contains("leader position 18")));
        bad_leader.leader = "short".into();
        assert!(check(&bad_leader, Target::Json).is_err_and(|e| e.contains("not 24")));
    }
}
