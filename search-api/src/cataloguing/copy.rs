//! Copy cataloguing (コピーカタロギング) over SRU: a librarian looks a book up by ISBN, title or
//! author at one of the library's targets ([`CopyTarget`]) and copies the record found
//! rather than describing the book from nothing.
//!
//! [`search`] sends one SRU searchRetrieve request (GET; version 1.1, 1.2 or 2.0) and reads
//! the answer: the number of hits, each record — packed as XML or escaped as a string,
//! whatever was asked for, since servers differ — and the diagnostics, which Zebra and NDL
//! Search send with HTTP 200. Prefixes vary (`srw:`, `zs:`, `sru:`, none), so the envelope's
//! elements are matched by local name.
//!
//! A copy is traceable to its source and carries none of its control numbers: the source's
//! 003 + 001 become a 035 `(003)001` (the target's name standing in for a missing 003), then
//! 001, 003 and 005 are dropped, so that `Catalogue::create_record` gives the copy the
//! library's own 001. A MARCXML record is otherwise copied as found. A DC-NDL record (NDL
//! Search's RDF/XML) is crosswalked to MARC 21 in the layout of JAPAN/MARC and of the demo
//! records (`fixtures/demo/make-japanese-demo.py`): the vernacular in the fields, the
//! katakana reading in linked 880s (`245-01/$1`).

use std::fmt::{self, Write as _};
use std::time::Duration;

use axum::http::StatusCode;
use catalogue::cataloguing::targets::{CopyTarget, TargetSchema};
use catalogue::{Field, Record, Subfield};
use jiff::civil::Date;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// The most records asked for in one request.
const MAX_RECORDS: u32 = 100;

/// The largest answer read (100 MARCXML records are well under 1 MiB).
const MAX_ANSWER_BYTES: usize = 16 << 20;

/// The longest text from a target (a diagnostic, a reason) put into a message.
const MAX_DETAIL_CHARS: usize = 200;

/// The deepest nesting of elements read in a record.
const MAX_DEPTH: usize = 64;

/// What the librarian looks for: any of the three, all given ones must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CopyQuery {
    /// An ISBN, hyphenated or not, 10 or 13 digits.
    pub(crate) isbn: Option<String>,
    /// Words of the title.
    pub(crate) title: Option<String>,
    /// An author's name.
    pub(crate) author: Option<String>,
}

/// What a target found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyResults {
    /// How many records the target has for the query (more than `records` may hold).
    pub(crate) total: u64,
    /// The records read, ready to be stored as copies.
    pub(crate) records: Vec<Found>,
    /// Records of the answer that could not be read (not MARC 21, not DC-NDL, damaged).
    pub(crate) skipped: u32,
}

/// One record found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// The copy: the source's 001/003/005 replaced by a 035.
    pub(crate) record: Record,
    /// Its position in the target's result set (from 1).
    pub(crate) position: u64,
}

/// Why a search at a target failed. `target` is the target's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CopyError {
    /// The target did not answer in time.
    Timeout { target: String, after_ms: u64 },
    /// The target could not be reached (no such host, connection refused, TLS).
    Unreachable { target: String, reason: String },
    /// The target answered with an HTTP error and no SRU diagnostic.
    Http { target: String, status: u16 },
    /// The target refused the search with an SRU diagnostic.
    Diagnostic { target: String, uri: String, message: String },
    /// The answer is not an SRU searchRetrieve response.
    Malformed { target: String, reason: String },
    /// No ISBN, title or author was given.
    EmptyQuery,
}

impl CopyError {
    /// The message in Japanese, for the staff pages.
    pub(crate) fn ja(&self) -> String {
        match self {
            CopyError::Timeout { target, after_ms } => {
                format!(
                    "検索先「{target}」が {after_ms} ミリ秒以内に応答しませんでした。時間をおいて再度お試しください"
                )
            }
            CopyError::Unreachable { target, reason } => {
                format!("検索先「{target}」に接続できませんでした（{reason}）")
            }
            CopyError::Http { target, status } => format!("検索先「{target}」がエラーを返しました（HTTP {status}）"),
            CopyError::Diagnostic { target, uri, message } => match diagnostic_number(uri) {
                Some(15 | 16) => format!(
                    "検索先「{target}」はこの索引に対応していません: {message}（{uri}）。検索先の設定の索引名を確認してください"
                ),
                _ => format!("検索先「{target}」が検索を受け付けませんでした: {message}（{uri}）"),
            },
            CopyError::Malformed { target, reason } => {
                format!("検索先「{target}」の応答を読めませんでした（{reason}）")
            }
            CopyError::EmptyQuery => "ISBN・書名・著者名のいずれかを入力してください".to_owned(),
        }
    }

    /// The message in English.
    pub(crate) fn en(&self) -> String {
        self.to_string()
    }

    /// The HTTP status the API answers with: 504 for a timeout, 400 for an empty query or a
    /// diagnostic about the query itself (SRU 10-30 and 48: syntax, unsupported index,
    /// relation or feature), 502 for the rest (the target's fault).
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            CopyError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            CopyError::EmptyQuery => StatusCode::BAD_REQUEST,
            CopyError::Diagnostic { uri, .. }
                if diagnostic_number(uri).is_some_and(|n| (10..=30).contains(&n) || n == 48) =>
            {
                StatusCode::BAD_REQUEST
            }
            CopyError::Unreachable { .. }
            | CopyError::Http { .. }
            | CopyError::Diagnostic { .. }
            | CopyError::Malformed { .. } => StatusCode::BAD_GATEWAY,
        }
    }
}

impl fmt::Display for CopyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyError::Timeout { target, after_ms } => write!(f, "target {target} did not answer within {after_ms} ms"),
            CopyError::Unreachable { target, reason } => write!(f, "target {target} could not be reached: {reason}"),
            CopyError::Http { target, status } => write!(f, "target {target} answered with HTTP {status}"),
            CopyError::Diagnostic { target, uri, message } => {
                write!(f, "target {target} refused the search: {message} ({uri})")
            }
            CopyError::Malformed { target, reason } => {
                write!(f, "the answer of target {target} cannot be read: {reason}")
            }
            CopyError::EmptyQuery => f.write_str("give an ISBN, a title or an author"),
        }
    }
}

impl std::error::Error for CopyError {}

/// The number of a diagnostic of SRU's own set (`info:srw/diagnostic/1/10` -> 10).
fn diagnostic_number(uri: &str) -> Option<u32> {
    uri.strip_prefix("info:srw/diagnostic/1/")?.parse().ok()
}

impl CopyQuery {
    /// The CQL of the query at a target: `isbn="9784794970756" and title="…"`, each value
    /// quoted with `"` and `\` escaped; the ISBN as its digits (and X), 10 or 13 as given.
    pub(crate) fn cql(&self, target: &CopyTarget) -> Result<String, CopyError> {
        let isbn = self.isbn.as_deref().map(isbn_digits).filter(|digits| !digits.is_empty());
        let title = self.title.as_deref().map(str::trim).filter(|v| !v.is_empty());
        let author = self.author.as_deref().map(str::trim).filter(|v| !v.is_empty());
        let clauses: Vec<String> =
            [(&target.isbn_index, isbn.as_deref()), (&target.title_index, title), (&target.author_index, author)]
                .into_iter()
                .filter_map(|(index, value)| value.map(|value| format!("{index}={}", quoted(value))))
                .collect();
        if clauses.is_empty() {
            return Err(CopyError::EmptyQuery);
        }
        Ok(clauses.join(" and "))
    }
}

/// The digits of an ISBN, and its X (upper case): `978-4-7949-7075-6` -> `9784794970756`.
fn isbn_digits(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            'x' | 'X' => Some('X'),
            _ => None,
        })
        .collect()
}

/// A CQL quoted string: `"` and `\` escaped with `\`, control characters made spaces.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The HTTP client of copy cataloguing: rustls on ring as the server uses (reqwest takes
/// ring when no process-wide provider is installed, so building it cannot panic), the
/// webpki roots, at most 3 redirects. One client serves every request: it pools
/// connections.
pub(crate) fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("Shiori/", env!("CARGO_PKG_VERSION"), " (copy cataloguing)"))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
}

/// Searches a target: at most `max` records (and never more than 100), within the
/// target's timeout for the whole exchange.
pub(crate) async fn search(
    client: &reqwest::Client,
    target: &CopyTarget,
    query: &CopyQuery,
    max: u32,
) -> Result<CopyResults, CopyError> {
    let cql = query.cql(target)?;
    let url = request_url(target, &cql, max.min(MAX_RECORDS));
    let after_ms = target.timeout_ms;
    let (status, body) = tokio::time::timeout(Duration::from_millis(after_ms), fetch(client, target, &url))
        .await
        .map_err(|_| CopyError::Timeout { target: target.name.clone(), after_ms })??;
    // Reading 100 records takes milliseconds: more than async code may block.
    let owned = target.clone();
    let entered = today_in_japan();
    tokio::task::spawn_blocking(move || read_answer(&owned, status, &body, entered)).await.map_err(|_| {
        CopyError::Malformed { target: target.name.clone(), reason: "reading the answer failed".to_owned() }
    })?
}

/// The request: the target's base URL (with its own query string, if any) and the
/// searchRetrieve parameters, percent-encoded.
fn request_url(target: &CopyTarget, cql: &str, max: u32) -> String {
    let base = &target.base_url;
    let separator = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with(['?', '&']) => "",
        Some(_) => "&",
    };
    let mut url = format!(
        "{base}{separator}operation=searchRetrieve&version={}&query={}&maximumRecords={max}&recordSchema={}",
        percent_encoded(&target.version),
        percent_encoded(cql),
        target.schema.record_schema()
    );
    // 2.0 renamed recordPacking (1.x: xml or string) to recordXMLEscaping.
    url.push_str(if target.version == "2.0" { "&recordXMLEscaping=xml" } else { "&recordPacking=xml" });
    url
}

/// Every byte but the unreserved ones of RFC 3986 as `%XX` (a space as `%20`, not `+`).
fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The HTTP status and body of the answer, at most [`MAX_ANSWER_BYTES`].
async fn fetch(client: &reqwest::Client, target: &CopyTarget, url: &str) -> Result<(u16, Vec<u8>), CopyError> {
    let unreachable =
        |err: reqwest::Error| CopyError::Unreachable { target: target.name.clone(), reason: reason(&err) };
    let mut response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/xml, text/xml;q=0.9, */*;q=0.1")
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(CopyError::Malformed {
                target: target.name.clone(),
                reason: format!("the answer is larger than {} MiB", MAX_ANSWER_BYTES >> 20),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

/// Why a request failed, for people: the innermost cause ("Connection refused (os error
/// 111)", "failed to lookup address information: …"), without the URL.
fn reason(err: &reqwest::Error) -> String {
    let mut innermost = None;
    let mut cause = std::error::Error::source(err);
    while let Some(source) = cause {
        innermost = Some(source);
        cause = source.source();
    }
    capped(&innermost.map_or_else(|| "the request failed".to_owned(), ToString::to_string))
}

/// Text from a target as a message may hold it: control characters made spaces, at most
/// [`MAX_DETAIL_CHARS`] characters.
fn capped(text: &str) -> String {
    let text = text.trim();
    let mut out: String = text.chars().take(MAX_DETAIL_CHARS).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.chars().count() > MAX_DETAIL_CHARS {
        out.push('…');
    }
    out
}

/// Today in Japan, the date entered on file (008/00-05) of a crosswalked record.
fn today_in_japan() -> Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(9))).date()
}

/// Reads an answer: its diagnostics (with any status), else its records (with a 2xx).
/// Non-fatal diagnostics beside records are ignored.
fn read_answer(target: &CopyTarget, status: u16, body: &[u8], entered: Date) -> Result<CopyResults, CopyError> {
    let success = (200..300).contains(&status);
    let envelope = match read_envelope(body) {
        Ok(envelope) => envelope,
        Err(_) if !success => return Err(CopyError::Http { target: target.name.clone(), status }),
        Err(reason) => return Err(CopyError::Malformed { target: target.name.clone(), reason: capped(&reason) }),
    };
    if envelope.records.is_empty()
        && let Some(diagnostic) = envelope.diagnostics.first()
    {
        let mut message = diagnostic.message.clone();
        if !diagnostic.details.is_empty() {
            message = format!("{message}: {}", diagnostic.details);
        }
        return Err(CopyError::Diagnostic {
            target: target.name.clone(),
            uri: capped(&diagnostic.uri),
            message: capped(&message),
        });
    }
    if !success {
        return Err(CopyError::Http { target: target.name.clone(), status });
    }
    let mut results = CopyResults { total: 0, records: Vec::new(), skipped: 0 };
    for (index, raw) in envelope.records.iter().enumerate() {
        let position = raw.position.unwrap_or(index as u64 + 1);
        match raw.xml.as_deref().and_then(|xml| copy_of(target, xml, entered)) {
            Some(record) => results.records.push(Found { record, position }),
            None => results.skipped += 1,
        }
    }
    results.total = envelope.total.unwrap_or(envelope.records.len() as u64);
    Ok(results)
}

/// What the envelope of a searchRetrieve response holds.
#[derive(Debug, Default)]
struct Envelope {
    total: Option<u64>,
    records: Vec<RawRecord>,
    diagnostics: Vec<Diagnostic>,
}

/// A `<record>` of the envelope: its position, and the record as a document of its own.
#[derive(Debug, Default)]
struct RawRecord {
    position: Option<u64>,
    xml: Option<Vec<u8>>,
}

#[derive(Debug, Default)]
struct Diagnostic {
    uri: String,
    message: String,
    details: String,
}

/// Reads the envelope; each `recordData` is taken whole (see [`record_document`]).
fn read_envelope(body: &[u8]) -> Result<Envelope, String> {
    let mut reader = Reader::from_reader(body);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut namespaces: Vec<(String, String)> = Vec::new();
    let mut text = String::new();
    let mut envelope = Envelope::default();
    let mut seen_root = false;
    loop {
        let event = reader.read_event().map_err(|err| format!("not well-formed XML: {err}"))?;
        match &event {
            Event::Start(start) => {
                let local = start.local_name().as_ref().to_vec();
                if path.is_empty() {
                    if seen_root || local != b"searchRetrieveResponse" {
                        return Err(format!(
                            "not an SRU searchRetrieve response (<{}>)",
                            capped(&String::from_utf8_lossy(&local))
                        ));
                    }
                    seen_root = true;
                }
                declare_namespaces(start, &mut namespaces);
                text.clear();
                let parent = path.last().map(Vec::as_slice);
                let in_records = path.len() >= 2 && path[path.len() - 2] == b"records";
                match (parent, local.as_slice()) {
                    (Some(b"records"), b"record") => envelope.records.push(RawRecord::default()),
                    (Some(b"diagnostics"), b"diagnostic") => envelope.diagnostics.push(Diagnostic::default()),
                    (Some(b"record"), b"recordData") if in_records => {
                        let span =
                            reader.read_to_end(start.name()).map_err(|err| format!("not well-formed XML: {err}"))?;
                        let inner = usize::try_from(span.start)
                            .ok()
                            .zip(usize::try_from(span.end).ok())
                            .and_then(|(start, end)| body.get(start..end))
                            .unwrap_or_default();
                        if let Some(record) = envelope.records.last_mut() {
                            record.xml = record_document(inner, &namespaces)?;
                        }
                        continue;
                    }
                    _ => {}
                }
                path.push(local);
            }
            Event::End(_) => {
                let local = path.pop().unwrap_or_default();
                let value = text.trim();
                match (path.last().map(Vec::as_slice), local.as_slice()) {
                    (Some(b"searchRetrieveResponse"), b"numberOfRecords") => envelope.total = value.parse().ok(),
                    (Some(b"record"), b"recordPosition") => {
                        if let Some(record) = envelope.records.last_mut() {
                            record.position = value.parse().ok();
                        }
                    }
                    (Some(b"diagnostic"), name @ (b"uri" | b"message" | b"details")) => {
                        if let Some(diagnostic) = envelope.diagnostics.last_mut() {
                            let slot = match name {
                                b"uri" => &mut diagnostic.uri,
                                b"message" => &mut diagnostic.message,
                                _ => &mut diagnostic.details,
                            };
                            *slot = value.to_owned();
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Empty(start) if path.is_empty() => {
                return Err(format!(
                    "not an SRU searchRetrieve response (<{}/>)",
                    capped(&String::from_utf8_lossy(start.local_name().as_ref()))
                ));
            }
            Event::Eof => break,
            other => {
                push_text(other, &mut text)?;
            }
        }
    }
    if !seen_root {
        return Err("not an SRU searchRetrieve response (no XML element)".to_owned());
    }
    Ok(envelope)
}

/// Keeps the prefixed namespace declarations of an element of the envelope, the last of a
/// prefix winning: a record packed as XML may use a prefix declared outside it.
fn declare_namespaces(start: &BytesStart<'_>, namespaces: &mut Vec<(String, String)>) {
    for attribute in start.attributes().flatten() {
        let key = String::from_utf8_lossy(attribute.key.as_ref());
        if key.starts_with("xmlns:") {
            let value = String::from_utf8_lossy(&attribute.value).into_owned();
            namespaces.retain(|(known, _)| *known != key);
            namespaces.push((key.into_owned(), value));
        }
    }
}

/// A `recordData` as a document of its own, or `None` when it is empty. Packed as XML (it
/// holds elements), it is wrapped in an element redeclaring the envelope's prefixes;
/// escaped (it holds only text: `&lt;record…`, or CDATA), the text is the document,
/// its XML declaration left out.
fn record_document(inner: &[u8], namespaces: &[(String, String)]) -> Result<Option<Vec<u8>>, String> {
    let mut reader = Reader::from_reader(inner);
    let mut text = String::new();
    let mut packed = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_) | Event::Empty(_)) => {
                packed = true;
                break;
            }
            Ok(Event::Eof) => break,
            Ok(other) => {
                push_text(&other, &mut text)?;
            }
            Err(err) => return Err(format!("not well-formed XML in a record: {err}")),
        }
    }
    let document: &[u8] = if packed { inner } else { without_declaration(&text).as_bytes() };
    if document.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut wrapped = b"<collection".to_vec();
    if packed {
        for (key, value) in namespaces {
            wrapped.extend_from_slice(format!(" {key}=\"{value}\"").as_bytes());
        }
    }
    wrapped.push(b'>');
    wrapped.extend_from_slice(document);
    wrapped.extend_from_slice(b"</collection>");
    Ok(Some(wrapped))
}

/// An escaped record without its own `<?xml …?>` (Zebra writes one).
fn without_declaration(xml: &str) -> &str {
    let xml = xml.trim_start_matches('\u{FEFF}').trim_start();
    match xml.strip_prefix("<?xml").and_then(|rest| rest.find("?>").map(|end| &rest[end + 2..])) {
        Some(rest) => rest.trim_start(),
        None => xml,
    }
}

/// Appends the text of a text, CDATA or reference event; other events add nothing.
fn push_text(event: &Event<'_>, out: &mut String) -> Result<(), String> {
    match event {
        Event::Text(text) => out.push_str(&text.xml_content().map_err(|err| format!("text is not UTF-8: {err}"))?),
        Event::CData(data) => out.push_str(&String::from_utf8_lossy(data)),
        Event::GeneralRef(reference) => match reference.resolve_char_ref() {
            Ok(Some(c)) => out.push(c),
            Ok(None) => {
                let name = String::from_utf8_lossy(reference);
                let text = quick_xml::escape::resolve_predefined_entity(&name)
                    .ok_or_else(|| format!("unknown entity &{};", capped(&name)))?;
                out.push_str(text);
            }
            Err(err) => return Err(format!("bad character reference: {err}")),
        },
        _ => {}
    }
    Ok(())
}

/// The copy of one record document, or `None` when it holds no record of the schema.
fn copy_of(target: &CopyTarget, document: &[u8], entered: Date) -> Option<Record> {
    let record = match target.schema {
        TargetSchema::MarcXml => catalogue::read_records(document).ok()?.next()?.result.ok()?.0,
        TargetSchema::Dcndl => dcndl::crosswalk(&tree(document).ok()?, entered)?,
    };
    Some(traceable(record, &target.name))
}

/// The copy of a record found: a 035 `(003)001` (the target's name for a missing 003),
/// unless the record has it already, then no 001, 003 or 005.
fn traceable(mut record: Record, target: &str) -> Record {
    if let Some(number) = record.control_number() {
        let organisation = record.control_organisation().unwrap_or(target);
        let source = format!("({organisation}){number}");
        let known = record.fields_with_tag("035").any(|f| f.subfield_values('a').any(|a| a.trim() == source));
        if !known && let Ok(tag) = "035".parse() {
            let at = record.fields.iter().position(|f| f.tag() > tag).unwrap_or(record.fields.len());
            let field =
                Field::Data { tag, ind1: ' ', ind2: ' ', subfields: vec![Subfield { code: 'a', value: source }] };
            record.fields.insert(at, field);
        }
    }
    record.fields.retain(|f| !matches!(f.tag().as_str(), "001" | "003" | "005"));
    record
}

/// An element of a record document, as a tree: names and attribute keys are local names.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn of(start: &BytesStart<'_>) -> Node {
        let attributes = start
            .attributes()
            .flatten()
            .filter(|a| !a.key.as_ref().starts_with(b"xmlns"))
            .map(|a| {
                let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
                let value = a.unescape_value().map(|v| v.into_owned()).unwrap_or_default();
                (key, value)
            })
            .collect();
        let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
        Node { name, attributes, text: String::new(), children: Vec::new() }
    }

    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text, trimmed.
    fn value(&self) -> &str {
        self.text.trim()
    }

    /// The first element of this name at any depth, this one included.
    fn find(&self, name: &str) -> Option<&Node> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }
}

/// A record document as a tree (the document element). Text directly inside an element is
/// kept; nesting deeper than [`MAX_DEPTH`] is refused.
fn tree(xml: &[u8]) -> Result<Node, String> {
    let mut reader = Reader::from_reader(xml);
    let mut stack = vec![Node::default()];
    loop {
        match reader.read_event().map_err(|err| format!("not well-formed XML: {err}"))? {
            Event::Start(start) => {
                if stack.len() > MAX_DEPTH {
                    return Err("elements nested too deep".to_owned());
                }
                stack.push(Node::of(&start));
            }
            Event::Empty(start) => {
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(Node::of(&start));
                }
            }
            Event::End(_) => {
                if stack.len() > 1
                    && let Some(node) = stack.pop()
                    && let Some(parent) = stack.last_mut()
                {
                    parent.children.push(node);
                }
            }
            Event::Eof => break,
            other => {
                if let Some(node) = stack.last_mut() {
                    push_text(&other, &mut node.text)?;
                }
            }
        }
    }
    let document = stack.into_iter().next().unwrap_or_default();
    document.children.into_iter().next().ok_or_else(|| "no element".to_owned())
}

/// NDL Search's DC-NDL (RDF/XML) to MARC 21 in the JAPAN/MARC layout.
mod dcndl {
    use catalogue::{Field, Record, Subfield};
    use jiff::civil::Date;

    use super::Node;

    /// NDL's MARC organisation code, as JAPAN/MARC writes it in 003 and 040: a copy from
    /// DC-NDL gets the 035 `(JTNDL){NDLBibID}` a JAPAN/MARC record of the same book gets.
    const NDL: &str = "JTNDL";

    /// The leader of a book (language material, monograph, ISBD).
    const LEADER: &str = "00000nam a2200000 i 4500";

    /// Subject subdivisions that are places, written in $z (the demo records' rule).
    const GEOGRAPHIC: [&str; 4] = ["日本", "アメリカ合衆国", "ニホン", "アメリカ ガッシュウコク"];

    /// A value of DC-NDL and its reading (`rdf:value` + `dcndl:transcription`).
    struct Described {
        value: String,
        reading: Option<String>,
    }

    /// A `foaf:Agent`: a creator or a publisher.
    struct Agent {
        name: String,
        reading: Option<String>,
        location: Option<String>,
        /// The NDL authority number (`http://id.ndl.go.jp/auth/entity/00054222` -> `00054222`).
        id: Option<String>,
    }

    /// Collects fields and the 880s of their readings, numbering the links in the order
    /// added (245 first, so its reading is `245-01/$1` as in JAPAN/MARC).
    #[derive(Default)]
    struct Fields {
        fields: Vec<Field>,
        readings: Vec<Field>,
    }

    impl Fields {
        fn control(&mut self, tag: &str, value: String) {
            // Tags here are literals of three digits: parsing cannot fail.
            if let Ok(tag) = tag.parse() {
                self.fields.push(Field::Control { tag, value });
            }
        }

        fn data(&mut self, tag: &str, [ind1, ind2]: [char; 2], subfields: Vec<Subfield>) {
            if let Ok(tag) = tag.parse() {
                self.fields.push(Field::Data { tag, ind1, ind2, subfields });
            }
        }

        fn linked(
            &mut self,
            tag: &str,
            indicators: [char; 2],
            mut subfields: Vec<Subfield>,
            reading: Option<Vec<Subfield>>,
        ) {
            if let Some(mut reading) = reading {
                let n = self.readings.len() + 1;
                subfields.insert(0, sf('6', format!("880-{n:02}")));
                reading.insert(0, sf('6', format!("{tag}-{n:02}/$1")));
                let before = self.fields.len();
                self.data("880", indicators, reading);
                // `data` pushed the 880 among the fields: it belongs to the readings.
                if self.fields.len() > before
                    && let Some(field) = self.fields.pop()
                {
                    self.readings.push(field);
                }
            }
            self.data(tag, indicators, subfields);
        }

        /// The record: the fields in tag order (same tags keeping their order), then the
        /// 880s, as NDL and the demo records have them.
        fn record(mut self) -> Record {
            self.fields.sort_by_key(Field::tag);
            self.fields.append(&mut self.readings);
            Record { leader: LEADER.to_owned(), fields: self.fields }
        }
    }

    fn sf(code: char, value: impl Into<String>) -> Subfield {
        Subfield { code, value: value.into() }
    }

    /// Adds ISBD punctuation to the last subfield (` /`, ` :`, `.` …), once.
    fn punctuate(subfields: &mut [Subfield], mark: &str) {
        if let Some(last) = subfields.last_mut() {
            let trimmed = last.value.trim_end();
            if !trimmed.ends_with(mark.trim()) {
                last.value = format!("{trimmed}{mark}");
            }
        }
    }

    /// The record of the first `dcndl:BibResource` of a DC-NDL document; `None` without a
    /// title (a record without 245 is of no use as a copy).
    pub(super) fn crosswalk(document: &Node, entered: Date) -> Option<Record> {
        let book = document.find("BibResource")?;
        let title = title(book)?;
        let texts = |name: &'static str| {
            book.children(name).filter(|n| n.children.is_empty()).map(Node::value).filter(|v| !v.is_empty())
        };
        let identifiers = |kind: &'static str| {
            book.children("identifier")
                .filter(move |n| n.attribute("datatype").and_then(|d| d.rsplit(['/', '#']).next()) == Some(kind))
                .map(Node::value)
                .filter(|v| !v.is_empty())
        };
        let creators: Vec<Agent> = book.children("creator").filter_map(|n| n.child("Agent")).map(agent).collect();
        let responsibility: Vec<&str> = texts("creator").collect();
        let publishers: Vec<Agent> = book
            .children("publisher")
            .map(|n| {
                let plain = || Agent { name: n.value().to_owned(), reading: None, location: None, id: None };
                n.child("Agent").map_or_else(plain, agent)
            })
            .filter(|a| !a.name.is_empty())
            .collect();
        let date = texts("date").next();
        let issued = texts("issued").next();
        let year = issued.and_then(four_digits).or_else(|| date.and_then(four_digits));

        let mut fields = Fields::default();
        if let Some(id) = identifiers("NDLBibID").next() {
            fields.control("001", id.to_owned());
            fields.control("003", NDL.to_owned());
        }
        let japan = texts("publicationPlace").any(|p| p == "JP");
        let language = texts("language").next();
        let audience = texts("audience").next();
        fields.control("008", f008(entered, year, japan, language, audience));
        if let Some(jpno) = identifiers("JPNO").next() {
            // JAPAN/MARC records the JPNO (全国書誌番号) as the national bibliography number.
            fields.data("015", [' ', ' '], vec![sf('a', jpno), sf('2', "jnb")]);
        }
        let price = texts("price").next();
        for (i, isbn) in identifiers("ISBN").enumerate() {
            let mut subfields = vec![sf('a', isbn)];
            if let (0, Some(price)) = (i, price) {
                subfields[0].value.push_str(" :");
                subfields.push(sf('c', price));
            }
            fields.data("020", [' ', ' '], subfields);
        }
        fields.data("040", [' ', ' '], vec![sf('a', NDL), sf('b', "jpn"), sf('c', NDL)]);
        for (class, scheme) in classes(book) {
            fields.data("084", [' ', ' '], vec![sf('a', class), sf('2', scheme)]);
        }

        let volume = book.children("volume").find_map(described);
        let (title_field, title_reading) = title_subfields(&title, volume.as_ref(), &responsibility);
        let main_entry = creators.first();
        let ind1 = if main_entry.is_some() { '1' } else { '0' };
        fields.linked("245", [ind1, '0'], title_field, title_reading);
        for (i, creator) in creators.iter().enumerate() {
            let tag = if i == 0 { "100" } else { "700" };
            // NDL writes a person 姓, 名; a name without a comma is entered as it is.
            let ind1 = if creator.name.contains(',') { '1' } else { '0' };
            let mut subfields = name_subfields(&creator.name);
            subfields.extend(creator.id.iter().map(|id| sf('0', id.as_str())));
            let reading = creator.reading.as_deref().map(name_subfields);
            fields.linked(tag, [ind1, ' '], subfields, reading);
        }
        if let Some(edition) = texts("edition").next() {
            fields.data("250", [' ', ' '], vec![sf('a', edition)]);
        }
        if let Some((imprint, reading)) = imprint(&publishers, date.or(issued)) {
            fields.linked("260", [' ', ' '], imprint, reading);
        }
        if let Some(extent) = texts("extent").next() {
            let extent = extent.trim_end_matches('.');
            let subfields = match extent.split_once(" ; ") {
                Some((pages, size)) => vec![sf('a', format!("{pages} ;")), sf('c', format!("{size}."))],
                None => vec![sf('a', format!("{extent}."))],
            };
            fields.data("300", [' ', ' '], subfields);
        }
        for series in book.children("seriesTitle").filter_map(described) {
            let reading = series.reading.as_deref().map(series_subfields);
            fields.linked("490", ['0', ' '], series_subfields(&series.value), reading);
        }
        for heading in book.children("subject").filter_map(|n| n.child("Description")) {
            let about = heading.attribute("about").unwrap_or_default();
            if !about.is_empty() && !about.contains("/ndlsh/") {
                continue;
            }
            let Some(value) = heading.child("value").map(Node::value).filter(|v| !v.is_empty()) else { continue };
            let mut subfields = heading_subfields(value);
            subfields.extend(last_segment(about).map(|id| sf('0', id)));
            subfields.push(sf('2', "ndlsh"));
            let reading = heading.child("transcription").map(Node::value).filter(|v| !v.is_empty());
            fields.linked("650", [' ', '7'], subfields, reading.map(|r| heading_subfields(&katakana(r))));
        }
        Some(fields.record())
    }

    /// The title and its reading: `dc:title/rdf:Description` (value and transcription),
    /// else the plain `dcterms:title`.
    fn title(book: &Node) -> Option<Described> {
        let mut plain = None;
        for node in book.children("title") {
            match described(node) {
                Some(title) if node.child("Description").is_some() => return Some(title),
                Some(title) if plain.is_none() => plain = Some(title),
                _ => {}
            }
        }
        plain
    }

    /// A property's value and reading: `<p><rdf:Description><rdf:value/><dcndl:transcription/>`
    /// or plain text.
    fn described(node: &Node) -> Option<Described> {
        match node.child("Description") {
            Some(description) => {
                let value = description.child("value").map(Node::value).filter(|v| !v.is_empty())?;
                let reading = description.child("transcription").map(Node::value).filter(|v| !v.is_empty());
                Some(Described { value: value.to_owned(), reading: reading.map(katakana) })
            }
            None => Some(Described { value: node.value().to_owned(), reading: None }).filter(|d| !d.value.is_empty()),
        }
    }

    fn agent(node: &Node) -> Agent {
        let text = |name| node.child(name).map(Node::value).filter(|v| !v.is_empty()).map(str::to_owned);
        Agent {
            name: text("name").unwrap_or_default(),
            reading: text("transcription").map(|r| katakana(&r)),
            location: text("location"),
            id: node.attribute("about").filter(|a| a.contains("/auth/")).and_then(last_segment).map(str::to_owned),
        }
    }

    /// The last path segment of a URI, if any.
    fn last_segment(uri: &str) -> Option<&str> {
        uri.rsplit('/').next().filter(|s| !s.is_empty() && *s != uri)
    }

    /// The first run of four digits (`2019.2` -> `2019`).
    fn four_digits(text: &str) -> Option<&str> {
        let bytes = text.as_bytes();
        (0..bytes.len().saturating_sub(3))
            .find(|&i| bytes[i..i + 4].iter().all(u8::is_ascii_digit))
            .and_then(|i| text.get(i..i + 4))
    }

    /// The NDC classes: `dcterms:subject rdf:resource=".../class/ndc9/913.6"` or
    /// `dc:subject rdf:datatype=".../NDC9"`, with JAPAN/MARC's source code (`njb/09`).
    fn classes(book: &Node) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for subject in book.children("subject") {
            let found = match subject.attribute("resource") {
                Some(resource) => resource.split_once("/class/").and_then(|(_, rest)| rest.split_once('/')),
                None => subject
                    .attribute("datatype")
                    .and_then(|d| d.rsplit(['/', '#']).next())
                    .map(|scheme| (scheme, subject.value())),
            };
            let Some((scheme, class)) = found else { continue };
            let scheme = scheme.to_ascii_lowercase();
            let source = match scheme.strip_prefix("ndc") {
                Some("") => "njb".to_owned(),
                Some(edition) if edition.bytes().all(|b| b.is_ascii_digit()) => format!("njb/{edition:0>2}"),
                _ => continue,
            };
            let class = class.trim().to_owned();
            if !class.is_empty() && !out.iter().any(|(c, s)| *c == class && *s == source) {
                out.push((class, source));
            }
        }
        out
    }

    /// 245 and its reading in the demo records' layout: `$a title /` `$c responsibility.`,
    /// a subtitle after ` : ` in $b, the volume in $n.
    fn title_subfields(
        title: &Described,
        volume: Option<&Described>,
        responsibility: &[&str],
    ) -> (Vec<Subfield>, Option<Vec<Subfield>>) {
        let split = |text: &str| -> Vec<Subfield> {
            match text.split_once(" : ") {
                Some((main, sub)) => vec![sf('a', format!("{} :", main.trim())), sf('b', sub.trim())],
                None => vec![sf('a', text.trim())],
            }
        };
        let mut field = split(&title.value);
        let mut reading = title.reading.as_deref().map(split);
        if let Some(volume) = volume {
            field.push(sf('n', volume.value.as_str()));
            if let Some(reading) = reading.as_mut() {
                punctuate(reading, ".");
                reading.push(sf('n', volume.reading.as_deref().unwrap_or(&volume.value)));
            }
        }
        if responsibility.is_empty() {
            punctuate(&mut field, ".");
        } else {
            punctuate(&mut field, " /");
            field.push(sf('c', format!("{}.", responsibility.join(" ; ").trim_end_matches('.'))));
        }
        if let Some(reading) = reading.as_mut() {
            punctuate(reading, ".");
        }
        (field, reading)
    }

    /// `夏目, 漱石, 1867-1916` -> `$a夏目, 漱石,` `$d1867-1916`, as NDL writes a name.
    fn name_subfields(name: &str) -> Vec<Subfield> {
        let name = name.trim();
        match name.rsplit_once(", ") {
            Some((head, dates))
                if dates.bytes().any(|b| b.is_ascii_digit())
                    && dates.bytes().all(|b| b.is_ascii_digit() || b"-?. ".contains(&b)) =>
            {
                vec![sf('a', format!("{head},")), sf('d', dates)]
            }
            _ => vec![sf('a', name)],
        }
    }

    /// 260 and its reading: `$a place :` `$b publisher,` … `$c date.`; the 880 holds the
    /// publishers' readings. `None` when there is neither a publisher nor a date.
    fn imprint(publishers: &[Agent], date: Option<&str>) -> Option<(Vec<Subfield>, Option<Vec<Subfield>>)> {
        if publishers.is_empty() && date.is_none() {
            return None;
        }
        let mut field = Vec::new();
        let mut reading = Vec::new();
        for (i, publisher) in publishers.iter().enumerate() {
            if i > 0 {
                punctuate(&mut field, " ;");
                punctuate(&mut reading, " ;");
            }
            if let Some(place) = &publisher.location {
                field.push(sf('a', format!("{place} :")));
            }
            field.push(sf('b', publisher.name.as_str()));
            reading.extend(publisher.reading.iter().map(|r| sf('b', r.as_str())));
        }
        match date {
            Some(date) => {
                punctuate(&mut field, ",");
                field.push(sf('c', format!("{}.", date.trim_end_matches('.'))));
            }
            None => punctuate(&mut field, "."),
        }
        punctuate(&mut reading, ".");
        Some((field, Some(reading).filter(|r| !r.is_empty())))
    }

    /// 490: `ちくま文庫 ; な-1-1` -> `$aちくま文庫 ;` `$vな-1-1`.
    fn series_subfields(series: &str) -> Vec<Subfield> {
        match series.split_once(" ; ") {
            Some((title, number)) => vec![sf('a', format!("{} ;", title.trim())), sf('v', number.trim())],
            None => vec![sf('a', series.trim())],
        }
    }

    /// `電子書籍--歴史--日本` -> `$a電子書籍` `$x歴史` `$z日本`.
    fn heading_subfields(heading: &str) -> Vec<Subfield> {
        let mut parts = heading.split("--").map(str::trim).filter(|p| !p.is_empty());
        let mut out: Vec<Subfield> = parts.next().map(|first| sf('a', first)).into_iter().collect();
        out.extend(parts.map(|p| sf(if GEOGRAPHIC.contains(&p) { 'z' } else { 'x' }, p)));
        out
    }

    /// Hiragana made katakana (NDL's readings are katakana already; others may not be).
    pub(super) fn katakana(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                'ぁ'..='ゖ' | 'ゝ' | 'ゞ' => char::from_u32(u32::from(c) + 0x60).unwrap_or(c),
                c => c,
            })
            .collect()
    }

    /// 008 of a book: the date entered (today), `s` and the year (`nuuuu` without one),
    /// `ja ` for Japan (`xx ` else), the audience (`g` 一般, `j` 児童), the language
    /// (`und` without one), fill characters where DC-NDL says nothing; 40 characters.
    fn f008(entered: Date, year: Option<&str>, japan: bool, language: Option<&str>, audience: Option<&str>) -> String {
        let dates = match year {
            Some(year) => format!("s{year}    "),
            None => "nuuuu    ".to_owned(),
        };
        let place = if japan { "ja " } else { "xx " };
        let audience = match audience {
            Some("一般") => 'g',
            Some("児童") => 'j',
            _ => '|',
        };
        let language = language
            .map(str::to_ascii_lowercase)
            .filter(|l| l.len() == 3 && l.bytes().all(|b| b.is_ascii_lowercase()))
            .unwrap_or_else(|| "und".to_owned());
        format!(
            "{:02}{:02}{:02}{dates}{place}||||{audience} |||| ||||||{language}  ",
            entered.year().rem_euclid(100),
            entered.month(),
            entered.day()
        )
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    fn zebra(base_url: String) -> CopyTarget {
        CopyTarget {
            name: "zebra".into(),
            label: "Zebra".into(),
            base_url,
            schema: TargetSchema::MarcXml,
            version: "1.2".into(),
            isbn_index: "bath.isbn".into(),
            title_index: "dc.title".into(),
            author_index: "dc.creator".into(),
            timeout_ms: 3000,
        }
    }

    fn isbn(isbn: &str) -> CopyQuery {
        CopyQuery { isbn: Some(isbn.into()), ..CopyQuery::default() }
    }

    /// A server on a free loopback port answering each connection with the next of
    /// `answers` (status line, body), then closing it; the request lines it got come back
    /// from the handle.
    async fn serve(answers: Vec<(&'static str, String)>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/biblios", listener.local_addr().unwrap());
        let handle = tokio::spawn(async move {
            let mut requests = Vec::new();
            for (status, body) in answers {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = socket.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buf[..n]);
                }
                let text = String::from_utf8_lossy(&request);
                requests.push(text.lines().next().unwrap_or_default().to_owned());
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(answer.as_bytes()).await.unwrap();
                socket.shutdown().await.unwrap();
            }
            requests
        });
        (url, handle)
    }

    /// A record as MarcEdit's mnemonic lines (`=245  10$aTitle`), blanks as `\`.
    fn mnemonic(record: &Record) -> String {
        let mut out = format!("=LDR  {}\n", record.leader);
        for field in &record.fields {
            match field {
                Field::Control { tag, value } => out.push_str(&format!("={tag}  {}\n", value.replace(' ', "\\"))),
                Field::Data { tag, ind1, ind2, subfields } => {
                    let blank = |c: char| if c == ' ' { '\\' } else { c };
                    out.push_str(&format!("={tag}  {}{}", blank(*ind1), blank(*ind2)));
                    for s in subfields {
                        out.push_str(&format!("${}{}", s.code, s.value));
                    }
                    out.push('\n');
                }
            }
        }
        out
    }

    /// Two JAPAN/MARC records cut short, in the shape Zebra (YAZ 5.34) answers SRU 1.2 with
    /// the `srw:` prefix of the SRU 1.2 schemas; the second uses a `marc:` prefix declared
    /// on the envelope, has no 003, and already has its 035.
    const MARCXML_12: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<srw:searchRetrieveResponse xmlns:srw="http://www.loc.gov/zing/srw/" xmlns:marc="http://www.loc.gov/MARC21/slim"><srw:version>1.2</srw:version><srw:numberOfRecords>2</srw:numberOfRecords><srw:records><srw:record><srw:recordSchema>info:srw/schema/1/marcxml-v1.1</srw:recordSchema><srw:recordPacking>xml</srw:recordPacking><srw:recordData><record xmlns="http://www.loc.gov/MARC21/slim"><leader>01288cam a2200361zi 4500</leader><controlfield tag="001">029455884</controlfield><controlfield tag="003">JTNDL</controlfield><controlfield tag="005">20190227112646.0</controlfield><controlfield tag="008">190212s2019    ja ||||g |||| ||||||jpn  </controlfield><datafield tag="020" ind1=" " ind2=" "><subfield code="a">978-4-7949-7075-6 :</subfield><subfield code="c">1700円</subfield></datafield><datafield tag="040" ind1=" " ind2=" "><subfield code="a">JTNDL</subfield></datafield><datafield tag="245" ind1="0" ind2="0"><subfield code="6">880-01</subfield><subfield code="a">これからの本の話をしよう /</subfield><subfield code="c">萩野正昭 著.</subfield></datafield><datafield tag="880" ind1="0" ind2="0"><subfield code="6">245-01/$1</subfield><subfield code="a">コレカラ ノ ホン ノ ハナシ オ シヨウ.</subfield></datafield></record></srw:recordData><srw:recordPosition>1</srw:recordPosition></srw:record><srw:record><srw:recordSchema>info:srw/schema/1/marcxml-v1.1</srw:recordSchema><srw:recordPacking>xml</srw:recordPacking><srw:recordData><marc:record><marc:leader>00000cam a2200000zi 4500</marc:leader><marc:controlfield tag="001">025095671</marc:controlfield><marc:datafield tag="035" ind1=" " ind2=" "><marc:subfield code="a">(zebra)025095671</marc:subfield></marc:datafield><marc:datafield tag="245" ind1="0" ind2="0"><marc:subfield code="a">紙の本は、滅びない &amp; 「本」 /</marc:subfield></marc:datafield></marc:record></srw:recordData><srw:recordPosition>2</srw:recordPosition></srw:record></srw:records></srw:searchRetrieveResponse>"#;

    #[tokio::test]
    async fn marcxml_records_are_copied_with_a_035_and_without_the_control_numbers() {
        let (url, server) = serve(vec![("200 OK", MARCXML_12.to_owned())]).await;
        let found = search(&client().unwrap(), &zebra(url), &isbn("978-4-7949-7075-6"), 10).await.unwrap();
        let requests = server.await.unwrap();
        assert_eq!(
            requests,
            ["GET /biblios?operation=searchRetrieve&version=1.2&query=bath.isbn%3D%229784794970756%22\
              &maximumRecords=10&recordSchema=marcxml&recordPacking=xml HTTP/1.1"]
        );
        assert_eq!((found.total, found.records.len(), found.skipped), (2, 2, 0));
        assert_eq!(
            mnemonic(&found.records[0].record),
            "=LDR  01288cam a2200361zi 4500\n\
             =008  190212s2019\\\\\\\\ja\\||||g\\||||\\||||||jpn\\\\\n\
             =020  \\\\$a978-4-7949-7075-6 :$c1700円\n\
             =035  \\\\$a(JTNDL)029455884\n\
             =040  \\\\$aJTNDL\n\
             =245  00$6880-01$aこれからの本の話をしよう /$c萩野正昭 著.\n\
             =880  00$6245-01/$1$aコレカラ ノ ホン ノ ハナシ オ シヨウ.\n"
        );
        let second = &found.records[1];
        assert_eq!(second.position, 2);
        assert_eq!(
            mnemonic(&second.record),
            "=LDR  00000cam a2200000zi 4500\n\
             =035  \\\\$a(zebra)025095671\n\
             =245  00$a紙の本は、滅びない & 「本」 /\n"
        );
    }

    #[tokio::test]
    async fn escaped_records_of_sru_2_are_read() {
        // SRU 2.0 as Zebra answers `recordXMLEscaping=string`: the record escaped, with its
        // own XML declaration; the second record is not MARC and is skipped.
        let record = r#"<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 i 4500</leader><controlfield tag="001">000008042446</controlfield><controlfield tag="003">JTNDL</controlfield><datafield tag="245" ind1="0" ind2="0"><subfield code="a">日本の大事な話 &amp; "引用"</subfield></datafield></record>"#;
        let escaped = record.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
        let body = format!(
            r#"<?xml version="1.0"?><zs:searchRetrieveResponse xmlns:zs="http://docs.oasis-open.org/ns/search-ws/sruResponse"><zs:numberOfRecords>7</zs:numberOfRecords><zs:records><zs:record><zs:recordSchema>marcxml</zs:recordSchema><zs:recordXMLEscaping>string</zs:recordXMLEscaping><zs:recordData>{escaped}</zs:recordData><zs:recordPosition>3</zs:recordPosition></zs:record><zs:record><zs:recordSchema>marcxml</zs:recordSchema><zs:recordData><![CDATA[<mods xmlns="http://www.loc.gov/mods/v3"/>]]></zs:recordData><zs:recordPosition>4</zs:recordPosition></zs:record></zs:records></zs:searchRetrieveResponse>"#
        );
        let (url, server) = serve(vec![("200 OK", body)]).await;
        let mut target = zebra(url);
        target.version = "2.0".into();
        let found = search(&client().unwrap(), &target, &isbn("4862120253"), 2).await.unwrap();
        let request = server.await.unwrap().remove(0);
        assert!(request.contains("version=2.0&query=bath.isbn%3D%224862120253%22&maximumRecords=2"), "{request}");
        assert!(request.ends_with("&recordXMLEscaping=xml HTTP/1.1") && !request.contains("recordPacking"));
        assert_eq!((found.total, found.records.len(), found.skipped), (7, 1, 1));
        assert_eq!(found.records[0].position, 3);
        assert_eq!(
            mnemonic(&found.records[0].record),
            "=LDR  00000nam a2200000 i 4500\n=035  \\\\$a(JTNDL)000008042446\n=245  00$a日本の大事な話 & \"引用\"\n"
        );
    }

    #[tokio::test]
    async fn a_diagnostic_with_http_200_is_an_error() {
        // Zebra's answer to `dc.title=(`, as it is.
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<zs:searchRetrieveResponse xmlns:zs="http://www.loc.gov/zing/srw/"><zs:version>1.2</zs:version><zs:echoedSearchRetrieveRequest><zs:version>1.2</zs:version><zs:query>dc.title=(</zs:query><zs:maximumRecords>2</zs:maximumRecords><zs:recordPacking>xml</zs:recordPacking><zs:recordSchema>marcxml</zs:recordSchema></zs:echoedSearchRetrieveRequest><zs:diagnostics xmlns:diag="http://www.loc.gov/zing/srw/diagnostic/"><diag:diagnostic><diag:uri>info:srw/diagnostic/1/10</diag:uri><diag:message>Query syntax error</diag:message></diag:diagnostic></zs:diagnostics></zs:searchRetrieveResponse>"#;
        let (url, _server) = serve(vec![("200 OK", body.to_owned())]).await;
        let query = CopyQuery { title: Some("(".into()), ..CopyQuery::default() };
        let err = search(&client().unwrap(), &zebra(url), &query, 2).await.unwrap_err();
        assert_eq!(
            err,
            CopyError::Diagnostic {
                target: "zebra".into(),
                uri: "info:srw/diagnostic/1/10".into(),
                message: "Query syntax error".into()
            }
        );
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.en(), "target zebra refused the search: Query syntax error (info:srw/diagnostic/1/10)");
        assert!(err.ja().contains("検索を受け付けませんでした"));
    }

    #[tokio::test]
    async fn a_silent_target_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/biblios", listener.local_addr().unwrap());
        // Accepts, reads nothing, writes nothing: as Zebra does when stopped (SIGSTOP).
        let held = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(10)).await;
            drop(socket);
        });
        let mut target = zebra(url);
        target.timeout_ms = 300;
        let started = std::time::Instant::now();
        let err = search(&client().unwrap(), &target, &isbn("9784794970756"), 1).await.unwrap_err();
        let took = started.elapsed();
        assert_eq!(err, CopyError::Timeout { target: "zebra".into(), after_ms: 300 });
        assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(1), "{took:?}");
        assert_eq!(err.status(), StatusCode::GATEWAY_TIMEOUT);
        assert!(err.ja().contains("300 ミリ秒以内に応答しませんでした"));
        held.abort();
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/biblios", listener.local_addr().unwrap());
        drop(listener);
        let err = search(&client().unwrap(), &zebra(url), &isbn("9784794970756"), 1).await.unwrap_err();
        let CopyError::Unreachable { target, reason } = &err else { panic!("{err:?}") };
        assert_eq!(target, "zebra");
        assert!(reason.to_lowercase().contains("refused"), "{reason}");
        assert!(!reason.contains("bath.isbn"), "no URL in the reason: {reason}");
        assert_eq!(err.status(), StatusCode::BAD_GATEWAY);
    }

    #[tokio::test]
    async fn an_http_error_without_a_diagnostic_is_http() {
        let (url, _server) = serve(vec![("500 Internal Server Error", "<html>oops</html>".to_owned())]).await;
        let err = search(&client().unwrap(), &zebra(url), &isbn("9784794970756"), 1).await.unwrap_err();
        assert_eq!(err, CopyError::Http { target: "zebra".into(), status: 500 });
        assert_eq!(err.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(err.en(), "target zebra answered with HTTP 500");
    }

    #[tokio::test]
    async fn an_answer_that_is_not_sru_is_malformed() {
        let (url, _server) = serve(vec![("200 OK", format!("<html><body>{}</body></html>", "x".repeat(1000)))]).await;
        let err = search(&client().unwrap(), &zebra(url), &isbn("9784794970756"), 1).await.unwrap_err();
        let CopyError::Malformed { reason, .. } = &err else { panic!("{err:?}") };
        assert_eq!(reason, "not an SRU searchRetrieve response (<html>)");
        let long = format!(
            "<srw:searchRetrieveResponse xmlns:srw=\"x\"><srw:diagnostics><diagnostic><uri>u</uri><message>{}</message></diagnostic></srw:diagnostics></srw:searchRetrieveResponse>",
            "y".repeat(500)
        );
        let err = read_answer(&zebra(String::new()), 200, long.as_bytes(), jiff::civil::date(2026, 4, 1)).unwrap_err();
        let CopyError::Diagnostic { message, .. } = &err else { panic!("{err:?}") };
        assert_eq!(message.chars().count(), MAX_DETAIL_CHARS + 1, "capped, with an ellipsis");
        assert_eq!(err.status(), StatusCode::BAD_GATEWAY);
    }

    #[test]
    fn cql_quotes_and_escapes_values() {
        let target = zebra(String::new());
        let query = CopyQuery {
            isbn: Some(" 4-86212-025-x ".into()),
            title: Some(r#"「本」の話 "続" \ 完"#.into()),
            author: Some("萩野正昭".into()),
        };
        assert_eq!(
            query.cql(&target).unwrap(),
            r#"bath.isbn="486212025X" and dc.title="「本」の話 \"続\" \\ 完" and dc.creator="萩野正昭""#
        );
        let title_only = CopyQuery { title: Some("a\tb".into()), isbn: Some(" - ".into()), author: Some(" ".into()) };
        assert_eq!(title_only.cql(&target).unwrap(), r#"dc.title="a b""#);
        assert_eq!(CopyQuery::default().cql(&target), Err(CopyError::EmptyQuery));
        assert_eq!(CopyError::EmptyQuery.status(), StatusCode::BAD_REQUEST);
        let url = request_url(&target, r#"dc.title="a b""#, 5);
        assert_eq!(
            url,
            "?operation=searchRetrieve&version=1.2&query=dc.title%3D%22a%20b%22&maximumRecords=5&recordSchema=marcxml&recordPacking=xml"
        );
        let with_query = CopyTarget { base_url: "https://example.org/sru?x-db=books".into(), ..zebra(String::new()) };
        assert!(request_url(&with_query, "x", 1).starts_with("https://example.org/sru?x-db=books&operation="));
    }

    /// A DC-NDL record of NDL Search's SRU (`recordSchema=dcndl`, `recordPacking=xml`),
    /// hand-written to the shape NDL documents for DC-NDL (RDF/XML): not a captured answer.
    /// The bibliographic facts are those of the JAPAN/MARC record 029455884 of
    /// ../shared/fixtures/japanese/enju-jpmarc (「出典：国立国会図書館書誌データ」).
    const DCNDL_12: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<searchRetrieveResponse xmlns="http://www.loc.gov/zing/srw/">
  <version>1.2</version>
  <numberOfRecords>1</numberOfRecords>
  <records>
    <record>
      <recordSchema>info:ndl-ndl/schema/dcndl</recordSchema>
      <recordPacking>xml</recordPacking>
      <recordData>
        <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
            xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dc="http://purl.org/dc/elements/1.1/"
            xmlns:dcndl="http://ndl.go.jp/dcndl/terms/" xmlns:foaf="http://xmlns.com/foaf/0.1/">
          <dcndl:BibAdminResource rdf:about="https://ndlsearch.ndl.go.jp/books/R100000002-I029455884">
            <dcndl:catalogingStatus>C7</dcndl:catalogingStatus>
            <dcndl:catalogingRule>ncr/1987</dcndl:catalogingRule>
            <dcndl:bibRecordCategory>R100000002</dcndl:bibRecordCategory>
            <dcndl:record rdf:resource="https://ndlsearch.ndl.go.jp/books/R100000002-I029455884#material"/>
          </dcndl:BibAdminResource>
          <dcndl:BibResource rdf:about="https://ndlsearch.ndl.go.jp/books/R100000002-I029455884#material">
            <rdfs:seeAlso rdf:resource="https://id.ndl.go.jp/bib/029455884"/>
            <dcterms:identifier rdf:datatype="http://ndl.go.jp/dcndl/terms/JPNO">23173255</dcterms:identifier>
            <dcterms:identifier rdf:datatype="http://ndl.go.jp/dcndl/terms/ISBN">978-4-7949-7075-6</dcterms:identifier>
            <dcterms:identifier rdf:datatype="http://ndl.go.jp/dcndl/terms/NDLBibID">029455884</dcterms:identifier>
            <dcterms:title>これからの本の話をしよう</dcterms:title>
            <dc:title>
              <rdf:Description>
                <rdf:value>これからの本の話をしよう</rdf:value>
                <dcndl:transcription>コレカラ ノ ホン ノ ハナシ オ シヨウ</dcndl:transcription>
              </rdf:Description>
            </dc:title>
            <dcterms:creator>
              <foaf:Agent rdf:about="http://id.ndl.go.jp/auth/entity/01215194">
                <foaf:name>萩野, 正昭</foaf:name>
                <dcndl:transcription>ハギノ, マサアキ</dcndl:transcription>
              </foaf:Agent>
            </dcterms:creator>
            <dc:creator>萩野正昭 著</dc:creator>
            <dcterms:publisher>
              <foaf:Agent>
                <foaf:name>晶文社</foaf:name>
                <dcndl:transcription>ショウブンシャ</dcndl:transcription>
                <dcndl:location>東京</dcndl:location>
              </foaf:Agent>
            </dcterms:publisher>
            <dcndl:publicationPlace rdf:datatype="http://purl.org/dc/terms/ISO3166">JP</dcndl:publicationPlace>
            <dcterms:date>2019.2</dcterms:date>
            <dcterms:issued rdf:datatype="http://purl.org/dc/terms/W3CDTF">2019</dcterms:issued>
            <dcterms:subject>
              <rdf:Description rdf:about="http://id.ndl.go.jp/auth/ndlsh/01194148">
                <rdf:value>電子書籍</rdf:value>
                <dcndl:transcription>デンシ ショセキ</dcndl:transcription>
              </rdf:Description>
            </dcterms:subject>
            <dcterms:subject>
              <rdf:Description rdf:about="http://id.ndl.go.jp/auth/ndlsh/00575535">
                <rdf:value>電子出版</rdf:value>
                <dcndl:transcription>デンシシュッパン</dcndl:transcription>
              </rdf:Description>
            </dcterms:subject>
            <dcterms:subject rdf:resource="http://id.ndl.go.jp/class/ndlc/UE13"/>
            <dcterms:subject rdf:resource="http://id.ndl.go.jp/class/ndc10/023"/>
            <dcterms:language rdf:datatype="http://purl.org/dc/terms/ISO639-2">jpn</dcterms:language>
            <dcterms:extent>301p ; 19cm</dcterms:extent>
            <dcndl:price>1700円</dcndl:price>
            <dcterms:audience>一般</dcterms:audience>
            <dcndl:materialType rdf:resource="http://ndl.go.jp/ndltype/Book" rdfs:label="図書"/>
          </dcndl:BibResource>
        </rdf:RDF>
      </recordData>
      <recordPosition>1</recordPosition>
    </record>
  </records>
</searchRetrieveResponse>"#;

    #[tokio::test]
    async fn dcndl_is_crosswalked_to_japan_marc() {
        let (url, server) = serve(vec![("200 OK", DCNDL_12.to_owned())]).await;
        let target = CopyTarget { base_url: url, timeout_ms: 3000, ..CopyTarget::ndl() };
        let found = search(&client().unwrap(), &target, &isbn("9784794970756"), 20).await.unwrap();
        let request = server.await.unwrap().remove(0);
        assert!(request.contains("query=isbn%3D%229784794970756%22&maximumRecords=20&recordSchema=dcndl"), "{request}");
        assert_eq!((found.total, found.records.len(), found.skipped), (1, 1, 0));
        let record = &found.records[0].record;
        let today = today_in_japan();
        let entered = format!("{:02}{:02}{:02}", today.year() % 100, today.month(), today.day());
        assert_eq!(
            mnemonic(record),
            format!(
                "=LDR  00000nam a2200000 i 4500\n\
                 =008  {entered}s2019\\\\\\\\ja\\||||g\\||||\\||||||jpn\\\\\n\
                 =015  \\\\$a23173255$2jnb\n\
                 =020  \\\\$a978-4-7949-7075-6 :$c1700円\n\
                 =035  \\\\$a(JTNDL)029455884\n\
                 =040  \\\\$aJTNDL$bjpn$cJTNDL\n\
                 =084  \\\\$a023$2njb/10\n\
                 =100  1\\$6880-02$a萩野, 正昭$001215194\n\
                 =245  10$6880-01$aこれからの本の話をしよう /$c萩野正昭 著.\n\
                 =260  \\\\$6880-03$a東京 :$b晶文社,$c2019.2.\n\
                 =300  \\\\$a301p ;$c19cm.\n\
                 =650  \\7$6880-04$a電子書籍$001194148$2ndlsh\n\
                 =650  \\7$6880-05$a電子出版$000575535$2ndlsh\n\
                 =880  10$6245-01/$1$aコレカラ ノ ホン ノ ハナシ オ シヨウ.\n\
                 =880  1\\$6100-02/$1$aハギノ, マサアキ\n\
                 =880  \\\\$6260-03/$1$bショウブンシャ.\n\
                 =880  \\7$6650-04/$1$aデンシ ショセキ\n\
                 =880  \\7$6650-05/$1$aデンシシュッパン\n"
            )
        );
        assert_eq!(
            catalogue::cataloguing::validate::validate(record),
            vec![],
            "the copy passes the cataloguing checks"
        );
    }

    #[test]
    fn dcndl_volumes_series_ndc9_and_what_is_missing() {
        // Hand-written to DC-NDL's shape (illustrative values, not NDL's record): a volume,
        // a series with its number, NDC 9 as a resource and as a typed literal, a name with
        // dates, a second creator, a reading in hiragana; no ISBN, JPNO, NDLBibID, extent
        // or language.
        let rdf = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcndl="http://ndl.go.jp/dcndl/terms/" xmlns:foaf="http://xmlns.com/foaf/0.1/">
          <dcndl:BibResource rdf:about="https://ndlsearch.ndl.go.jp/books/R100000002-I000000000001#material">
            <dcterms:title>吾輩は猫である 上</dcterms:title>
            <dc:title><rdf:Description><rdf:value>吾輩は猫である</rdf:value><dcndl:transcription>ワガハイ ワ ネコ デ アル</dcndl:transcription></rdf:Description></dc:title>
            <dcndl:volume><rdf:Description><rdf:value>上</rdf:value><dcndl:transcription>じょう</dcndl:transcription></rdf:Description></dcndl:volume>
            <dcndl:seriesTitle><rdf:Description><rdf:value>岩波文庫 ; 緑10-1</rdf:value><dcndl:transcription>イワナミ ブンコ ; 10-1</dcndl:transcription></rdf:Description></dcndl:seriesTitle>
            <dcterms:creator><foaf:Agent><foaf:name>夏目, 漱石, 1867-1916</foaf:name><dcndl:transcription>ナツメ, ソウセキ, 1867-1916</dcndl:transcription></foaf:Agent></dcterms:creator>
            <dcterms:creator><foaf:Agent><foaf:name>紫式部</foaf:name></foaf:Agent></dcterms:creator>
            <dc:creator>夏目漱石 著</dc:creator>
            <dc:creator>某 解説</dc:creator>
            <dcterms:publisher><foaf:Agent><foaf:name>岩波書店</foaf:name><dcndl:transcription>イワナミ ショテン</dcndl:transcription><dcndl:location>東京</dcndl:location></foaf:Agent></dcterms:publisher>
            <dcterms:issued rdf:datatype="http://purl.org/dc/terms/W3CDTF">1990</dcterms:issued>
            <dcterms:subject rdf:resource="http://id.ndl.go.jp/class/ndc9/913.6"/>
            <dc:subject rdf:datatype="http://ndl.go.jp/dcndl/terms/NDC9">913.6</dc:subject>
            <dcterms:subject><rdf:Description><rdf:value>猫--文学--日本</rdf:value></rdf:Description></dcterms:subject>
          </dcndl:BibResource>
        </rdf:RDF>"#;
        let record = dcndl::crosswalk(&tree(rdf.as_bytes()).unwrap(), jiff::civil::date(2026, 4, 1)).unwrap();
        assert_eq!(
            mnemonic(&traceable(record.clone(), "ndl")),
            "=LDR  00000nam a2200000 i 4500\n\
             =008  260401s1990\\\\\\\\xx\\|||||\\||||\\||||||und\\\\\n\
             =040  \\\\$aJTNDL$bjpn$cJTNDL\n\
             =084  \\\\$a913.6$2njb/09\n\
             =100  1\\$6880-02$a夏目, 漱石,$d1867-1916\n\
             =245  10$6880-01$a吾輩は猫である$n上 /$c夏目漱石 著 ; 某 解説.\n\
             =260  \\\\$6880-03$a東京 :$b岩波書店,$c1990.\n\
             =490  0\\$6880-04$a岩波文庫 ;$v緑10-1\n\
             =650  \\7$a猫$x文学$z日本$2ndlsh\n\
             =700  0\\$a紫式部\n\
             =880  10$6245-01/$1$aワガハイ ワ ネコ デ アル.$nジョウ.\n\
             =880  1\\$6100-02/$1$aナツメ, ソウセキ,$d1867-1916\n\
             =880  \\\\$6260-03/$1$bイワナミ ショテン.\n\
             =880  0\\$6490-04/$1$aイワナミ ブンコ ;$v10-1\n"
        );
        assert!(record.control_number().is_none(), "no NDLBibID, no 001");
        let no_title = r#"<rdf:RDF xmlns:rdf="r" xmlns:dcndl="d"><dcndl:BibResource/></rdf:RDF>"#;
        assert!(dcndl::crosswalk(&tree(no_title.as_bytes()).unwrap(), jiff::civil::date(2026, 4, 1)).is_none());
        assert_eq!(dcndl::katakana("こゝろ・ゔ"), "コヽロ・ヴ");
    }

    #[test]
    fn a_client_builds_without_a_process_crypto_provider() {
        // The server installs no process-wide rustls provider: reqwest takes ring itself.
        client().unwrap();
    }
}
