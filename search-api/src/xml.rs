//! A small layer over quick-xml's writer (OpenSearch, OAI-PMH): every text and attribute value goes through
//! the writer's escaping, and characters XML 1.0 cannot carry at all (most C0 controls,
//! which MARC records and typed queries can contain) are dropped first, so the output is
//! always well-formed whatever the catalogue or the query holds.

use std::borrow::Cow;
use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// Drops what XML 1.0 cannot carry: C0 controls other than tab, line feed and carriage
/// return, and U+FFFE, U+FFFF.
pub(crate) fn clean(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'));
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}

/// An XML document being written, indented by two spaces.
pub(crate) struct Xml {
    writer: Writer<Vec<u8>>,
}

impl Xml {
    /// A document starting with its UTF-8 declaration.
    pub(crate) fn document() -> io::Result<Xml> {
        let mut xml = Xml::fragment();
        xml.writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        Ok(xml)
    }

    /// A fragment, without a declaration, to be inserted into a document with [`Xml::raw`].
    pub(crate) fn fragment() -> Xml {
        Xml { writer: Writer::new_with_indent(Vec::new(), b' ', 2) }
    }

    fn element<'a>(name: &'a str, attributes: &[(&str, &str)]) -> BytesStart<'a> {
        let mut start = BytesStart::new(name);
        for (key, value) in attributes {
            start.push_attribute((*key, clean(value).as_ref()));
        }
        start
    }

    /// `<name attributes>`.
    pub(crate) fn start(&mut self, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
        self.writer.write_event(Event::Start(Xml::element(name, attributes)))
    }

    /// `</name>`.
    pub(crate) fn end(&mut self, name: &str) -> io::Result<()> {
        self.writer.write_event(Event::End(BytesEnd::new(name)))
    }

    /// `<name attributes/>`.
    pub(crate) fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
        self.writer.write_event(Event::Empty(Xml::element(name, attributes)))
    }

    /// `<name attributes>text</name>`.
    pub(crate) fn leaf_with(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) -> io::Result<()> {
        self.start(name, attributes)?;
        self.writer.write_event(Event::Text(BytesText::new(&clean(text))))?;
        self.end(name)
    }

    /// `<name>text</name>`.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) -> io::Result<()> {
        self.leaf_with(name, &[], text)
    }

    /// XML written by a trusted writer that escapes (the catalogue's MARCXML, the SRU
    /// module's Dublin Core), inserted as it is.
    pub(crate) fn raw(&mut self, xml: &str) -> io::Result<()> {
        self.writer.write_event(Event::Text(BytesText::from_escaped(xml)))
    }

    /// The document as text.
    pub(crate) fn finish(self) -> String {
        // Everything written came from `&str`s, so the bytes are UTF-8.
        String::from_utf8_lossy(&self.writer.into_inner()).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes_and_drops_what_xml_cannot_carry() {
        let mut xml = Xml::document().unwrap();
        xml.leaf_with("a", &[("title", "\"<x>\" & 'y'")], "<script>alert(1)</script> &\u{1}\u{1e}").unwrap();
        let out = xml.finish();
        assert_eq!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <a title=\"&quot;&lt;x&gt;&quot; &amp; &apos;y&apos;\">&lt;script&gt;alert(1)&lt;/script&gt; &amp;</a>"
        );
    }
}
