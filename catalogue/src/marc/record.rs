//! The MARC record as the catalogue holds it: a leader and fields, text in UTF-8.

use std::fmt;

/// A MARC 21 record. Text is always UTF-8 here, whatever the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The 24-character leader (lengths in it are recomputed on output).
    pub leader: String,
    /// Fields in record order.
    pub fields: Vec<Field>,
}

/// One variable field: a control field (00X) or a data field with subfields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A control field (001-009): tag and value, no indicators or subfields.
    Control {
        /// Three-character tag.
        tag: Tag,
        /// The value.
        value: String,
    },
    /// A data field (010-999): two indicators and subfields.
    Data {
        /// Three-character tag.
        tag: Tag,
        /// First indicator.
        ind1: char,
        /// Second indicator.
        ind2: char,
        /// Subfields in order.
        subfields: Vec<Subfield>,
    },
}

/// A subfield: a one-character code and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subfield {
    /// The subfield code (`a`, `6`, …).
    pub code: char,
    /// The value.
    pub value: String,
}

/// A field tag: three ASCII letters or digits (MARC 21 uses digits; local practice may not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag([u8; 3]);

impl Tag {
    /// Tag 999, a fallback for code that builds tags from literals.
    pub(crate) const DIGITS_999: Tag = Tag(*b"999");

    /// A tag from three bytes, if each is an ASCII letter or digit.
    pub fn new(bytes: [u8; 3]) -> Option<Tag> {
        bytes.iter().all(u8::is_ascii_alphanumeric).then_some(Tag(bytes))
    }

    /// The tag as a string slice.
    pub fn as_str(&self) -> &str {
        // Tags only ever hold ASCII alphanumerics (checked in `new`).
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// The tag's bytes.
    pub fn as_bytes(&self) -> &[u8; 3] {
        &self.0
    }

    /// Control fields are 001-009 (and 00X in general).
    pub fn is_control(&self) -> bool {
        self.0[0] == b'0' && self.0[1] == b'0'
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Tag {
    type Err = ();

    fn from_str(s: &str) -> Result<Tag, ()> {
        let bytes: [u8; 3] = s.as_bytes().try_into().map_err(|_| ())?;
        Tag::new(bytes).ok_or(())
    }
}

impl Field {
    /// The field's tag.
    pub fn tag(&self) -> Tag {
        match self {
            Field::Control { tag, .. } | Field::Data { tag, .. } => *tag,
        }
    }

    /// The subfields (empty for a control field).
    pub fn subfields(&self) -> &[Subfield] {
        match self {
            Field::Control { .. } => &[],
            Field::Data { subfields, .. } => subfields,
        }
    }

    /// The values of the subfields with one of `codes`, in order, joined with spaces, each
    /// with the ISBD punctuation that ends it (" /", " :", " ;", ",", ".", " =") trimmed:
    /// how a heading or title reads when shown or searched.
    pub fn text(&self, codes: &[char]) -> String {
        let parts: Vec<&str> = self
            .subfields()
            .iter()
            .filter(|s| codes.contains(&s.code))
            .map(|s| trim_isbd(&s.value))
            .filter(|v| !v.is_empty())
            .collect();
        parts.join(" ")
    }

    /// Values of the subfields with `code`, in order.
    pub fn subfield_values(&self, code: char) -> impl Iterator<Item = &str> {
        self.subfields().iter().filter(move |s| s.code == code).map(|s| s.value.as_str())
    }
}

/// Trims the ISBD punctuation that ends a subfield value (" /", " :", " ;", ",", ".", " =").
pub fn trim_isbd(value: &str) -> &str {
    value.trim().trim_end_matches([' ', '/', ':', ';', ',', '=', '.']).trim()
}

impl Record {
    /// The fields with tag `tag`.
    pub fn fields_with_tag<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a Field> + 'a {
        self.fields.iter().filter(move |f| f.tag().as_str() == tag)
    }

    /// The value of the first control field `tag` (e.g. "001").
    pub fn control_value<'a>(&'a self, tag: &'a str) -> Option<&'a str> {
        self.fields_with_tag(tag).find_map(|f| match f {
            Field::Control { value, .. } => Some(value.as_str()),
            Field::Data { .. } => None,
        })
    }

    /// The control number (001), trimmed; `None` when missing or blank.
    pub fn control_number(&self) -> Option<&str> {
        self.control_value("001").map(str::trim).filter(|v| !v.is_empty())
    }

    /// The control number identifier (003), trimmed; `None` when missing or blank.
    pub fn control_organisation(&self) -> Option<&str> {
        self.control_value("003").map(str::trim).filter(|v| !v.is_empty())
    }

    /// The fields in the order every export writes them: the control fields (00X) first,
    /// then the data fields, each in record order. Real files hold records whose control
    /// fields come after data fields, and the catalogue keeps a record as imported; but
    /// MARC 21's directory and MARC21slim.xsd (`leader, controlfield*, datafield*`) want
    /// the control fields first. Nothing else is reordered.
    pub fn exchange_order(&self) -> impl Iterator<Item = &Field> {
        let control = self.fields.iter().filter(|f| matches!(f, Field::Control { .. }));
        control.chain(self.fields.iter().filter(|f| matches!(f, Field::Data { .. })))
    }

    /// Sets (or adds, in tag order) a control field.
    pub fn set_control(&mut self, tag: Tag, value: String) {
        if let Some(Field::Control { value: existing, .. }) = self.fields.iter_mut().find(|f| f.tag() == tag) {
            *existing = value;
            return;
        }
        let at = self.fields.iter().position(|f| f.tag() > tag).unwrap_or(self.fields.len());
        self.fields.insert(at, Field::Control { tag, value });
    }
}
