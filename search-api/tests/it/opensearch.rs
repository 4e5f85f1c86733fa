//! OpenSearch through the router, without a socket: the description document and its
//! templates, Atom and RSS result pages parsed back with quick-xml and checked by libxml2
//! (`xmllint`, which scripts/test.sh installs: without it these tests fail), paging,
//! suggestions, the problem objects of bad requests, and escaping of hostile input.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use catalogue::{Field, Record, Subfield, Tag};
use http_body_util::BodyExt;
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::{JAPAN_MARC, TestData};

/// 図書館, percent-encoded.
const TOSHOKAN: &str = "%E5%9B%B3%E6%9B%B8%E9%A4%A8";
const HOST: &str = "opac.example.jp:8080";
const ORIGIN: &str = "http://opac.example.jp:8080";

const OPENSEARCH: &str = "http://a9.com/-/spec/opensearch/1.1/";
const ATOM: &str = "http://www.w3.org/2005/Atom";
const DC: &str = "http://purl.org/dc/elements/1.1/";
const DCNDL: &str = "http://ndl.go.jp/dcndl/terms/";

struct Answer {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// A JSON problem object with this status and code.
    fn assert_problem(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.content_type, "application/problem+json", "{}", self.body);
        let problem = self.json();
        assert_eq!(problem["code"], code, "{}", self.body);
        assert_eq!(problem["status"], status.as_u16());
        problem
    }

    /// A well-formed XML document of this media type (checked by xmllint too), parsed.
    fn assert_xml(&self, media_type: &str) -> El {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert_eq!(self.content_type, format!("{media_type}; charset=utf-8"));
        assert!(self.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{}", self.body);
        xmllint(&self.body);
        parse_xml(&self.body)
    }
}

async fn get_with(app: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, content_type, body: String::from_utf8(bytes.to_vec()).unwrap() }
}

/// A request as a browser sends it: with its `Host`.
async fn get(app: &axum::Router, uri: &str) -> Answer {
    get_with(app, uri, &[("host", HOST)]).await
}

/// The path and query of one of our absolute links, to request it.
fn local(url: &str) -> &str {
    url.strip_prefix(ORIGIN).unwrap_or_else(|| panic!("{url} does not start with {ORIGIN}"))
}

fn field(tag: &str, subfields: &[(char, &str)]) -> Field {
    Field::Data {
        tag: tag.parse::<Tag>().unwrap(),
        ind1: '1',
        ind2: '0',
        subfields: subfields.iter().map(|(code, value)| Subfield { code: *code, value: (*value).to_owned() }).collect(),
    }
}

/// A record written to attack the feeds it appears in, with a control character XML
/// cannot carry.
fn hostile_record() -> Record {
    Record {
        leader: "00000nam a2200000 i 4500".to_owned(),
        fields: vec![
            Field::Control { tag: "001".parse().unwrap(), value: "hostile-1".to_owned() },
            Field::Control { tag: "003".parse().unwrap(), value: "XX".to_owned() },
            Field::Control {
                tag: "008".parse().unwrap(),
                value: "200101s2020    ja            000 0 jpn d".to_owned(),
            },
            field("100", &[('a', "\"><img src=x onerror=alert(2)>")]),
            field("245", &[('a', "<script>alert(1)</script>\u{1}]]>")]),
            field("260", &[('a', "東京"), ('b', "<b>出版社</b> & co"), ('c', "2020")]),
        ],
    }
}

/// A library of the JAPAN/MARC fixture plus the hostile record.
fn data(name: &str) -> TestData {
    let data = TestData::new(name);
    let catalogue = data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]);
    catalogue.upsert(vec![hostile_record()], "hostile.mrc").unwrap();
    drop(catalogue);
    data
}

#[tokio::test]
async fn the_description_has_absolute_templates_the_opac_links_to() {
    let data = data("opensearch-description");
    let state = data.state();
    let app = search_api::router(state.clone());

    let answer = get(&app, "/tosho/opensearch.xml").await;
    let description = answer.assert_xml("application/opensearchdescription+xml");
    assert_eq!((description.ns.as_str(), description.name.as_str()), (OPENSEARCH, "OpenSearchDescription"));
    assert_eq!(description.text_of(OPENSEARCH, "ShortName"), "栞市立図書館");
    assert!(description.text_of(OPENSEARCH, "Description").contains("栞市立図書館の蔵書を検索"));
    assert!(description.text_of(OPENSEARCH, "Tags").contains("図書館"));
    assert!(description.all(OPENSEARCH, "Contact").is_empty());
    let languages: Vec<&str> = description.all(OPENSEARCH, "Language").iter().map(|l| l.text.as_str()).collect();
    assert_eq!(languages, ["ja", "en"]);
    assert_eq!(description.text_of(OPENSEARCH, "InputEncoding"), "UTF-8");
    assert_eq!(description.text_of(OPENSEARCH, "OutputEncoding"), "UTF-8");
    let template = |kind: &str| -> String {
        let url = description
            .all(OPENSEARCH, "Url")
            .into_iter()
            .find(|url| url.attribute("type") == Some(kind))
            .unwrap_or_else(|| panic!("no Url of type {kind}"));
        if kind != "application/x-suggestions+json" {
            assert_eq!((url.attribute("indexOffset"), url.attribute("pageOffset")), (Some("1"), Some("1")), "{kind}");
        }
        url.attribute("template").unwrap().to_owned()
    };
    assert_eq!(template("text/html"), format!("{ORIGIN}/tosho/?q={{searchTerms}}&page={{startPage?}}"));
    let atom = template("application/atom+xml");
    assert_eq!(
        atom,
        format!("{ORIGIN}/tosho/opensearch?q={{searchTerms}}&page={{startPage?}}&per_page={{count?}}&format=atom")
    );
    let rss = template("application/rss+xml");
    assert!(rss.ends_with("&format=rss"), "{rss}");
    let suggest = template("application/x-suggestions+json");
    assert_eq!(suggest, format!("{ORIGIN}/tosho/opensearch/suggest?q={{searchTerms}}"));

    // The templates work as a client fills them: optional parameters it does not use
    // left empty, or given.
    let filled = atom.replace("{searchTerms}", TOSHOKAN).replace("{startPage?}", "").replace("{count?}", "");
    let feed = get(&app, local(&filled)).await.assert_xml("application/atom+xml");
    assert!(feed.number(OPENSEARCH, "totalResults") > 0);
    assert_eq!(feed.number(OPENSEARCH, "itemsPerPage"), 20);
    let filled = rss.replace("{searchTerms}", TOSHOKAN).replace("{startPage?}", "2").replace("{count?}", "3");
    let channel = get(&app, local(&filled)).await.assert_xml("application/rss+xml");
    assert_eq!(channel.child("", "channel").number(OPENSEARCH, "startIndex"), 4);
    let filled = suggest.replace("{searchTerms}", "%E3%81%A8%E3%81%97%E3%82%87");
    assert_eq!(get(&app, local(&filled)).await.status, StatusCode::OK);

    // English texts on request; the templates are the same.
    let english = get(&app, "/tosho/opensearch.xml?lang=en").await.assert_xml("application/opensearchdescription+xml");
    assert!(english.text_of(OPENSEARCH, "Description").starts_with("Search the catalogue of 栞市立図書館"));

    // Every OPAC page of the library points browsers at the description.
    let page = get(&app, "/tosho/").await;
    assert!(
        page.body.contains(
            "<link rel=\"search\" type=\"application/opensearchdescription+xml\" href=\"&#x2f;tosho&#x2f;opensearch.xml\""
        ),
        "{}",
        page.body
    );

    // A configured public base URL wins over Host; a Host that is not a plain host[:port]
    // is never echoed, and links are then relative.
    let behind_proxy = search_api::router(state.clone().with_base_url(Some("https://opac.example.jp/shiori/".into())));
    let description =
        get(&behind_proxy, "/tosho/opensearch.xml").await.assert_xml("application/opensearchdescription+xml");
    assert!(
        description
            .all(OPENSEARCH, "Url")
            .iter()
            .all(|url| { url.attribute("template").unwrap().starts_with("https://opac.example.jp/shiori/tosho/") })
    );
    let spoofed = get_with(&app, "/tosho/opensearch.xml", &[("host", "evil.example/\"><x")]).await;
    spoofed.assert_xml("application/opensearchdescription+xml");
    assert!(!spoofed.body.contains("evil"), "{}", spoofed.body);
    assert!(spoofed.body.contains("template=\"/tosho/?q={searchTerms}"), "{}", spoofed.body);

    get(&app, "/nowhere/opensearch.xml").await.assert_problem(StatusCode::NOT_FOUND, "unknown_tenant");
}

#[tokio::test]
async fn atom_pages_carry_totals_entries_and_paging_links() {
    let data = data("opensearch-atom");
    let app = search_api::router(data.state());

    let feed =
        get(&app, &format!("/tosho/opensearch?q={TOSHOKAN}&per_page=5")).await.assert_xml("application/atom+xml");
    assert_eq!((feed.ns.as_str(), feed.name.as_str()), (ATOM, "feed"));
    let total = feed.number(OPENSEARCH, "totalResults");
    assert!(total > 5, "{total}");
    assert_eq!(feed.number(OPENSEARCH, "startIndex"), 1);
    assert_eq!(feed.number(OPENSEARCH, "itemsPerPage"), 5);
    let query = feed.child(OPENSEARCH, "Query");
    assert_eq!(query.attribute("role"), Some("request"));
    assert_eq!(query.attribute("searchTerms"), Some("図書館"));
    assert_eq!(query.attribute("startPage"), Some("1"));
    assert!(feed.text_of(ATOM, "title").contains("図書館"));
    assert!(feed.text_of(ATOM, "updated").ends_with("+09:00"));
    assert_eq!(feed.child(ATOM, "author").text_of(ATOM, "name"), "栞市立図書館");
    let link = |feed: &El, rel: &str| -> Option<String> {
        feed.all(ATOM, "link").into_iter().find(|l| l.attribute("rel") == Some(rel)).map(|l| {
            let href = l.attribute("href").unwrap().to_owned();
            assert!(href.starts_with(ORIGIN), "{href}");
            href
        })
    };
    assert_eq!(feed.text_of(ATOM, "id"), link(&feed, "self").unwrap());
    assert!(link(&feed, "first").is_some() && link(&feed, "last").is_some());
    assert_eq!(link(&feed, "previous"), None);
    assert_eq!(link(&feed, "alternate").unwrap(), format!("{ORIGIN}/tosho/?q={TOSHOKAN}&per_page=5"));
    assert_eq!(link(&feed, "search").unwrap(), format!("{ORIGIN}/tosho/opensearch.xml"));

    let entries = feed.all(ATOM, "entry");
    assert_eq!(entries.len(), 5);
    let mut first_page = Vec::new();
    for entry in &entries {
        let id = entry.text_of(ATOM, "id");
        let number = id.strip_prefix(&format!("{ORIGIN}/tosho/records/")).unwrap_or_else(|| panic!("{id}"));
        assert!(number.parse::<u64>().is_ok(), "{id}");
        let html = entry
            .all(ATOM, "link")
            .into_iter()
            .find(|l| l.attribute("type") == Some("text/html"))
            .map(|l| l.attribute("href").unwrap().to_owned());
        assert_eq!(html.as_deref(), Some(id));
        assert!(!entry.text_of(ATOM, "title").is_empty());
        assert!(entry.text_of(ATOM, "updated").ends_with("+09:00"), "{}", entry.text_of(ATOM, "updated"));
        assert!(entry.text_of(ATOM, "summary").contains("冊") || entry.text_of(ATOM, "summary").contains("所蔵なし"));
        assert_eq!(entry.text_of(DC, "title"), entry.text_of(ATOM, "title"));
        first_page.push(id.to_owned());
    }
    // JAPAN/MARC records carry readings (DC-NDL writes them in katakana), names and ISBNs.
    assert!(entries.iter().any(|e| !e.all(DCNDL, "titleTranscription").is_empty()));
    assert!(entries.iter().any(|e| !e.all(ATOM, "author").is_empty()));
    assert!(
        entries.iter().any(|e| e.all(DC, "identifier").iter().any(|i| i.attribute("xsi:type") == Some("dcndl:ISBN")))
    );

    // The entry's link is the OPAC's record page.
    let record = get(&app, local(&first_page[0])).await;
    assert_eq!(record.status, StatusCode::OK);
    assert!(record.content_type.starts_with("text/html"));

    // Next page: the following five, with a way back.
    let next = get(&app, local(&link(&feed, "next").unwrap())).await.assert_xml("application/atom+xml");
    assert_eq!(next.number(OPENSEARCH, "startIndex"), 6);
    assert_eq!(next.child(OPENSEARCH, "Query").attribute("startPage"), Some("2"));
    assert_eq!(link(&next, "previous"), link(&feed, "first"));
    for entry in next.all(ATOM, "entry") {
        assert!(!first_page.contains(&entry.text_of(ATOM, "id").to_owned()), "a hit on two pages");
    }
    // The last page has no next.
    let last = get(&app, local(&link(&feed, "last").unwrap())).await.assert_xml("application/atom+xml");
    assert_eq!(link(&last, "next"), None);
    assert_eq!(last.all(ATOM, "entry").len(), (total - 1) % 5 + 1);
}

#[tokio::test]
async fn rss_channels_carry_the_same_results_as_items() {
    let data = data("opensearch-rss");
    let app = search_api::router(data.state());

    let atom =
        get(&app, &format!("/tosho/opensearch?q={TOSHOKAN}&per_page=5")).await.assert_xml("application/atom+xml");
    let rss = get(&app, &format!("/tosho/opensearch?q={TOSHOKAN}&per_page=5&format=rss")).await;
    let rss = rss.assert_xml("application/rss+xml");
    assert_eq!((rss.name.as_str(), rss.attribute("version")), ("rss", Some("2.0")));
    let channel = rss.child("", "channel");
    assert!(channel.text_of("", "title").contains("図書館"));
    assert_eq!(channel.text_of("", "link"), format!("{ORIGIN}/tosho/?q={TOSHOKAN}&per_page=5"));
    assert!(channel.text_of("", "description").contains("件"));
    assert_eq!(channel.text_of("", "language"), "ja");
    assert_eq!(channel.number(OPENSEARCH, "totalResults"), atom.number(OPENSEARCH, "totalResults"));
    let next = channel.all(ATOM, "link").into_iter().find(|l| l.attribute("rel") == Some("next")).unwrap();
    assert_eq!(next.attribute("type"), Some("application/rss+xml"));
    assert!(next.attribute("href").unwrap().ends_with("&page=2&format=rss"));

    let items = channel.all("", "item");
    let entries = atom.all(ATOM, "entry");
    assert_eq!(items.len(), 5);
    for (item, entry) in items.iter().zip(&entries) {
        assert_eq!(item.text_of("", "link"), entry.text_of(ATOM, "id"));
        assert_eq!(item.text_of("", "guid"), entry.text_of(ATOM, "id"));
        assert_eq!(item.child("", "guid").attribute("isPermaLink"), Some("true"));
        assert_eq!(item.text_of("", "title"), entry.text_of(ATOM, "title"));
        assert_eq!(item.text_of(DC, "title"), entry.text_of(ATOM, "title"));
        assert!(item.text_of("", "pubDate").ends_with(" +0900"), "{}", item.text_of("", "pubDate"));
        assert_eq!(item.text_of("", "description"), entry.text_of(ATOM, "summary"));
    }

    // English on request.
    let english = get(&app, &format!("/tosho/opensearch?q={TOSHOKAN}&format=rss&lang=en")).await;
    let english = english.assert_xml("application/rss+xml");
    assert_eq!(english.child("", "channel").text_of("", "language"), "en");
    assert!(english.child("", "channel").text_of("", "description").contains("results for"));
}

#[tokio::test]
async fn suggestions_bad_requests_and_hostile_input() {
    let data = data("opensearch-bad");
    let app = search_api::router(data.state());

    // Suggestions: [query, [completions]].
    let answer = get(&app, "/tosho/opensearch/suggest?q=%E3%81%A8%E3%81%97%E3%82%87").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.content_type, "application/x-suggestions+json");
    let json = answer.json();
    assert_eq!(json[0], "としょ");
    let completions = json[1].as_array().unwrap();
    assert!(!completions.is_empty(), "{json}");
    assert!(completions.iter().all(Value::is_string));
    assert_eq!(get(&app, "/tosho/opensearch/suggest").await.json(), serde_json::json!(["", []]));
    let long = format!("/tosho/opensearch/suggest?q={}", "a".repeat(101));
    get(&app, &long).await.assert_problem(StatusCode::BAD_REQUEST, "query_too_long");

    // Bad parameters: the JSON API's problem objects, in the language asked for.
    for (query, code) in [
        ("q=x&page=0", "bad_parameter"),
        ("q=x&page=x", "bad_parameter"),
        ("q=x&per_page=101", "bad_parameter"),
        ("q=x&format=json", "bad_parameter"),
        ("q=x&sort=best", "bad_parameter"),
        ("q=x&page=100000", "bad_parameter"),
        ("q=", "empty_query"),
        ("page=2", "empty_query"),
    ] {
        let answer = get(&app, &format!("/tosho/opensearch?{query}")).await;
        answer.assert_problem(StatusCode::BAD_REQUEST, code);
    }
    let problem = get(&app, "/tosho/opensearch?q=x&page=0&lang=en")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "bad_parameter");
    assert_eq!(problem["detail"], "page must be a whole number from 1 to 100");
    get(&app, "/nowhere/opensearch?q=x").await.assert_problem(StatusCode::NOT_FOUND, "unknown_tenant");
    get(&app, "/nowhere/opensearch/suggest?q=x").await.assert_problem(StatusCode::NOT_FOUND, "unknown_tenant");

    // A hostile query comes back escaped, and so does a hostile record it finds: the
    // documents stay well-formed (xmllint) and say exactly what was typed and catalogued.
    let typed = "<script>alert(1)</script>";
    for format in ["atom", "rss"] {
        let answer =
            get(&app, &format!("/tosho/opensearch?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%01&format={format}")).await;
        let media_type = if format == "atom" { "application/atom+xml" } else { "application/rss+xml" };
        let document = answer.assert_xml(media_type);
        assert!(!answer.body.contains("<script") && !answer.body.contains("<img"), "{}", answer.body);
        assert!(answer.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", answer.body);
        let feed = if format == "atom" { document } else { document.child("", "channel").clone() };
        assert_eq!(feed.child(OPENSEARCH, "Query").attribute("searchTerms"), Some(typed));
        let titles: Vec<&str> = feed.all_named("title").iter().map(|t| t.text.as_str()).collect();
        assert!(titles.contains(&"<script>alert(1)</script>]]>"), "{titles:?}");
    }
}

// ---------------------------------------------------------------------------------------
// XML, parsed back

/// An element of a parsed document.
#[derive(Debug, Default, Clone)]
struct El {
    ns: String,
    name: String,
    /// Qualified names as written, values unescaped.
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<El>,
}

impl El {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Children in namespace `ns` named `name`.
    fn all(&self, ns: &str, name: &str) -> Vec<&El> {
        self.children.iter().filter(|c| c.ns == ns && c.name == name).collect()
    }

    /// The one child in `ns` named `name`.
    fn child(&self, ns: &str, name: &str) -> &El {
        match self.all(ns, name).as_slice() {
            [one] => one,
            other => panic!("{} {ns} {name} in {}: {self:#?}", other.len(), self.name),
        }
    }

    fn text_of(&self, ns: &str, name: &str) -> &str {
        self.child(ns, name).text.trim()
    }

    fn number(&self, ns: &str, name: &str) -> usize {
        let text = self.text_of(ns, name);
        text.parse().unwrap_or_else(|_| panic!("{name} is not a number: {text:?}"))
    }

    /// Every descendant named `name`, in any namespace.
    fn all_named(&self, name: &str) -> Vec<&El> {
        let mut out = Vec::new();
        for child in &self.children {
            if child.name == name {
                out.push(child);
            }
            out.extend(child.all_named(name));
        }
        out
    }
}

/// Parses a whole document; panics (failing the test) if it is not well-formed.
fn parse_xml(xml: &str) -> El {
    let mut reader = NsReader::from_str(xml);
    let mut stack: Vec<El> = vec![El::default()];
    let element = |reader: &NsReader<&[u8]>, start: &quick_xml::events::BytesStart<'_>| {
        let (ns, local) = reader.resolve_element(start.name());
        let ns = match ns {
            ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(prefix) => panic!("unknown prefix {:?} in {xml}", String::from_utf8_lossy(&prefix)),
        };
        let attributes = start
            .attributes()
            .map(|a| {
                let a = a.unwrap_or_else(|e| panic!("bad attribute {e} in {xml}"));
                let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                (key, a.unescape_value().unwrap().into_owned())
            })
            .collect();
        El { ns, name: String::from_utf8_lossy(local.as_ref()).into_owned(), attributes, ..El::default() }
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                let el = element(&reader, &start);
                stack.push(el);
            }
            Ok(Event::Empty(start)) => {
                let el = element(&reader, &start);
                stack.last_mut().unwrap().children.push(el);
            }
            Ok(Event::End(_)) => {
                let el = stack.pop().unwrap();
                stack.last_mut().expect("an end tag without a start").children.push(el);
            }
            Ok(Event::Text(text)) => stack.last_mut().unwrap().text.push_str(&text.xml_content().unwrap()),
            Ok(Event::CData(data)) => {
                stack.last_mut().unwrap().text.push_str(&String::from_utf8_lossy(&data.into_inner()))
            }
            Ok(Event::GeneralRef(reference)) => {
                let resolved = match reference.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => {
                        let name = String::from_utf8_lossy(&reference).into_owned();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .unwrap_or_else(|| panic!("unknown entity &{name}; in {xml}"))
                            .to_owned()
                    }
                };
                stack.last_mut().unwrap().text.push_str(&resolved);
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("malformed XML ({e}) at {}:\n{xml}", reader.error_position()),
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements in\n{xml}");
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "not one root element in\n{xml}");
    document.children.remove(0)
}

static NEXT_FILE: AtomicUsize = AtomicUsize::new(0);

/// libxml2's verdict on a document: it must be well-formed. xmllint is part of the test
/// suite (scripts/test.sh installs libxml2-utils), so a machine without it fails here.
fn xmllint(xml: &str) {
    let n = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("shiori-opensearch-{}-{n}.xml", std::process::id()));
    std::fs::write(&path, xml).unwrap();
    let output = Command::new("xmllint").arg("--noout").arg("--nonet").arg(&path).output();
    let _ = std::fs::remove_file(&path);
    let output = output.expect("xmllint (libxml2-utils, installed by scripts/test.sh)");
    assert!(output.status.success(), "xmllint: {}\n{xml}", String::from_utf8_lossy(&output.stderr));
}
