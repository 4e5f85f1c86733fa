//! The SOAP binding of SRU (SRW 1.1/1.2 over SOAP 1.1 or 1.2), as `yaz-client` sends it
//! by default and older library systems still do: a POST whose body is
//!
//! ```xml
//! <SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
//!   <SOAP-ENV:Body>
//!     <zs:searchRetrieveRequest xmlns:zs="http://www.loc.gov/zing/srw/">
//!       <zs:version>1.2</zs:version><zs:query>dc.title=図書館</zs:query>
//!     </zs:searchRetrieveRequest>
//!   </SOAP-ENV:Body>
//! </SOAP-ENV:Envelope>
//! ```
//!
//! [`parse`] reads the envelope into the same name-value pairs a query string gives (the
//! request element names the operation, each child element a parameter by its local name),
//! so a SOAP request is checked and answered exactly as the same GET would be;
//! [`envelope`] wraps the answer in an envelope of the request's SOAP version.
//!
//! The parser is bounded: at most [`MAX_SOAP_BYTES`] of UTF-8, [`MAX_DEPTH`] levels and
//! [`MAX_ELEMENTS`] elements; a document type declaration is refused, so no entity is
//! ever defined or expanded (only the five predefined entities and character references
//! are read). Whatever cannot be read as an SRU request inside a SOAP envelope is a
//! [`SoapFault`], answered as a SOAP fault.

use quick_xml::NsReader;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// The largest SOAP request read.
pub(crate) const MAX_SOAP_BYTES: usize = 64 * 1024;
/// The deepest nesting of elements read.
pub(crate) const MAX_DEPTH: usize = 16;
/// The most elements read.
pub(crate) const MAX_ELEMENTS: usize = 256;

const SOAP_11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const SOAP_12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// The SOAP 1.2 draft namespace YAZ still accepts.
const SOAP_12_DRAFT_NS: &str = "http://www.w3.org/2001/06/soap-envelope";

/// The namespaces of SRU requests: SRW 1.x, and SRU 2.0's request and scan namespaces.
const SRW_NS: &str = "http://www.loc.gov/zing/srw/";
const SRU_2_REQUEST_NS: &str = "http://docs.oasis-open.org/ns/search-ws/sruRequest";
const SRU_2_SCAN_NS: &str = "http://docs.oasis-open.org/ns/search-ws/scan";

/// Request elements that carry nothing this server reads (`database` is the path of the
/// URL here; extra request data is for extensions this server has none of).
const IGNORED: &[&str] = &["database", "extraRequestData"];

/// A version of SOAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SoapVersion {
    /// SOAP 1.1, `text/xml` (what yaz-client sends).
    V1_1,
    /// SOAP 1.2, `application/soap+xml`.
    V1_2,
}

impl SoapVersion {
    fn namespace(self) -> &'static str {
        match self {
            SoapVersion::V1_1 => SOAP_11_NS,
            SoapVersion::V1_2 => SOAP_12_NS,
        }
    }

    /// The `Content-Type` of a response.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            SoapVersion::V1_1 => "text/xml; charset=utf-8",
            SoapVersion::V1_2 => "application/soap+xml; charset=utf-8",
        }
    }
}

/// An SRU request read from a SOAP envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SoapRequest {
    /// The envelope's version, which the answer uses.
    pub(crate) soap: SoapVersion,
    /// The request as query-string pairs, `operation` and `version` included.
    pub(crate) pairs: Vec<(String, String)>,
}

/// A body that is not an SRU request in a SOAP envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SoapFault {
    /// The version to answer in (1.1 when the envelope could not be read).
    pub(crate) soap: SoapVersion,
    /// What is wrong, for people.
    pub(crate) message: String,
}

impl SoapFault {
    fn new(soap: SoapVersion, message: impl Into<String>) -> SoapFault {
        SoapFault { soap, message: message.into() }
    }

    /// The fault as a SOAP envelope: `SOAP-ENV:Client` (1.1) or `env:Sender` (1.2), the
    /// fault being the client's.
    pub(crate) fn render(&self) -> String {
        let message = escape(self.message.as_str());
        let body = match self.soap {
            SoapVersion::V1_1 => format!(
                "<SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>{message}</faultstring></SOAP-ENV:Fault>"
            ),
            SoapVersion::V1_2 => format!(
                "<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value></SOAP-ENV:Code>\
                 <SOAP-ENV:Reason><SOAP-ENV:Text xml:lang=\"en\">{message}</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault>"
            ),
        };
        envelope(self.soap, &body)
    }
}

/// Whether a POST is a SOAP request rather than a form: its `Content-Type` is XML
/// (`text/xml`, `application/soap+xml`, `application/xml`), or, with no usable type, its
/// body starts with `<`. GET requests never are (yaz-client sends `text/xml` on those too).
pub(crate) fn is_soap(content_type: Option<&str>, body: &[u8]) -> bool {
    let essence = content_type.and_then(|t| t.split(';').next()).map(|t| t.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("text/xml" | "application/soap+xml" | "application/xml") => true,
        Some("application/x-www-form-urlencoded") => false,
        _ => body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<'),
    }
}

/// Wraps `body` (XML, with or without its own XML declaration) in a SOAP envelope.
pub(crate) fn envelope(soap: SoapVersion, body: &str) -> String {
    let body = body.trim_start();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(body, |(_, after)| after.trim_start()),
        None => body,
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{}\"><SOAP-ENV:Body>{}</SOAP-ENV:Body></SOAP-ENV:Envelope>\n",
        soap.namespace(),
        body.trim_end()
    )
}

/// Where the reader is in the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the root element.
    Prolog,
    /// Inside `Envelope`, before `Body`.
    Envelope,
    /// Inside `Body`, before the request element.
    Body,
    /// Inside the request element, between parameters.
    Request,
    /// Inside a parameter element.
    Parameter,
    /// After the request element.
    Done,
}

/// Reads an SRU request from a SOAP envelope.
pub(crate) fn parse(body: &[u8]) -> Result<SoapRequest, SoapFault> {
    let mut soap = SoapVersion::V1_1;
    if body.len() > MAX_SOAP_BYTES {
        return Err(SoapFault::new(soap, format!("the request is larger than {MAX_SOAP_BYTES} bytes")));
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(SoapFault::new(soap, "the request is not UTF-8"));
    };
    let mut reader = NsReader::from_str(text.strip_prefix('\u{FEFF}').unwrap_or(text));
    let mut state = State::Prolog;
    let mut depth = 0usize;
    let mut elements = 0usize;
    // Depth of a subtree being skipped (a Header, an ignored parameter), if any.
    let mut skipping: Option<usize> = None;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut parameter: Option<(String, String)> = None;
    let mut request_ns: Option<&'static str> = None;
    let mut has_version = false;
    loop {
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(read) => read,
            Err(err) => {
                return Err(SoapFault::new(soap, format!("the request is not well-formed XML: {}", shorten(&err))));
            }
        };
        let namespace = match resolved {
            ResolveResult::Bound(ns) => std::str::from_utf8(ns.as_ref()).ok().map(str::to_owned),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(prefix) => {
                let prefix = String::from_utf8_lossy(&prefix).into_owned();
                return Err(SoapFault::new(soap, format!("namespace prefix {prefix} is not declared")));
            }
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let empty = matches!(event, Event::Empty(_));
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(SoapFault::new(soap, format!("the request has more than {MAX_ELEMENTS} elements")));
                }
                if !empty {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(SoapFault::new(soap, format!("elements nest deeper than {MAX_DEPTH} levels")));
                    }
                }
                if skipping.is_some() {
                    continue;
                }
                let local = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                let ns = namespace.as_deref();
                match state {
                    State::Prolog => {
                        soap = match (local.as_str(), ns) {
                            ("Envelope", Some(SOAP_11_NS)) => SoapVersion::V1_1,
                            ("Envelope", Some(SOAP_12_NS | SOAP_12_DRAFT_NS)) => SoapVersion::V1_2,
                            ("Envelope", _) => {
                                return Err(SoapFault::new(soap, "the Envelope is not in a SOAP 1.1 or 1.2 namespace"));
                            }
                            _ => {
                                return Err(SoapFault::new(
                                    soap,
                                    format!("expected a SOAP Envelope, found {}", shorten(&local)),
                                ));
                            }
                        };
                        if empty {
                            return Err(SoapFault::new(soap, "the SOAP Envelope has no Body"));
                        }
                        state = State::Envelope;
                    }
                    State::Envelope => {
                        let soap_ns = ns == Some(soap.namespace()) || ns == Some(SOAP_12_DRAFT_NS);
                        match local.as_str() {
                            "Header" if soap_ns => {
                                if !empty {
                                    skipping = Some(depth);
                                }
                            }
                            "Body" if soap_ns => {
                                if empty {
                                    return Err(SoapFault::new(soap, "the SOAP Body is empty"));
                                }
                                state = State::Body;
                            }
                            _ => {
                                return Err(SoapFault::new(
                                    soap,
                                    format!("expected the SOAP Body, found {}", shorten(&local)),
                                ));
                            }
                        }
                    }
                    State::Body => {
                        let operation = match local.as_str() {
                            "searchRetrieveRequest" => "searchRetrieve",
                            "explainRequest" => "explain",
                            "scanRequest" => "scan",
                            other => {
                                return Err(SoapFault::new(
                                    soap,
                                    format!(
                                        "unsupported SRU request {}: send searchRetrieveRequest, scanRequest or explainRequest",
                                        shorten(other)
                                    ),
                                ));
                            }
                        };
                        request_ns = match ns {
                            Some(SRW_NS) => Some(SRW_NS),
                            Some(SRU_2_REQUEST_NS) => Some(SRU_2_REQUEST_NS),
                            Some(SRU_2_SCAN_NS) => Some(SRU_2_SCAN_NS),
                            _ => {
                                return Err(SoapFault::new(
                                    soap,
                                    format!(
                                        "the {local} is not in the SRW namespace {SRW_NS} (or an SRU 2.0 request namespace)"
                                    ),
                                ));
                            }
                        };
                        pairs.push(("operation".to_owned(), operation.to_owned()));
                        state = if empty { State::Done } else { State::Request };
                    }
                    State::Request => {
                        if IGNORED.contains(&local.as_str()) {
                            if !empty {
                                skipping = Some(depth);
                            }
                            continue;
                        }
                        has_version |= local == "version";
                        if empty {
                            pairs.push((local, String::new()));
                        } else {
                            parameter = Some((local, String::new()));
                            state = State::Parameter;
                        }
                    }
                    State::Parameter => {
                        let name = parameter.as_ref().map(|(name, _)| name.clone()).unwrap_or_default();
                        return Err(SoapFault::new(
                            soap,
                            format!("parameter {} holds an element: only text is supported", shorten(&name)),
                        ));
                    }
                    State::Done => {
                        return Err(SoapFault::new(soap, "the SOAP Body holds more than one request"));
                    }
                }
            }
            Event::End(_) => {
                if let Some(level) = skipping {
                    if depth == level {
                        skipping = None;
                    }
                    depth = depth.saturating_sub(1);
                    continue;
                }
                depth = depth.saturating_sub(1);
                state = match state {
                    State::Parameter => {
                        if let Some(pair) = parameter.take() {
                            pairs.push(pair);
                        }
                        State::Request
                    }
                    State::Request => State::Done,
                    State::Body if request_ns.is_none() => {
                        return Err(SoapFault::new(soap, "the SOAP Body holds no SRU request"));
                    }
                    other => other,
                };
            }
            Event::Text(text) => {
                let decoded = text.decode().map_err(|_| SoapFault::new(soap, "the request is not UTF-8"))?;
                append_text(&mut parameter, state, skipping, &decoded, soap)?;
            }
            Event::CData(data) => {
                let decoded = data.decode().map_err(|_| SoapFault::new(soap, "the request is not UTF-8"))?;
                append_text(&mut parameter, state, skipping, &decoded, soap)?;
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = reference.decode().map_err(|_| SoapFault::new(soap, "the request is not UTF-8"))?;
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(text) => text.to_owned(),
                            None => {
                                return Err(SoapFault::new(
                                    soap,
                                    format!("entity &{}; is not defined", shorten(&name)),
                                ));
                            }
                        }
                    }
                    Err(_) => return Err(SoapFault::new(soap, "a character reference is not a character")),
                };
                append_text(&mut parameter, state, skipping, &resolved, soap)?;
            }
            Event::DocType(_) => {
                return Err(SoapFault::new(soap, "document type declarations are not accepted"));
            }
            Event::Decl(decl) => {
                if let Some(Ok(encoding)) = decl.encoding()
                    && !matches!(encoding.to_ascii_lowercase().as_slice(), b"utf-8" | b"utf8")
                {
                    return Err(SoapFault::new(soap, "the request must be UTF-8"));
                }
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if state != State::Done {
        return Err(SoapFault::new(soap, "the SOAP envelope holds no complete SRU request"));
    }
    if !has_version {
        // SRW 1.x requests must carry their version; one that does not is taken as 1.1,
        // the version SRW's SOAP binding was written for. SRU 2.0 has no version element.
        let version = if request_ns == Some(SRW_NS) { "1.1" } else { "2.0" };
        pairs.push(("version".to_owned(), version.to_owned()));
    }
    Ok(SoapRequest { soap, pairs })
}

/// Text inside a parameter is its value; elsewhere only white space may appear.
fn append_text(
    parameter: &mut Option<(String, String)>,
    state: State,
    skipping: Option<usize>,
    text: &str,
    soap: SoapVersion,
) -> Result<(), SoapFault> {
    if skipping.is_some() {
        return Ok(());
    }
    match (state, parameter.as_mut()) {
        (State::Parameter, Some((_, value))) => {
            value.push_str(text);
            Ok(())
        }
        _ if text.trim().is_empty() => Ok(()),
        _ => Err(SoapFault::new(soap, format!("unexpected text {} in the envelope", shorten(text.trim())))),
    }
}

fn shorten(text: impl std::fmt::Display) -> String {
    let text = text.to_string();
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(60).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAZ_SEARCH: &str = r#"<?xml version="1.0"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><zs:searchRetrieveRequest xmlns:zs="http://www.loc.gov/zing/srw/"><zs:version>1.2</zs:version><zs:query>dc.title=&#x56F3;&#x66F8;&#x9928;</zs:query><zs:maximumRecords>0</zs:maximumRecords></zs:searchRetrieveRequest></SOAP-ENV:Body></SOAP-ENV:Envelope>
"#;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn reads_what_yaz_client_sends() {
        let request = parse(YAZ_SEARCH.as_bytes()).unwrap();
        assert_eq!(request.soap, SoapVersion::V1_1);
        assert_eq!(
            request.pairs,
            pairs(&[
                ("operation", "searchRetrieve"),
                ("version", "1.2"),
                ("query", "dc.title=図書館"),
                ("maximumRecords", "0")
            ])
        );
    }

    #[test]
    fn reads_scan_and_explain_with_headers_and_entities() {
        let scan = r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Header><x:a xmlns:x="urn:x">1</x:a></e:Header>
            <e:Body><scanRequest xmlns="http://www.loc.gov/zing/srw/"><scanClause>dc.title=&quot;&#x6E90;&#x6C0F; &amp;&quot;</scanClause>
            <responsePosition>1</responsePosition><maximumTerms>5</maximumTerms><database>demo</database></scanRequest></e:Body></e:Envelope>"#;
        let request = parse(scan.as_bytes()).unwrap();
        assert_eq!(request.soap, SoapVersion::V1_2);
        assert_eq!(
            request.pairs,
            pairs(&[
                ("operation", "scan"),
                ("scanClause", "dc.title=\"源氏 &\""),
                ("responsePosition", "1"),
                ("maximumTerms", "5"),
                ("version", "1.1")
            ])
        );
        let explain = r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><zs:explainRequest xmlns:zs="http://www.loc.gov/zing/srw/"/></S:Body></S:Envelope>"#;
        assert_eq!(parse(explain.as_bytes()).unwrap().pairs, pairs(&[("operation", "explain"), ("version", "1.1")]));
    }

    #[test]
    fn refuses_what_is_not_an_sru_request_in_an_envelope() {
        let nested = "<a>".repeat(MAX_DEPTH + 1);
        let huge = format!("<x>{}</x>", "a".repeat(MAX_SOAP_BYTES));
        let cases: &[&[u8]] = &[
            b"",
            b"<",
            b"<?xml version=\"1.0\"?>",
            b"not xml",
            b"<Envelope/>",
            b"<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"/>",
            b"<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body/></S:Envelope>",
            b"<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body></S:Body></S:Envelope>",
            b"<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body><q:searchRetrieveRequest xmlns:q=\"urn:other\"/></S:Body></S:Envelope>",
            b"<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body><zs:deleteRequest xmlns:zs=\"http://www.loc.gov/zing/srw/\"/></S:Body></S:Envelope>",
            b"<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body><zs:searchRetrieveRequest xmlns:zs=\"http://www.loc.gov/zing/srw/\"><zs:query>&xxe;</zs:query></zs:searchRetrieveRequest></S:Body></S:Envelope>",
            b"<!DOCTYPE S [<!ENTITY a \"b\">]><S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"/>",
            b"<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body><zs:searchRetrieveRequest xmlns:zs=\"http://www.loc.gov/zing/srw/\"><zs:query>a</zs:query>",
            b"<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body><zs:searchRetrieveRequest xmlns:zs=\"http://www.loc.gov/zing/srw/\"><zs:query><b>a</b></zs:query></zs:searchRetrieveRequest></S:Body></S:Envelope>",
            b"<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body><u:x/></S:Body></S:Envelope>",
            b"\xff\xfe<\x00",
            nested.as_bytes(),
            huge.as_bytes(),
        ];
        for case in cases {
            let fault = parse(case).unwrap_err();
            let rendered = fault.render();
            assert!(rendered.contains("<faultstring>") || rendered.contains("SOAP-ENV:Reason"), "{rendered}");
        }
    }

    #[test]
    fn detects_soap_posts() {
        assert!(is_soap(Some("text/xml"), b""));
        assert!(is_soap(Some("application/soap+xml; charset=utf-8"), b""));
        assert!(is_soap(None, b"  <S:Envelope"));
        assert!(!is_soap(Some("application/x-www-form-urlencoded"), b"<"));
        assert!(!is_soap(None, b"version=1.2&operation=explain"));
    }

    #[test]
    fn envelopes_drop_the_inner_declaration() {
        let wrapped = envelope(SoapVersion::V1_1, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<zs:a/>");
        assert!(wrapped.contains("<SOAP-ENV:Body><zs:a/></SOAP-ENV:Body>"), "{wrapped}");
        assert_eq!(wrapped.matches("<?xml").count(), 1);
        let fault = SoapFault::new(SoapVersion::V1_1, "a < b").render();
        assert!(fault.contains("<faultstring>a &lt; b</faultstring>"), "{fault}");
    }
}
