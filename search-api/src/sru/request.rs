//! An SRU request read from the URL's query string: which operation, which version, and
//! for searchRetrieve the translated query, paging, schema and packing.

use indexer::{MAX_LIMIT, MAX_OFFSET, MAX_SCAN_TERMS, QueryNode, ScanIndex, SearchRequest, Sort};

use super::cql::{self, parse_cql};
use super::diagnostic::{SruDiagnostic, code};

/// Records per response when the client does not say.
pub const SRU_DEFAULT_RECORDS: usize = 10;
/// The most records one response carries; a larger `maximumRecords` is lowered to this.
pub const SRU_MAX_RECORDS: usize = MAX_LIMIT;
/// Terms per scan response when the client does not say.
pub const SRU_DEFAULT_TERMS: usize = 20;
/// The most terms one scan response carries; a larger `maximumTerms` is lowered to this.
pub const SRU_MAX_TERMS: usize = MAX_SCAN_TERMS;

/// The parameters SRU 1.1, 1.2 and 2.0 define. Others are diagnostic 8, except the
/// `x-` extension parameters, which are ignored as the standard allows.
const KNOWN_PARAMETERS: &[&str] = &[
    "operation",
    "version",
    "query",
    "queryType",
    "startRecord",
    "maximumRecords",
    "recordPacking",
    "recordXMLEscaping",
    "recordSchema",
    "recordXPath",
    "resultSetTTL",
    "sortKeys",
    "stylesheet",
    "extraRequestData",
    "httpAccept",
    "responseType",
    "renderedBy",
    "scanClause",
    "responsePosition",
    "maximumTerms",
    "facetLimit",
    "facetStart",
    "facetSort",
    "facetRangeField",
    "facetLowValue",
    "facetHighValue",
    "facetCount",
];

/// A version of SRU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SruVersion {
    /// SRU 1.1: answered like 1.2 (same namespace and elements), with version 1.1.
    V1_1,
    /// SRU 1.2 (namespace `http://www.loc.gov/zing/srw/`).
    V1_2,
    /// SRU 2.0 (OASIS searchRetrieve, namespace
    /// `http://docs.oasis-open.org/ns/search-ws/sruResponse`), the default.
    V2_0,
}

impl SruVersion {
    /// The version as written in requests and responses.
    pub fn as_str(self) -> &'static str {
        match self {
            SruVersion::V1_1 => "1.1",
            SruVersion::V1_2 => "1.2",
            SruVersion::V2_0 => "2.0",
        }
    }

    /// Whether responses follow SRU 2.0.
    pub fn is_2(self) -> bool {
        self == SruVersion::V2_0
    }
}

/// A record schema this server returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordSchema {
    /// MARCXML (`marcxml`, `info:srw/schema/1/marcxml-v1.1`), the default.
    MarcXml,
    /// Dublin Core as OAI-PMH writes it, `oai_dc:dc` (`dc`, `info:srw/schema/1/dc-v1.1`).
    Dc,
}

impl RecordSchema {
    /// The schema's URI, as responses name it in `recordSchema`.
    pub fn uri(self) -> &'static str {
        match self {
            RecordSchema::MarcXml => "info:srw/schema/1/marcxml-v1.1",
            RecordSchema::Dc => "info:srw/schema/1/dc-v1.1",
        }
    }

    /// The schema's short name.
    pub fn name(self) -> &'static str {
        match self {
            RecordSchema::MarcXml => "marcxml",
            RecordSchema::Dc => "dc",
        }
    }

    /// Where the schema's XSD is.
    pub(crate) fn location(self) -> &'static str {
        match self {
            RecordSchema::MarcXml => "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
            RecordSchema::Dc => "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
        }
    }

    /// The schema a `recordSchema` value names (short names case-insensitively).
    fn parse(value: &str) -> Option<RecordSchema> {
        let lower = value.trim().to_ascii_lowercase();
        match lower.as_str() {
            "marcxml"
            | "marc21"
            | "marc21xml"
            | "marc"
            | "info:srw/schema/1/marcxml-v1.1"
            | "http://www.loc.gov/marc21/slim" => Some(RecordSchema::MarcXml),
            "dc"
            | "oai_dc"
            | "info:srw/schema/1/dc-v1.1"
            | "info:srw/schema/1/dc-schema"
            | "http://purl.org/dc/elements/1.1/"
            | "http://www.openarchives.org/oai/2.0/oai_dc/" => Some(RecordSchema::Dc),
            _ => None,
        }
    }
}

/// How a record sits in `recordData`: SRU 1.2's `recordPacking`, SRU 2.0's
/// `recordXMLEscaping`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordPacking {
    /// As XML elements (the default).
    Xml,
    /// As one escaped string.
    String,
}

impl RecordPacking {
    /// The value as written.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordPacking::Xml => "xml",
            RecordPacking::String => "string",
        }
    }
}

/// The language of `query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SruQueryType {
    /// CQL (the default).
    Cql,
    /// SRU 2.0's `searchTerms`: words as a person types them, read by the OPAC's query
    /// language (`indexer::parse_query`).
    SearchTerms,
}

/// An SRU request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SruRequest {
    /// `explain`: what this server offers.
    Explain(ExplainRequest),
    /// `searchRetrieve`: a search and a page of its records.
    SearchRetrieve(SearchRetrieveRequest),
    /// `scan`: the index terms around a starting point.
    Scan(ScanRequest),
}

/// The operation a request asked for, which decides the form of an error's response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SruOperation {
    /// `explain`.
    Explain,
    /// `searchRetrieve`, also the answer to a request whose operation is unknown.
    #[default]
    SearchRetrieve,
    /// `scan`.
    Scan,
}

/// A scan request: browse the terms of a title or name index from a starting term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRequest {
    /// The version to answer in.
    pub version: SruVersion,
    /// The scan clause as sent.
    pub scan_clause: String,
    /// The index browsed.
    pub index: ScanIndex,
    /// The start term as written (unescaped).
    pub term: String,
    /// Where the start term stands in the list: 1 (the default) first, 0 just before
    /// the list, `maximumTerms + 1` just after it.
    pub response_position: usize,
    /// How many terms at most, after lowering to [`SRU_MAX_TERMS`].
    pub maximum_terms: usize,
    /// `maximumTerms` as the client gave it, for `echoedScanRequest`.
    pub(crate) requested_terms: Option<usize>,
}

impl ScanRequest {
    /// How many terms come before the start term.
    pub fn before(&self) -> usize {
        self.response_position.saturating_sub(1).min(self.maximum_terms)
    }

    /// How many terms from the start term on.
    pub fn after(&self) -> usize {
        self.maximum_terms - self.before()
    }

    /// Whether a term equal to the start term is listed (not with responsePosition 0).
    pub fn includes_start(&self) -> bool {
        self.response_position > 0
    }
}

/// An explain request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainRequest {
    /// The version to answer in.
    pub version: SruVersion,
    /// How to pack the explain record.
    pub record_packing: RecordPacking,
}

/// A searchRetrieve request, its query already translated for the indexer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRetrieveRequest {
    /// The version to answer in.
    pub version: SruVersion,
    /// The query as sent.
    pub query: String,
    /// Its language.
    pub query_type: SruQueryType,
    /// The query for the indexer.
    pub node: QueryNode,
    /// The order: `sortby` in CQL, or SRU 1.x `sortKeys`; relevance otherwise.
    pub sort: Sort,
    /// The first record wanted, 1-based.
    pub start_record: usize,
    /// How many records at most, after lowering to [`SRU_MAX_RECORDS`].
    pub maximum_records: usize,
    /// The schema of the records.
    pub record_schema: RecordSchema,
    /// How records are packed.
    pub record_packing: RecordPacking,
    /// The parameters as the client gave them, for `echoedSearchRetrieveRequest`.
    pub(crate) echo: Echo,
}

/// What the response echoes of the request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Echo {
    pub(crate) maximum_records: Option<usize>,
    pub(crate) record_schema: Option<String>,
    pub(crate) query_type: Option<String>,
    pub(crate) record_packing_2: Option<String>,
}

/// A request that cannot be answered: the diagnostic, and the version to render it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SruError {
    /// The version of the response.
    pub version: SruVersion,
    /// The operation asked for: a scan's error is a scanResponse.
    pub operation: SruOperation,
    /// What is wrong.
    pub diagnostic: SruDiagnostic,
}

impl std::fmt::Display for SruError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.diagnostic.fmt(f)
    }
}

impl std::error::Error for SruError {}

/// The parameters, by name, each at most once.
struct Params<'a> {
    values: Vec<(&'a str, &'a str)>,
}

impl<'a> Params<'a> {
    /// The trimmed value, `None` when absent or blank (a blank optional parameter is
    /// taken as not given: HTML forms send empty fields).
    fn get(&self, name: &str) -> Option<&'a str> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
}

impl SruRequest {
    /// Reads a request from the URL's query-string pairs (already percent-decoded).
    ///
    /// - `version` absent means 2.0; 1.1, 1.2 and 2.0 are answered, anything else is
    ///   diagnostic 5 (details: 2.0, the highest version supported).
    /// - In 2.0, `operation` is implied: searchRetrieve when `query` is given, scan when
    ///   `scanClause` is, else explain. SRU 1.x requires `operation` (searchRetrieve,
    ///   scan or explain; others are 4) unless nothing but `version` is given, which is
    ///   explain.
    /// - scan needs `scanClause` (7): one clause of a title or name index; `maximumTerms`
    ///   is a positive integer (6), default 20, lowered to 100; `responsePosition` a
    ///   non-negative integer (6), default 1, at most `maximumTerms + 1` (120).
    /// - searchRetrieve needs `query` (7); `startRecord` is a positive integer (6) and at
    ///   most 10,001 (61); `maximumRecords` a non-negative integer (6), default 10,
    ///   lowered to 100; `recordSchema` marcxml or dc (66); `recordPacking` (1.x) and
    ///   `recordXMLEscaping` (2.0) xml or string (71); `queryType` cql or searchTerms (6);
    ///   `recordXPath` is 72; `stylesheet`, `resultSetTTL`, facets and `x-` parameters
    ///   are ignored; unknown parameters are 8 and repeated ones 6.
    pub fn from_query(pairs: &[(String, String)]) -> Result<SruRequest, SruError> {
        let version_value = pairs.iter().find(|(name, _)| name == "version").map(|(_, v)| v.trim());
        let version = match version_value {
            None | Some("") | Some("2.0") => SruVersion::V2_0,
            Some("1.1") => SruVersion::V1_1,
            Some("1.2") => SruVersion::V1_2,
            Some(other) => {
                let version = if other.starts_with("1.") { SruVersion::V1_2 } else { SruVersion::V2_0 };
                return Err(SruError {
                    version,
                    operation: operation_hint(pairs),
                    diagnostic: SruDiagnostic::new(
                        code::UNSUPPORTED_VERSION,
                        "2.0",
                        format!("version {} is not supported: use 1.1, 1.2 or 2.0", shorten(other)),
                    ),
                });
            }
        };
        let hint = operation_hint(pairs);
        let fail = |diagnostic: SruDiagnostic| SruError { version, operation: hint, diagnostic };
        let params = read_params(pairs).map_err(fail)?;
        let operation = match params.get("operation") {
            Some("searchRetrieve") => Operation::SearchRetrieve,
            Some("explain") => Operation::Explain,
            Some("scan") => Operation::Scan,
            Some(other) => {
                return Err(fail(SruDiagnostic::new(
                    code::UNSUPPORTED_OPERATION,
                    other,
                    format!("operation {} is not supported: use searchRetrieve, scan or explain", shorten(other)),
                )));
            }
            None if version.is_2() => {
                if params.get("query").is_some() {
                    Operation::SearchRetrieve
                } else if params.get("scanClause").is_some() {
                    Operation::Scan
                } else {
                    Operation::Explain
                }
            }
            None if params.values.iter().all(|(name, _)| *name == "version") => Operation::Explain,
            None => {
                return Err(fail(SruDiagnostic::new(
                    code::MANDATORY_PARAMETER,
                    "operation",
                    format!("SRU {} needs the operation parameter", version.as_str()),
                )));
            }
        };
        let record_packing = record_packing(version, &params).map_err(fail)?;
        match operation {
            Operation::Explain => Ok(SruRequest::Explain(ExplainRequest { version, record_packing })),
            Operation::SearchRetrieve => {
                search_retrieve(version, record_packing, &params).map(SruRequest::SearchRetrieve).map_err(fail)
            }
            Operation::Scan => scan(version, &params).map(SruRequest::Scan).map_err(fail),
        }
    }
}

enum Operation {
    Explain,
    SearchRetrieve,
    Scan,
}

/// The operation a request names or implies, read before anything is checked, so that
/// even a request refused for its version or parameters is answered in its own form.
fn operation_hint(pairs: &[(String, String)]) -> SruOperation {
    let value = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim());
    match value("operation") {
        Some("scan") => SruOperation::Scan,
        Some("explain") => SruOperation::Explain,
        Some(_) => SruOperation::SearchRetrieve,
        None if value("query").is_none() && value("scanClause").is_some_and(|v| !v.is_empty()) => SruOperation::Scan,
        None => SruOperation::SearchRetrieve,
    }
}

/// A scan: `scanClause` (7 when missing) is one search clause naming a title or name
/// index (see `cql::parse_scan_clause`); `maximumTerms` a positive integer (6), default
/// 20, lowered to 100; `responsePosition` a non-negative integer (6), default 1, at most
/// `maximumTerms + 1` (120).
fn scan(version: SruVersion, params: &Params<'_>) -> Result<ScanRequest, SruDiagnostic> {
    let Some(scan_clause) = params.get("scanClause") else {
        return Err(SruDiagnostic::new(code::MANDATORY_PARAMETER, "scanClause", "scan needs the scanClause parameter"));
    };
    let clause = cql::parse_scan_clause(scan_clause)?;
    let requested = positive(params, "maximumTerms", SRU_DEFAULT_TERMS, false)?;
    let maximum_terms = requested.min(SRU_MAX_TERMS);
    let response_position = positive(params, "responsePosition", 1, true)?;
    if response_position > maximum_terms + 1 {
        return Err(SruDiagnostic::new(
            code::RESPONSE_POSITION_OUT_OF_RANGE,
            response_position.to_string(),
            format!("responsePosition {response_position} is beyond maximumTerms + 1 ({})", maximum_terms + 1),
        ));
    }
    Ok(ScanRequest {
        version,
        scan_clause: scan_clause.to_owned(),
        index: clause.index,
        term: clause.term,
        response_position,
        maximum_terms,
        requested_terms: params.get("maximumTerms").map(|_| requested),
    })
}

fn shorten(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
}

fn read_params(pairs: &[(String, String)]) -> Result<Params<'_>, SruDiagnostic> {
    let mut values: Vec<(&str, &str)> = Vec::new();
    for (name, value) in pairs {
        if name.starts_with("x-") {
            continue;
        }
        if !KNOWN_PARAMETERS.contains(&name.as_str()) {
            return Err(SruDiagnostic::new(
                code::UNSUPPORTED_PARAMETER,
                shorten(name),
                format!("unsupported parameter {}", shorten(name)),
            ));
        }
        if values.iter().any(|(n, _)| n == name) {
            return Err(SruDiagnostic::new(
                code::UNSUPPORTED_PARAMETER_VALUE,
                name.as_str(),
                format!("parameter {name} is given more than once"),
            ));
        }
        values.push((name, value));
    }
    Ok(Params { values })
}

fn record_packing(version: SruVersion, params: &Params<'_>) -> Result<RecordPacking, SruDiagnostic> {
    let escaping = |value: &str, name: &str| match value {
        "xml" => Ok(RecordPacking::Xml),
        "string" => Ok(RecordPacking::String),
        other => Err(SruDiagnostic::new(
            code::UNSUPPORTED_PACKING,
            shorten(other),
            format!("{name} must be xml or string, not {}", shorten(other)),
        )),
    };
    let packing = params.get("recordPacking");
    if let Some(value) = params.get("recordXMLEscaping") {
        // In 2.0 recordPacking is about packed or unpacked records; only packed exist here.
        if version.is_2() && packing == Some("unpacked") {
            return Err(unpacked());
        }
        return escaping(value, "recordXMLEscaping");
    }
    match packing {
        None => Ok(RecordPacking::Xml),
        Some("packed") if version.is_2() => Ok(RecordPacking::Xml),
        Some("unpacked") if version.is_2() => Err(unpacked()),
        // SRU 1.x clients, and 2.0 clients that still use the 1.2 name.
        Some(value) => escaping(value, "recordPacking"),
    }
}

fn unpacked() -> SruDiagnostic {
    SruDiagnostic::new(
        code::UNSUPPORTED_PARAMETER_VALUE,
        "recordPacking",
        "recordPacking must be packed: records are not available unpacked",
    )
}

fn positive(params: &Params<'_>, name: &str, default: usize, allow_zero: bool) -> Result<usize, SruDiagnostic> {
    let Some(value) = params.get(name) else { return Ok(default) };
    match value.parse::<usize>() {
        Ok(n) if n > 0 || allow_zero => Ok(n),
        _ => Err(SruDiagnostic::new(
            code::UNSUPPORTED_PARAMETER_VALUE,
            name,
            format!(
                "{name} must be a {} integer, not {}",
                if allow_zero { "non-negative" } else { "positive" },
                shorten(value)
            ),
        )),
    }
}

fn search_retrieve(
    version: SruVersion,
    record_packing: RecordPacking,
    params: &Params<'_>,
) -> Result<SearchRetrieveRequest, SruDiagnostic> {
    let Some(query) = params.get("query") else {
        return Err(SruDiagnostic::new(code::MANDATORY_PARAMETER, "query", "searchRetrieve needs the query parameter"));
    };
    let query_type = match params.get("queryType") {
        None | Some("cql") => SruQueryType::Cql,
        Some("searchTerms") => SruQueryType::SearchTerms,
        Some(other) => {
            return Err(SruDiagnostic::new(
                code::UNSUPPORTED_PARAMETER_VALUE,
                "queryType",
                format!("queryType must be cql or searchTerms, not {}", shorten(other)),
            ));
        }
    };
    let start_record = positive(params, "startRecord", 1, false)?;
    if start_record - 1 > MAX_OFFSET {
        return Err(SruDiagnostic::new(
            code::FIRST_RECORD_OUT_OF_RANGE,
            "startRecord",
            format!("records beyond {} cannot be retrieved", MAX_OFFSET + 1),
        ));
    }
    let requested_maximum = positive(params, "maximumRecords", SRU_DEFAULT_RECORDS, true)?;
    let record_schema = match params.get("recordSchema") {
        None => RecordSchema::MarcXml,
        Some(value) => RecordSchema::parse(value).ok_or_else(|| {
            SruDiagnostic::new(
                code::UNKNOWN_SCHEMA,
                shorten(value),
                format!("unknown record schema {}: use marcxml or dc", shorten(value)),
            )
        })?,
    };
    if params.get("recordXPath").is_some() {
        return Err(SruDiagnostic::new(code::XPATH_UNSUPPORTED, "recordXPath", "recordXPath is not supported"));
    }
    let sort_keys = match params.get("sortKeys") {
        Some(value) => cql::sort_keys_parameter(value)?,
        None => None,
    };
    let (node, sort) = match query_type {
        SruQueryType::Cql => {
            let parsed = parse_cql(query)?;
            (parsed.node, parsed.sort)
        }
        SruQueryType::SearchTerms => (indexer::parse_query(query).map_err(|e| SruDiagnostic::query_error(&e))?, None),
    };
    Ok(SearchRetrieveRequest {
        version,
        query: query.to_owned(),
        query_type,
        node,
        sort: sort.or(sort_keys).unwrap_or_default(),
        start_record,
        maximum_records: requested_maximum.min(SRU_MAX_RECORDS),
        record_schema,
        record_packing,
        echo: Echo {
            maximum_records: Some(requested_maximum),
            record_schema: params.get("recordSchema").map(str::to_owned),
            query_type: params.get("queryType").map(str::to_owned),
            record_packing_2: params.get("recordPacking").filter(|_| version.is_2()).map(str::to_owned),
        },
    })
}

impl SearchRetrieveRequest {
    /// The indexer's request for this page: the translated query, its order, offset
    /// `startRecord - 1`, at most `maximumRecords` hits, no facets.
    pub fn search_request(&self) -> SearchRequest {
        let mut words = Vec::new();
        match self.query_type {
            SruQueryType::SearchTerms => words.push(self.query.clone()),
            SruQueryType::Cql => collect_words(&self.node, &mut words),
        }
        let mut request = SearchRequest::new(words.join(" "));
        request.sort = self.sort;
        request.offset = self.start_record - 1;
        request.limit = self.maximum_records;
        request.facets = false;
        request.parsed = Some(self.node.clone());
        request
    }
}

/// The words of a query, for the indexer's did-you-mean.
fn collect_words(node: &QueryNode, out: &mut Vec<String>) {
    match node {
        QueryNode::Term { text, .. }
        | QueryNode::Phrase { text, .. }
        | QueryNode::ExactTitle(text)
        | QueryNode::TitlePrefix(text) => out.push(text.clone()),
        QueryNode::And(nodes) | QueryNode::Or(nodes) => nodes.iter().for_each(|n| collect_words(n, out)),
        QueryNode::Not(_) | QueryNode::YearRange { .. } => {}
    }
}
