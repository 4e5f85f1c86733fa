//! MARC-in-JSON (Ross Singer's code4lib proposal, as pymarc's `JSONReader`/`JSONWriter`
//! and yaz-marcdump's `-o json` have it):
//!
//! ```json
//! {"leader": "00000nam a2200000 i 4500",
//!  "fields": [{"001": "123"},
//!             {"245": {"ind1": "1", "ind2": "0", "subfields": [{"a": "Title"}]}}]}
//! ```
//!
//! Read as a single object, an array of them, or newline-delimited objects. Values are
//! parsed one at a time, so a record that is no MARC record costs only itself, and a
//! syntax error ends the reading there while keeping the records before it.

use serde_json::{Map, Value};

use super::check::{self, Target};
use super::record::{Field, Record, Subfield, Tag};

/// One record of a JSON file: its byte offset and line, and the record or why not.
pub(crate) struct JsonRecord {
    pub(crate) offset: usize,
    pub(crate) line: usize,
    pub(crate) result: Result<Record, String>,
}

/// The records of a MARC-in-JSON document, in order.
pub(crate) fn read(data: &[u8]) -> Vec<JsonRecord> {
    let mut out = Vec::new();
    let mut lines = LineCounter::default();
    let mut at = skip_space(data, if data.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 });
    let array = data.get(at) == Some(&b'[');
    if array {
        at = skip_space(data, at + 1);
        if data.get(at) == Some(&b']') {
            return out;
        }
    }
    while at < data.len() {
        let line = lines.line_at(data, at);
        let mut stream = serde_json::Deserializer::from_slice(&data[at..]).into_iter::<Value>();
        match stream.next() {
            None => break,
            Some(Err(err)) => {
                let line = line + err.line().saturating_sub(1);
                let message = err.to_string();
                let message = message.find(" at line ").map_or(message.as_str(), |end| &message[..end]);
                out.push(JsonRecord {
                    offset: at,
                    line,
                    result: Err(format!("malformed JSON at line {line}: {message}")),
                });
                return out;
            }
            Some(Ok(value)) => {
                out.push(JsonRecord { offset: at, line, result: record_from(&value) });
                at = skip_space(data, at + stream.byte_offset());
            }
        }
        if array {
            match data.get(at) {
                Some(b',') => at = skip_space(data, at + 1),
                Some(b']') => return out,
                _ => {
                    let line = lines.line_at(data, at);
                    out.push(JsonRecord {
                        offset: at,
                        line,
                        result: Err(format!("malformed JSON at line {line}: expected ',' or ']' after a record")),
                    });
                    return out;
                }
            }
        }
    }
    if array {
        let line = lines.line_at(data, at);
        out.push(JsonRecord {
            offset: at,
            line,
            result: Err(format!("malformed JSON at line {line}: no closing ']'")),
        });
    }
    out
}

fn skip_space(data: &[u8], mut at: usize) -> usize {
    while data.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// 1-based line numbers of increasing byte offsets, counted once.
#[derive(Default)]
struct LineCounter {
    at: usize,
    line: usize,
}

impl LineCounter {
    fn line_at(&mut self, data: &[u8], offset: usize) -> usize {
        let offset = offset.min(data.len());
        if offset < self.at {
            self.at = 0;
            self.line = 0;
        }
        self.line += data[self.at..offset].iter().filter(|b| **b == b'\n').count();
        self.at = offset;
        self.line + 1
    }
}

fn record_from(value: &Value) -> Result<Record, String> {
    let Some(object) = value.as_object() else {
        return Err("a record is a JSON object with \"leader\" and \"fields\"".into());
    };
    let leader = match object.get("leader") {
        Some(Value::String(leader)) => leader.clone(),
        Some(_) => return Err("\"leader\" is not a string".into()),
        None => return Err("record without a \"leader\"".into()),
    };
    if leader.chars().count() != 24 || !leader.is_ascii() {
        return Err(format!("leader {leader:?} is not 24 ASCII characters"));
    }
    if !matches!(leader.as_bytes()[10], b'2' | b' ') || !matches!(leader.as_bytes()[11], b'2' | b' ') {
        return Err(format!(
            "Leader/10-11 {:?} declare other indicator or subfield-code lengths than MARC 21's 2 and 2",
            &leader[10..12]
        ));
    }
    let Some(Value::Array(items)) = object.get("fields") else {
        return Err("record without a \"fields\" array".into());
    };
    let mut fields = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        fields.push(field_from(item).map_err(|why| format!("field {} of the record: {why}", index + 1))?);
    }
    if fields.is_empty() {
        return Err("record has no fields".into());
    }
    let mut leader = leader;
    leader.replace_range(9..10, "a");
    Ok(Record { leader, fields })
}

fn single(value: &Value) -> Option<(&String, &Value)> {
    let object = value.as_object()?;
    let mut entries = object.iter();
    let first = entries.next()?;
    entries.next().is_none().then_some(first)
}

fn field_from(item: &Value) -> Result<Field, String> {
    let Some((tag_text, value)) = single(item) else {
        return Err("a field is an object with one key, its tag".into());
    };
    let tag: Tag = tag_text.parse().map_err(|()| format!("invalid tag {tag_text:?}"))?;
    match value {
        Value::String(text) if tag.is_control() => {
            Ok(Field::Control { tag, value: no_delimiters(text).map_err(|why| format!("{tag}: {why}"))? })
        }
        Value::String(_) => Err(format!("{tag} is a string, but only control fields (00X) are")),
        Value::Object(_) if tag.is_control() => Err(format!("{tag} is a control field (00X) with subfields")),
        Value::Object(body) => data_field(tag, body).map_err(|why| format!("{tag}: {why}")),
        _ => Err(format!("{tag} is neither a string nor an object")),
    }
}

fn data_field(tag: Tag, body: &Map<String, Value>) -> Result<Field, String> {
    if let Some(key) = body.keys().find(|k| !matches!(k.as_str(), "ind1" | "ind2" | "subfields")) {
        return Err(format!("unexpected {key:?} (MARC 21 has ind1, ind2 and subfields only)"));
    }
    let indicator = |name: &str| -> Result<char, String> {
        let Some(Value::String(text)) = body.get(name) else {
            return Err(format!("{name} missing or not a string"));
        };
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphanumeric() || c == ' ' || c == '|' => Ok(c),
            _ => Err(format!("{name} {text:?} is not one letter, digit or blank")),
        }
    };
    let (ind1, ind2) = (indicator("ind1")?, indicator("ind2")?);
    let Some(Value::Array(items)) = body.get("subfields") else {
        return Err("no \"subfields\" array".into());
    };
    let mut subfields = Vec::with_capacity(items.len());
    for item in items {
        let Some((code_text, value)) = single(item) else {
            return Err("a subfield is an object with one key, its code".into());
        };
        let mut chars = code_text.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_graphic() => c,
            _ => return Err(format!("subfield code {code_text:?} is not one printable ASCII character")),
        };
        let Value::String(text) = value else {
            return Err(format!("${code} is not a string"));
        };
        subfields.push(Subfield { code, value: no_delimiters(text).map_err(|why| format!("${code}: {why}"))? });
    }
    Ok(Field::Data { tag, ind1, ind2, subfields })
}

fn no_delimiters(text: &str) -> Result<String, String> {
    match text.chars().find(|c| matches!(c, '\u{1D}' | '\u{1E}' | '\u{1F}')) {
        Some(c) => Err(format!("holds U+{:04X}, an ISO 2709 delimiter", c as u32)),
        None => Ok(text.to_owned()),
    }
}

/// Appends `record` as one MARC-in-JSON object (no line break): checked first, written
/// exactly, control fields first, leader with its ISO 2709 lengths.
pub(crate) fn write(record: &Record, out: &mut String) -> Result<(), String> {
    check::check(record, Target::Json)?;
    let leader = super::iso2709::exchange_leader(record).map_err(|e| e.0)?;
    let mut text = String::with_capacity(512);
    text.push_str("{\"leader\":");
    push_string(&leader, &mut text);
    text.push_str(",\"fields\":[");
    for (index, field) in record.exchange_order().enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push('{');
        push_string(field.tag().as_str(), &mut text);
        text.push(':');
        match field {
            Field::Control { value, .. } => push_string(value, &mut text),
            Field::Data { ind1, ind2, subfields, .. } => {
                text.push_str("{\"ind1\":");
                push_string(&ind1.to_string(), &mut text);
                text.push_str(",\"ind2\":");
                push_string(&ind2.to_string(), &mut text);
                text.push_str(",\"subfields\":[");
                for (n, subfield) in subfields.iter().enumerate() {
                    if n > 0 {
                        text.push(',');
                    }
                    text.push('{');
                    push_string(&subfield.code.to_string(), &mut text);
                    text.push(':');
                    push_string(&subfield.value, &mut text);
                    text.push('}');
                }
                text.push_str("]}");
            }
        }
        text.push('}');
    }
    text.push_str("]}");
    out.push_str(&text);
    Ok(())
}

fn push_string(value: &str, out: &mut String) {
    // Serialising a string to JSON cannot fail.
    out.push_str(&serde_json::to_string(value).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"{"leader":"00000nam a2200000 i 4500","fields":[{"001":"x1"},{"245":{"ind1":"1","ind2":"0","subfields":[{"a":"こゝろ"}]}}]}"#;

    #[test]
    fn reads_an_object_an_array_and_lines() {
        for data in [ONE.to_string(), format!("[\n{ONE},\n{ONE}\n]\n"), format!("{ONE}\n{ONE}\n")] {
            let records = read(data.as_bytes());
            assert!(!records.is_empty());
            for r in &records {
                let record = r.result.as_ref().unwrap_or_else(|e| unreachable!("{e}"));
                assert_eq!(record.control_number(), Some("x1"));
            }
        }
        let lines = read(format!("{ONE}\n{ONE}\n").as_bytes());
        assert_eq!(lines.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn a_bad_record_costs_itself_and_bad_syntax_keeps_what_came_before() {
        let data = format!("[{ONE},\n{{\"leader\":\"short\",\"fields\":[]}},\n{ONE},\n{{\"leader\": }}]");
        let records = read(data.as_bytes());
        assert_eq!(records.len(), 4);
        assert!(records[0].result.is_ok() && records[2].result.is_ok());
        assert!(records[1].result.as_ref().is_err_and(|e| e.contains("not 24")));
        assert_eq!(records[1].line, 2);
        assert!(records[3].result.as_ref().is_err_and(|e| e.starts_with("malformed JSON at line 4")));
    }

    #[test]
    fn writes_what_it_reads() -> Result<(), String> {
        let records = read(ONE.as_bytes());
        let record = records.into_iter().next().ok_or("no record")?.result?;
        let mut text = String::new();
        write(&record, &mut text)?;
        let again = read(text.as_bytes()).into_iter().next().ok_or("no record")?.result?;
        assert_eq!(again.fields, record.fields);
        Ok(())
    }
}
