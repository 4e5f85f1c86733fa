//! MARCXML: reading a collection or single records (with or without the MARC 21 slim
//! namespace) and writing a collection valid against MARC21slim.xsd.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};

use super::check;
use super::iso2709;
use super::record::{Field, Record, Subfield, Tag};

/// The MARC 21 slim namespace.
pub(crate) const NAMESPACE: &str = "http://www.loc.gov/MARC21/slim";

/// One `<record>` as read: the record, or why it was refused. `offset` is the byte
/// offset of its `<record>` start tag in the file.
pub(crate) struct XmlRecord {
    pub(crate) offset: usize,
    pub(crate) result: Result<Record, String>,
}

/// The records of a MARCXML document, in order. A bad record is reported and skipped;
/// malformed XML ends the reading with one final error entry, keeping what came before.
pub(crate) fn read(data: &[u8]) -> Vec<XmlRecord> {
    let mut reader = NsReader::from_reader(data);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut current: Option<Builder> = None;
    loop {
        let position = reader.buffer_position() as usize;
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(err) => {
                let offset = reader.error_position() as usize;
                let reason = format!("malformed XML: {err}");
                out.push(XmlRecord { offset: current.as_ref().map_or(offset, |b| b.offset), result: Err(reason) });
                return out;
            }
        };
        match event {
            Event::Eof => {
                if let Some(builder) = current.take() {
                    out.push(XmlRecord { offset: builder.offset, result: Err("document ends inside <record>".into()) });
                }
                return out;
            }
            Event::Start(start) => {
                if current.is_none() && is_marc_record(&reader, &start) {
                    current = Some(Builder::new(position));
                } else if let Some(builder) = current.as_mut() {
                    builder.start(&start, false);
                }
            }
            Event::Empty(start) => {
                if current.is_none() && is_marc_record(&reader, &start) {
                    out.push(XmlRecord { offset: position, result: Err("empty <record/>".into()) });
                } else if let Some(builder) = current.as_mut() {
                    builder.start(&start, true);
                }
            }
            Event::End(end) => {
                if end.local_name().as_ref() == b"record" {
                    if let Some(builder) = current.take() {
                        out.push(XmlRecord { offset: builder.offset, result: builder.finish() });
                    }
                } else if let Some(builder) = current.as_mut() {
                    builder.end();
                }
            }
            Event::Text(text) => {
                if let Some(builder) = current.as_mut() {
                    match text.xml_content() {
                        Ok(text) => builder.text(&text),
                        Err(err) => builder.fail(format!("text is not valid: {err}")),
                    }
                }
            }
            Event::CData(data) => {
                if let Some(builder) = current.as_mut() {
                    builder.text(&String::from_utf8_lossy(&data.into_inner()));
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(builder) = current.as_mut() {
                    match reference.resolve_char_ref() {
                        Ok(Some(c)) => builder.text(c.encode_utf8(&mut [0; 4])),
                        Ok(None) => {
                            let name = String::from_utf8_lossy(&reference);
                            match quick_xml::escape::resolve_predefined_entity(&name) {
                                Some(text) => builder.text(text),
                                None => builder.fail(format!("unknown entity &{name};")),
                            }
                        }
                        Err(err) => builder.fail(format!("bad character reference: {err}")),
                    }
                }
            }
            _ => {}
        }
        buf.clear();
    }
}

/// A `<record>` of MARC 21 slim, or of no namespace (MARCXML written without one). The
/// `<record>` of other vocabularies (SRU's `zs:record` around MODS, say) is not MARC.
fn is_marc_record(reader: &NsReader<&[u8]>, start: &BytesStart<'_>) -> bool {
    let (namespace, local) = reader.resolve_element(start.name());
    local.as_ref() == b"record"
        && match namespace {
            ResolveResult::Unbound => true,
            ResolveResult::Bound(Namespace(ns)) => ns == NAMESPACE.as_bytes(),
            ResolveResult::Unknown(_) => false,
        }
}

/// A tag attribute; numeric tags written without leading zeros (`tag="10"`, as some
/// tools emit) are padded to three digits.
fn parse_tag(text: &str) -> Option<Tag> {
    let text = text.trim();
    if !text.is_empty() && text.len() < 3 && text.bytes().all(|b| b.is_ascii_digit()) {
        return format!("{text:0>3}").parse().ok();
    }
    text.parse().ok()
}

/// Where the reader is inside a `<record>`.
enum Open {
    Nothing,
    Leader,
    Control(Tag),
    Data,
    Subfield(char),
}

struct Builder {
    offset: usize,
    leader: Option<String>,
    fields: Vec<Field>,
    open: Open,
    text: String,
    error: Option<String>,
}

impl Builder {
    fn new(offset: usize) -> Self {
        Self { offset, leader: None, fields: Vec::new(), open: Open::Nothing, text: String::new(), error: None }
    }

    fn fail(&mut self, reason: String) {
        self.error.get_or_insert(reason);
    }

    fn attribute(start: &BytesStart<'_>, name: &str) -> Option<String> {
        start
            .attributes()
            .flatten()
            .find(|a| a.key.local_name().as_ref() == name.as_bytes())
            .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
    }

    fn start(&mut self, start: &BytesStart<'_>, empty: bool) {
        self.text.clear();
        match start.local_name().as_ref() {
            b"leader" => self.open = Open::Leader,
            b"controlfield" => match Self::attribute(start, "tag").and_then(|t| parse_tag(&t)) {
                Some(tag) => self.open = Open::Control(tag),
                None => self.fail("controlfield without a valid tag attribute".into()),
            },
            b"datafield" => {
                let tag = Self::attribute(start, "tag").and_then(|t| parse_tag(&t));
                let indicator = |name| {
                    let value = Self::attribute(start, name).unwrap_or_else(|| " ".into());
                    let mut chars = value.chars();
                    match (chars.next(), chars.next()) {
                        (None, _) => Some(' '),
                        (Some(c), None) if c.is_ascii_alphanumeric() || c == ' ' || c == '|' => Some(c),
                        _ => None,
                    }
                };
                match (tag, indicator("ind1"), indicator("ind2")) {
                    (Some(tag), Some(ind1), Some(ind2)) => {
                        self.fields.push(Field::Data { tag, ind1, ind2, subfields: Vec::new() });
                        self.open = Open::Data;
                    }
                    (None, ..) => self.fail("datafield without a valid tag attribute".into()),
                    _ => self.fail("datafield with an invalid indicator".into()),
                }
            }
            b"subfield" => match Self::attribute(start, "code").map(|c| c.chars().collect::<Vec<_>>()) {
                Some(code) if code.len() == 1 && code[0].is_ascii_graphic() => self.open = Open::Subfield(code[0]),
                _ => self.fail("subfield without a one-character code".into()),
            },
            _ => {}
        }
        if empty {
            self.end();
        }
    }

    fn text(&mut self, text: &str) {
        if !matches!(self.open, Open::Nothing | Open::Data) {
            self.text.push_str(text);
        }
    }

    fn end(&mut self) {
        let text = std::mem::take(&mut self.text);
        match std::mem::replace(&mut self.open, Open::Nothing) {
            Open::Leader => self.leader = Some(text),
            Open::Control(tag) => self.fields.push(Field::Control { tag, value: text }),
            Open::Subfield(code) => {
                if let Some(Field::Data { subfields, .. }) = self.fields.last_mut() {
                    subfields.push(Subfield { code, value: text });
                }
                self.open = Open::Data;
            }
            Open::Data | Open::Nothing => {}
        }
    }

    fn finish(self) -> Result<Record, String> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.fields.is_empty() {
            return Err("record has no fields".into());
        }
        let leader = self.leader.unwrap_or_default();
        if leader.chars().count() != 24 || !leader.is_ascii() {
            return Err(format!("leader {leader:?} is not 24 ASCII characters"));
        }
        Ok(Record { leader, fields: self.fields })
    }
}

/// Writes records as one MARCXML `<collection>` valid against MARC21slim.xsd. Records are
/// written as they are, control fields first: the caller checks each one first
/// ([`check`](super::check) with `Target::MarcXml`) and leaves out those that fail.
pub(crate) struct Writer<W: std::io::Write> {
    out: W,
}

impl<W: std::io::Write> Writer<W> {
    /// Starts the document.
    pub(crate) fn new(mut out: W) -> std::io::Result<Self> {
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(out, r#"<collection xmlns="{NAMESPACE}">"#)?;
        Ok(Self { out })
    }

    /// Writes one record.
    pub(crate) fn record(&mut self, record: &Record) -> std::io::Result<()> {
        write_record(record, &mut self.out, "  <record>")
    }

    /// Closes the document and returns the output.
    pub(crate) fn finish(mut self) -> std::io::Result<W> {
        writeln!(self.out, "</collection>")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes one `<record>` element carrying the MARC 21 slim namespace itself.
pub(crate) fn write_record_element(record: &Record, out: &mut impl std::io::Write) -> std::io::Result<()> {
    write_record(record, out, &format!(r#"  <record xmlns="{NAMESPACE}">"#))
}

fn write_record(record: &Record, out: &mut impl std::io::Write, open: &str) -> std::io::Result<()> {
    writeln!(out, "{open}")?;
    // A record too long for ISO 2709 has no leader lengths to compute; the checked
    // exports never get here with one, and a page shows its leader as stored.
    let leader = iso2709::exchange_leader(record).unwrap_or_else(|_| record.leader.clone());
    writeln!(out, "    <leader>{}</leader>", text(&leader))?;
    for field in record.exchange_order() {
        match field {
            Field::Control { tag, value } => {
                writeln!(out, r#"    <controlfield tag="{tag}">{}</controlfield>"#, text(value))?
            }
            Field::Data { tag, ind1, ind2, subfields } => {
                writeln!(
                    out,
                    r#"    <datafield tag="{tag}" ind1="{}" ind2="{}">"#,
                    text(&ind1.to_string()),
                    text(&ind2.to_string())
                )?;
                for subfield in subfields {
                    writeln!(
                        out,
                        r#"      <subfield code="{}">{}</subfield>"#,
                        text(&subfield.code.to_string()),
                        text(&subfield.value)
                    )?;
                }
                writeln!(out, "    </datafield>")?;
            }
        }
    }
    writeln!(out, "  </record>")
}

/// Escapes text for XML. A carriage return is written as `&#13;`, since XML readers
/// turn a literal one into a line feed; nothing is dropped (the record was checked).
fn text(value: &str) -> String {
    let escaped = quick_xml::escape::escape(value);
    if escaped.contains('\r') { escaped.replace('\r', "&#13;") } else { escaped.into_owned() }
}

/// A copy of `record` that MARCXML can carry, for pages that show a record rather than
/// export it ([`crate::marcxml_record`]): leader positions outside the schema's pattern
/// blanked, indicators outside `[0-9a-z ]` blanked, characters XML 1.0 cannot carry
/// dropped, and fields, subfields or codes the schema refuses left out. Exports never use
/// it: they leave such a record out and say why.
pub(crate) fn displayable(record: &Record) -> Record {
    let clean = |value: &str| -> String {
        value.chars().filter(|c| check::xml_char(*c) && !matches!(c, '\u{1D}' | '\u{1E}' | '\u{1F}')).collect()
    };
    let indicator = |c: char| if c.is_ascii_digit() || c.is_ascii_lowercase() || c == ' ' { c } else { ' ' };
    let mut leader: Vec<u8> = record.leader.bytes().map(|b| if b.is_ascii_graphic() { b } else { b' ' }).collect();
    leader.resize(24, b' ');
    for (i, b) in leader.iter_mut().enumerate() {
        let ok = match i {
            6 => b.is_ascii_alphanumeric(),
            5 | 7 | 8 | 17..=19 => b.is_ascii_alphanumeric() || *b == b' ',
            _ => true,
        };
        if !ok {
            *b = if i == 6 { b'a' } else { b' ' };
        }
    }
    let mut out = Record { leader: String::from_utf8_lossy(&leader).into_owned(), fields: Vec::new() };
    for field in &record.fields {
        let field = match field {
            Field::Control { tag, value } => Field::Control { tag: *tag, value: clean(value) },
            Field::Data { tag, ind1, ind2, subfields } => Field::Data {
                tag: *tag,
                ind1: indicator(*ind1),
                ind2: indicator(*ind2),
                subfields: subfields
                    .iter()
                    .filter(|s| s.code.is_ascii_graphic() && !matches!(s.code, '@' | '|'))
                    .map(|s| Subfield { code: s.code, value: clean(&s.value) })
                    .collect(),
            },
        };
        let single = Record { leader: out.leader.clone(), fields: vec![field] };
        if check::check(&single, check::Target::MarcXml).is_ok() {
            out.fields.extend(single.fields);
        }
    }
    out
}
