//! SRU responses as XML: explain, searchRetrieve (with records in MARCXML or Dublin
//! Core), and diagnostics, for SRU 1.1/1.2 and 2.0.
//!
//! Everything is written through a quick-xml `Writer`, so every text and attribute is
//! escaped; characters XML 1.0 cannot carry at all (most C0 controls) are dropped. The
//! only text inserted as it is is the MARCXML of `catalogue::marcxml_record`, which is
//! itself written escaped.

use std::borrow::Cow;
use std::io;

use catalogue::Record;
use indexer::BibDocument;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::cql::{CONTEXT_SETS, INDEXES, scannable};
use super::diagnostic::{SruDiagnostic, code};
use super::request::{
    ExplainRequest, RecordPacking, RecordSchema, SRU_DEFAULT_RECORDS, SRU_DEFAULT_TERMS, SRU_MAX_RECORDS,
    SRU_MAX_TERMS, ScanRequest, SearchRetrieveRequest, SruError, SruOperation, SruQueryType, SruVersion,
};

/// The HTTP `Content-Type` of every SRU response. SRU answers with HTTP 200 whether the
/// response carries records or diagnostics: the diagnostics are the error report.
pub const SRU_CONTENT_TYPE: &str = "application/xml; charset=utf-8";

const SRU_1_NS: &str = "http://www.loc.gov/zing/srw/";
const DIAG_1_NS: &str = "http://www.loc.gov/zing/srw/diagnostic/";
const SRU_2_NS: &str = "http://docs.oasis-open.org/ns/search-ws/sruResponse";
const SCAN_2_NS: &str = "http://docs.oasis-open.org/ns/search-ws/scan";
const DIAG_2_NS: &str = "http://docs.oasis-open.org/ns/search-ws/diagnostic";
const EXPLAIN_NS: &str = "http://explain.z3950.org/dtd/2.0/";
const DIAGNOSTIC_SCHEMA: &str = "info:srw/schema/1/diagnostics-v1.1";
const OAI_DC_NS: &str = "http://www.openarchives.org/OAI/2.0/oai_dc/";
const DC_NS: &str = "http://purl.org/dc/elements/1.1/";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const EXACT_COUNT: &str = "info:srw/vocabulary/resultCountPrecision/1/exact";

/// Where the SRU endpoint is, and what the explain record says about the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SruServer {
    /// Host name clients reach the server by.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The path of the endpoint without the leading slash, e.g. `shiori-city/sru`.
    pub database: String,
    /// The library's name (Japanese).
    pub title: String,
    /// The library's name in English, if it has one.
    pub title_en: Option<String>,
}

/// Drops what XML 1.0 cannot carry: C0 controls other than tab, line feed and carriage
/// return, and U+FFFE, U+FFFF.
fn clean(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'));
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}

/// A small layer over quick-xml's writer: elements, text and attributes, all escaped.
struct Xml {
    writer: Writer<Vec<u8>>,
}

impl Xml {
    fn document() -> io::Result<Xml> {
        let mut xml = Xml::fragment();
        xml.writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        Ok(xml)
    }

    fn fragment() -> Xml {
        Xml { writer: Writer::new_with_indent(Vec::new(), b' ', 2) }
    }

    /// A document without indentation. YAZ (yaz-client, ZOOM) counts the `<term>`s of a
    /// scan response by elements but indexes them by every child node, white space
    /// included, so an indented `<terms>` makes it read past its array.
    fn compact_document() -> io::Result<Xml> {
        let mut xml = Xml { writer: Writer::new(Vec::new()) };
        xml.writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        Ok(xml)
    }

    fn start(&mut self, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
        let mut start = BytesStart::new(name);
        for (key, value) in attributes {
            start.push_attribute((*key, clean(value).as_ref()));
        }
        self.writer.write_event(Event::Start(start))
    }

    fn end(&mut self, name: &str) -> io::Result<()> {
        self.writer.write_event(Event::End(BytesEnd::new(name)))
    }

    fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
        let mut start = BytesStart::new(name);
        for (key, value) in attributes {
            start.push_attribute((*key, clean(value).as_ref()));
        }
        self.writer.write_event(Event::Empty(start))
    }

    fn text(&mut self, text: &str) -> io::Result<()> {
        self.writer.write_event(Event::Text(BytesText::new(&clean(text))))
    }

    /// `<name attributes>text</name>`.
    fn leaf_with(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) -> io::Result<()> {
        self.start(name, attributes)?;
        self.text(text)?;
        self.end(name)
    }

    fn leaf(&mut self, name: &str, text: &str) -> io::Result<()> {
        self.leaf_with(name, &[], text)
    }

    /// XML written by a trusted writer that escapes (the catalogue's MARCXML, or a
    /// fragment of this module), inserted as it is.
    fn raw(&mut self, xml: &str) -> io::Result<()> {
        self.writer.write_event(Event::Text(BytesText::from_escaped(xml)))
    }

    fn finish(self) -> String {
        // quick-xml writes only what it was given, which was all UTF-8.
        String::from_utf8_lossy(&self.writer.into_inner()).into_owned()
    }
}

/// Renders with a writer over a `Vec`, which cannot fail; should it ever, the answer is
/// an empty document rather than a panic.
fn render(f: impl FnOnce() -> io::Result<Xml>) -> String {
    f().map(Xml::finish).unwrap_or_default()
}

/// The element names and namespaces of a version.
struct Names {
    version: SruVersion,
}

impl Names {
    fn sru(&self) -> &'static str {
        if self.version.is_2() { SRU_2_NS } else { SRU_1_NS }
    }

    fn diag(&self) -> &'static str {
        if self.version.is_2() { DIAG_2_NS } else { DIAG_1_NS }
    }

    /// `recordPacking` (1.x) or `recordXMLEscaping` (2.0).
    fn packing_element(&self) -> &'static str {
        if self.version.is_2() { "zs:recordXMLEscaping" } else { "zs:recordPacking" }
    }

    fn root(&self, xml: &mut Xml, name: &str) -> io::Result<()> {
        xml.start(name, &[("xmlns:zs", self.sru()), ("xmlns:diag", self.diag())])?;
        xml.leaf("zs:version", self.version.as_str())
    }

    fn diagnostic(&self, xml: &mut Xml, diagnostic: &SruDiagnostic, declare: bool) -> io::Result<()> {
        if declare {
            xml.start("diag:diagnostic", &[("xmlns:diag", self.diag())])?;
        } else {
            xml.start("diag:diagnostic", &[])?;
        }
        xml.leaf("diag:uri", &diagnostic.uri())?;
        if let Some(details) = &diagnostic.details {
            xml.leaf("diag:details", details)?;
        }
        xml.leaf("diag:message", &diagnostic.message)?;
        xml.end("diag:diagnostic")
    }

    fn diagnostics(&self, xml: &mut Xml, diagnostics: &[SruDiagnostic]) -> io::Result<()> {
        if diagnostics.is_empty() {
            return Ok(());
        }
        xml.start("zs:diagnostics", &[])?;
        for diagnostic in diagnostics {
            self.diagnostic(xml, diagnostic, false)?;
        }
        xml.end("zs:diagnostics")
    }

    /// One `<record>`: schema, packing, the data (as XML or as an escaped string), and
    /// its position.
    fn record(
        &self,
        xml: &mut Xml,
        schema: &str,
        packing: RecordPacking,
        data: &str,
        position: usize,
    ) -> io::Result<()> {
        xml.start("zs:record", &[])?;
        xml.leaf("zs:recordSchema", schema)?;
        xml.leaf(self.packing_element(), packing.as_str())?;
        xml.start("zs:recordData", &[])?;
        match packing {
            RecordPacking::Xml => xml.raw(data)?,
            RecordPacking::String => xml.text(data)?,
        }
        xml.end("zs:recordData")?;
        xml.leaf("zs:recordPosition", &position.to_string())?;
        xml.end("zs:record")
    }
}

impl SearchRetrieveRequest {
    /// The searchRetrieve response for this request: `total` hits in all, and the
    /// records of this page in result order, the first at `start_record` (`None` for a
    /// hit whose record could not be read: it becomes a surrogate diagnostic 65 in its
    /// place). At most `maximum_records` are used.
    ///
    /// `nextRecordPosition` is given only when records remain after this page and the
    /// index can page to them (startRecord at most 10,001). A
    /// `startRecord` beyond the last hit adds diagnostic 61.
    pub fn render(&self, total: usize, records: &[Option<Record>]) -> String {
        let records = &records[..records.len().min(self.maximum_records)];
        let mut diagnostics = Vec::new();
        if total > 0 && self.start_record > total {
            diagnostics.push(SruDiagnostic::new(
                code::FIRST_RECORD_OUT_OF_RANGE,
                self.start_record.to_string(),
                format!("startRecord {} is beyond the last of the {total} records", self.start_record),
            ));
        }
        self.render_with(total, records, &diagnostics)
    }

    /// A searchRetrieve response with no records and one fatal diagnostic (a search the
    /// index refused, or a fault: see [`SruDiagnostic::from_search_error`]).
    pub fn render_diagnostic(&self, diagnostic: &SruDiagnostic) -> String {
        self.render_with(0, &[], std::slice::from_ref(diagnostic))
    }

    fn render_with(&self, total: usize, records: &[Option<Record>], diagnostics: &[SruDiagnostic]) -> String {
        let names = Names { version: self.version };
        render(|| {
            let mut xml = Xml::document()?;
            names.root(&mut xml, "zs:searchRetrieveResponse")?;
            xml.leaf("zs:numberOfRecords", &total.to_string())?;
            if !records.is_empty() {
                xml.start("zs:records", &[])?;
                for (i, record) in records.iter().enumerate() {
                    let position = self.start_record + i;
                    match record {
                        Some(record) => {
                            let data = match self.record_schema {
                                RecordSchema::MarcXml => catalogue::marcxml_record(record, false),
                                RecordSchema::Dc => dublin_core(record)?,
                            };
                            names.record(&mut xml, self.record_schema.uri(), self.record_packing, &data, position)?;
                        }
                        None => {
                            let surrogate = SruDiagnostic::new(
                                code::RECORD_DOES_NOT_EXIST,
                                position.to_string(),
                                format!("the record at position {position} could not be read"),
                            );
                            let mut fragment = Xml::fragment();
                            names.diagnostic(&mut fragment, &surrogate, true)?;
                            let data = fragment.finish();
                            names.record(&mut xml, DIAGNOSTIC_SCHEMA, self.record_packing, &data, position)?;
                        }
                    }
                }
                xml.end("zs:records")?;
                // Only a position that can be asked for: the index pages to MAX_OFFSET.
                let last = self.start_record + records.len() - 1;
                if last < total && last <= indexer::MAX_OFFSET {
                    xml.leaf("zs:nextRecordPosition", &(last + 1).to_string())?;
                }
            }
            self.echo(&names, &mut xml)?;
            names.diagnostics(&mut xml, diagnostics)?;
            if self.version.is_2() {
                xml.leaf("zs:resultCountPrecision", EXACT_COUNT)?;
            }
            xml.end("zs:searchRetrieveResponse")?;
            Ok(xml)
        })
    }

    fn echo(&self, names: &Names, xml: &mut Xml) -> io::Result<()> {
        xml.start("zs:echoedSearchRetrieveRequest", &[])?;
        xml.leaf("zs:version", self.version.as_str())?;
        if self.version.is_2()
            && let Some(query_type) = &self.echo.query_type
        {
            xml.leaf("zs:queryType", query_type)?;
        } else if self.version.is_2() && self.query_type == SruQueryType::SearchTerms {
            xml.leaf("zs:queryType", "searchTerms")?;
        }
        xml.leaf("zs:query", &self.query)?;
        xml.leaf("zs:startRecord", &self.start_record.to_string())?;
        let maximum = self.echo.maximum_records.unwrap_or(self.maximum_records);
        xml.leaf("zs:maximumRecords", &maximum.to_string())?;
        xml.leaf(names.packing_element(), self.record_packing.as_str())?;
        if let Some(packing) = &self.echo.record_packing_2 {
            xml.leaf("zs:recordPacking", packing)?;
        }
        xml.leaf("zs:recordSchema", self.echo.record_schema.as_deref().unwrap_or(self.record_schema.name()))?;
        xml.end("zs:echoedSearchRetrieveRequest")
    }
}

impl SruError {
    /// The response for a request that could not be read: a searchRetrieveResponse
    /// with no records and the diagnostic (SRU's way of reporting any fatal error).
    /// A scan's error is a scanResponse with the diagnostic and no terms.
    pub fn render(&self) -> String {
        match self.operation {
            SruOperation::Scan => render_scan(self.version, None, &[], std::slice::from_ref(&self.diagnostic)),
            SruOperation::Explain | SruOperation::SearchRetrieve => render_diagnostic(self.version, &self.diagnostic),
        }
    }
}

impl ScanRequest {
    /// The scan response: the terms of `list` in index order, each with its value (what
    /// to search for), the records behind it, the text of a record (displayTerm) and
    /// whereInList, then the echoed request. No terms at all (an empty index, or a start
    /// beyond the last term) is a response without `terms`.
    pub fn render(&self, list: &indexer::ScanList) -> String {
        render_scan(self.version, Some(self), &listed_terms(list), &[])
    }

    /// A scan response with no terms and one fatal diagnostic.
    pub fn render_diagnostic(&self, diagnostic: &SruDiagnostic) -> String {
        render_scan(self.version, Some(self), &[], std::slice::from_ref(diagnostic))
    }
}

/// A term as a scan response lists it.
struct ListedTerm<'a> {
    term: &'a indexer::ScanTerm,
    where_in_list: &'static str,
}

/// The terms of a scan's list with their whereInList: `first` and `last` only where the
/// index itself begins or ends, `only` for a term that is both.
fn listed_terms(list: &indexer::ScanList) -> Vec<ListedTerm<'_>> {
    let last = list.terms.len().saturating_sub(1);
    list.terms
        .iter()
        .enumerate()
        .map(|(i, term)| {
            let where_in_list = match (i == 0 && list.at_start, i == last && list.at_end) {
                (true, true) => "only",
                (true, false) => "first",
                (false, true) => "last",
                (false, false) => "inner",
            };
            ListedTerm { term, where_in_list }
        })
        .collect()
}

/// A scanResponse (SRU 1.x: `http://www.loc.gov/zing/srw/`; 2.0: the OASIS scan
/// namespace), written without indentation (see [`Xml::compact_document`]).
fn render_scan(
    version: SruVersion,
    request: Option<&ScanRequest>,
    terms: &[ListedTerm<'_>],
    diagnostics: &[SruDiagnostic],
) -> String {
    let names = Names { version };
    render(|| {
        let mut xml = Xml::compact_document()?;
        if version.is_2() {
            xml.start("zs:scanResponse", &[("xmlns:zs", SCAN_2_NS), ("xmlns:diag", names.diag())])?;
        } else {
            names.root(&mut xml, "zs:scanResponse")?;
        }
        if !terms.is_empty() {
            xml.start("zs:terms", &[])?;
            for listed in terms {
                xml.start("zs:term", &[])?;
                xml.leaf("zs:value", &listed.term.value)?;
                xml.leaf("zs:numberOfRecords", &listed.term.records.to_string())?;
                xml.leaf("zs:displayTerm", &listed.term.display)?;
                xml.leaf("zs:whereInList", listed.where_in_list)?;
                xml.end("zs:term")?;
            }
            xml.end("zs:terms")?;
        }
        names.diagnostics(&mut xml, diagnostics)?;
        if let Some(request) = request {
            xml.start("zs:echoedScanRequest", &[])?;
            if !version.is_2() {
                xml.leaf("zs:version", version.as_str())?;
            }
            xml.leaf("zs:scanClause", &request.scan_clause)?;
            xml.leaf("zs:responsePosition", &request.response_position.to_string())?;
            xml.leaf("zs:maximumTerms", &request.requested_terms.unwrap_or(request.maximum_terms).to_string())?;
            xml.end("zs:echoedScanRequest")?;
        }
        xml.end("zs:scanResponse")?;
        Ok(xml)
    })
}

/// A searchRetrieve response with no records and one diagnostic, in `version`'s form.
pub(crate) fn render_diagnostic(version: SruVersion, diagnostic: &SruDiagnostic) -> String {
    let names = Names { version };
    render(|| {
        let mut xml = Xml::document()?;
        names.root(&mut xml, "zs:searchRetrieveResponse")?;
        xml.leaf("zs:numberOfRecords", "0")?;
        names.diagnostics(&mut xml, std::slice::from_ref(diagnostic))?;
        xml.end("zs:searchRetrieveResponse")?;
        Ok(xml)
    })
}

impl ExplainRequest {
    /// The explain response: a ZeeRex record (`http://explain.z3950.org/dtd/2.0/`) with
    /// the server's address, the library's name, the indexes with Japanese and English
    /// titles, the record schemas and the paging limits.
    pub fn render(&self, server: &SruServer) -> String {
        let names = Names { version: self.version };
        render(|| {
            let data = explain_record(self.version, server)?;
            let mut xml = Xml::document()?;
            names.root(&mut xml, "zs:explainResponse")?;
            names.record(&mut xml, EXPLAIN_NS, self.record_packing, &data, 1)?;
            xml.start("zs:echoedExplainRequest", &[])?;
            xml.leaf("zs:version", self.version.as_str())?;
            xml.leaf(names.packing_element(), self.record_packing.as_str())?;
            xml.end("zs:echoedExplainRequest")?;
            xml.end("zs:explainResponse")?;
            Ok(xml)
        })
    }
}

/// The ZeeRex explain record.
fn explain_record(version: SruVersion, server: &SruServer) -> io::Result<String> {
    let mut xml = Xml::fragment();
    xml.start("explain", &[("xmlns", EXPLAIN_NS)])?;

    xml.start("serverInfo", &[("protocol", "SRU"), ("version", version.as_str()), ("transport", "http")])?;
    xml.leaf("host", &server.host)?;
    xml.leaf("port", &server.port.to_string())?;
    xml.leaf("database", &server.database)?;
    xml.end("serverInfo")?;

    xml.start("databaseInfo", &[])?;
    xml.leaf_with("title", &[("lang", "ja"), ("primary", "true")], &server.title)?;
    if let Some(title_en) = &server.title_en {
        xml.leaf_with("title", &[("lang", "en")], title_en)?;
    }
    xml.leaf_with(
        "description",
        &[("lang", "ja"), ("primary", "true")],
        &format!("{}の蔵書目録。CQLで検索し、書誌をMARCXMLまたはDublin Coreで返します。", server.title),
    )?;
    xml.leaf_with(
        "description",
        &[("lang", "en")],
        &format!(
            "The catalogue of {}: search with CQL, records as MARCXML or Dublin Core.",
            server.title_en.as_deref().unwrap_or(&server.title)
        ),
    )?;
    xml.end("databaseInfo")?;

    xml.start("indexInfo", &[])?;
    for (name, identifier) in CONTEXT_SETS {
        xml.empty("set", &[("name", name), ("identifier", identifier)])?;
    }
    for index in INDEXES {
        // Every index listed has a context set (ZeeRex clients key indexes by set); the
        // unprefixed short names (title, 著者, ndc …) are conveniences of this server.
        let Some((set, name)) = index.name.split_once('.') else { continue };
        let sortable = matches!(index.name, "dc.title" | "dc.date");
        let scan = if scannable(index.name) { "true" } else { "false" };
        xml.start("index", &[("search", "true"), ("scan", scan), ("sort", if sortable { "true" } else { "false" })])?;
        xml.leaf_with("title", &[("lang", "ja"), ("primary", "true")], index.title_ja)?;
        xml.leaf_with("title", &[("lang", "en")], index.title_en)?;
        xml.start("map", &[])?;
        xml.leaf_with("name", &[("set", set)], name)?;
        xml.end("map")?;
        for alias in index.aliases.iter().filter(|a| **a != index.name.to_lowercase()) {
            if let Some((set, name)) = alias.split_once('.')
                && CONTEXT_SETS.iter().any(|(known, _)| *known == set)
            {
                xml.start("map", &[])?;
                xml.leaf_with("name", &[("set", set)], name)?;
                xml.end("map")?;
            }
        }
        xml.end("index")?;
    }
    xml.end("indexInfo")?;

    xml.start("schemaInfo", &[])?;
    for (schema, title) in [(RecordSchema::MarcXml, "MARCXML"), (RecordSchema::Dc, "Dublin Core (oai_dc)")] {
        xml.start(
            "schema",
            &[
                ("identifier", schema.uri()),
                ("location", schema.location()),
                ("name", schema.name()),
                ("retrieve", "true"),
                ("sort", "false"),
            ],
        )?;
        xml.leaf_with("title", &[("lang", "en")], title)?;
        xml.end("schema")?;
    }
    xml.end("schemaInfo")?;

    xml.start("configInfo", &[])?;
    xml.leaf_with("default", &[("type", "numberOfRecords")], &SRU_DEFAULT_RECORDS.to_string())?;
    xml.leaf_with("default", &[("type", "retrieveSchema")], RecordSchema::MarcXml.name())?;
    xml.leaf_with("default", &[("type", "contextSet")], "cql")?;
    xml.leaf_with("default", &[("type", "index")], "cql.serverChoice")?;
    xml.leaf_with("default", &[("type", "relation")], "=")?;
    xml.leaf_with("setting", &[("type", "maximumRecords")], &SRU_MAX_RECORDS.to_string())?;
    xml.leaf_with("default", &[("type", "numberOfTerms")], &SRU_DEFAULT_TERMS.to_string())?;
    xml.leaf_with("setting", &[("type", "maximumTerms")], &SRU_MAX_TERMS.to_string())?;
    for relation in ["=", "==", "exact", "all", "any", "adj", "<", ">", "<=", ">=", "within"] {
        xml.leaf_with("supports", &[("type", "relation")], relation)?;
    }
    for modifier in ["ignoreCase", "ignoreAccents", "relevant", "word", "string", "masked", "unmasked", "locale"] {
        xml.leaf_with("supports", &[("type", "relationModifier")], modifier)?;
    }
    xml.leaf_with("supports", &[("type", "maskingCharacter")], "*")?;
    xml.leaf_with("supports", &[("type", "sort")], "")?;
    xml.end("configInfo")?;

    xml.end("explain")?;
    Ok(xml.finish())
}

/// One element per non-blank value.
fn leaves<T: AsRef<str>>(xml: &mut Xml, element: &str, values: impl IntoIterator<Item = T>) -> io::Result<()> {
    for value in values {
        let value = value.as_ref().trim();
        if !value.is_empty() {
            xml.leaf(element, value)?;
        }
    }
    Ok(())
}

/// The DCMI type of a material type (`BibDocument::material`).
fn dc_type(material: &str) -> Option<&'static str> {
    Some(match material {
        "book" | "serial" | "score" => "Text",
        "map" | "image" => "StillImage",
        "video" => "MovingImage",
        "audiobook" | "music" => "Sound",
        "electronic" => "Software",
        "kit" => "Collection",
        "object" => "PhysicalObject",
        _ => return None,
    })
}

/// A record as Dublin Core in the OAI-PMH form (`oai_dc:dc`, valid against oai_dc.xsd),
/// read the way the index reads it (`indexer::BibDocument`): the title shown first
/// (the vernacular of an 880 where the 245 is romanised), then its romanisations (the
/// 245 of LC records, the 880 `/(B` of JAPAN/MARC), names and subjects with their vernacular forms, publishers, the year,
/// the DCMI type, ISBNs as `URN:ISBN:` and ISSNs as `URN:ISSN:`, languages, summaries.
pub(crate) fn dublin_core(record: &Record) -> io::Result<String> {
    let doc = BibDocument::from_record(0, record);
    let mut titles = vec![doc.title.as_str()];
    titles.extend(doc.title_romanised.iter().map(String::as_str).filter(|t| *t != doc.title));
    let mut xml = Xml::fragment();
    xml.start(
        "oai_dc:dc",
        &[
            ("xmlns:oai_dc", OAI_DC_NS),
            ("xmlns:dc", DC_NS),
            ("xmlns:xsi", XSI_NS),
            (
                "xsi:schemaLocation",
                "http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
            ),
        ],
    )?;
    leaves(&mut xml, "dc:title", titles)?;
    leaves(&mut xml, "dc:creator", &doc.authors)?;
    leaves(&mut xml, "dc:subject", &doc.subjects)?;
    leaves(&mut xml, "dc:description", &doc.notes)?;
    leaves(&mut xml, "dc:publisher", &doc.publishers)?;
    leaves(&mut xml, "dc:date", doc.year.map(|y| y.to_string()))?;
    leaves(&mut xml, "dc:type", dc_type(doc.material))?;
    leaves(&mut xml, "dc:identifier", doc.isbns.iter().map(|isbn| format!("URN:ISBN:{isbn}")))?;
    leaves(&mut xml, "dc:identifier", doc.issns.iter().map(|issn| format!("URN:ISSN:{issn}")))?;
    leaves(&mut xml, "dc:language", &doc.languages)?;
    xml.end("oai_dc:dc")?;
    Ok(xml.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_drops_what_xml_cannot_carry() {
        assert_eq!(clean("a\u{1}b\tc\u{FFFF}"), "ab\tc");
        assert!(matches!(clean("図書館"), Cow::Borrowed(_)));
    }

    #[test]
    fn dcmi_types() {
        assert_eq!(dc_type("book"), Some("Text"));
        assert_eq!(dc_type("video"), Some("MovingImage"));
        assert_eq!(dc_type("other"), None);
    }
}
