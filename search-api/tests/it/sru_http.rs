//! SRU through the router: the route, records read from the catalogue, diagnostics with
//! HTTP 200, the unknown-library 404.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::support::{JAPAN_MARC, TestData};

async fn fetch(app: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].to_owned())
}

#[tokio::test]
async fn search_retrieve_pages_through_records_and_reports_diagnostics() {
    let data = TestData::new("sru-http");
    drop(data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]));
    let app = search_api::router(data.state());
    let query = "dc.title%3D%E5%9B%B3%E6%9B%B8%E9%A4%A8";

    let (status, xml) = fetch(
        &app,
        Request::get(format!("/tosho/sru?version=1.2&operation=searchRetrieve&query={query}&maximumRecords=2"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let total: usize = element(&xml, "zs:numberOfRecords")
        .or_else(|| element(&xml, "numberOfRecords"))
        .map_or_else(|| panic!("no numberOfRecords: {xml}"), |n| n.parse().unwrap());
    assert!(total > 2, "{total}");
    assert_eq!(xml.matches("tag=\"245\"").count(), 2, "two MARCXML records: {xml}");
    assert!(xml.contains("nextRecordPosition>3<"), "{xml}");

    // The same search as a form POST (yaz-client's `sru post`).
    let (status, posted) = fetch(
        &app,
        Request::post("/tosho/sru")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("version=1.2&operation=searchRetrieve&query={query}&maximumRecords=2")))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(posted, xml);

    // Bad CQL: a diagnostic, with HTTP 200 as SRU wants.
    let (status, xml) =
        fetch(&app, Request::get("/tosho/sru?query=dc.title%3D%28unbalanced").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains("info:srw/diagnostic/1/10"), "{xml}");

    let (status, xml) = fetch(&app, Request::get("/tosho/sru").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains("explainResponse"), "{xml}");

    let (status, _) = fetch(&app, Request::get("/nowhere/sru?query=a").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------------
// Over a real socket: SOAP (SRW, yaz-client's default binding), scan, and the same answers
// as GET (issue #19).

/// Serves `app` on a free loopback port; the server lives as long as the test's runtime.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    format!("http://{address}")
}

/// A SOAP 1.1 envelope around an SRW request, written as yaz-client writes it (every
/// non-ASCII character as a character reference).
fn envelope(operation: &str, children: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in children {
        let escaped: String = value
            .chars()
            .map(|c| match c {
                '<' => "&lt;".to_owned(),
                '&' => "&amp;".to_owned(),
                c if c.is_ascii() => c.to_string(),
                c => format!("&#x{:X};", u32::from(c)),
            })
            .collect();
        body.push_str(&format!("<zs:{name}>{escaped}</zs:{name}>"));
    }
    format!(
        "<?xml version=\"1.0\"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body>\
         <zs:{operation} xmlns:zs=\"http://www.loc.gov/zing/srw/\">{body}</zs:{operation}></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
    )
}

async fn get(client: &reqwest::Client, url: &str, params: &[(&str, &str)]) -> (u16, String, String) {
    let response = client.get(url).query(params).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn post_soap(client: &reqwest::Client, url: &str, body: String) -> (u16, String, String) {
    let response = client
        .post(url)
        .header("content-type", "text/xml")
        .header("soapaction", "\"\"")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

/// The SRU response inside a SOAP 1.1 envelope, without the envelope.
fn unwrap_soap(xml: &str) -> String {
    let start = xml.find("<SOAP-ENV:Body>").unwrap_or_else(|| panic!("no SOAP Body: {xml}")) + "<SOAP-ENV:Body>".len();
    let end = xml.rfind("</SOAP-ENV:Body>").unwrap_or_else(|| panic!("no SOAP Body end: {xml}"));
    assert!(xml.contains("xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\""), "{xml}");
    xml[start..end].to_owned()
}

/// A plain SRU response without its XML declaration, to compare with a SOAP body.
fn without_declaration(xml: &str) -> String {
    let xml = xml.trim();
    match xml.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(xml, |(_, body)| body).trim().to_owned(),
        None => xml.to_owned(),
    }
}

fn number_of_records(xml: &str) -> usize {
    element(xml, "zs:numberOfRecords").map_or_else(|| panic!("no numberOfRecords: {xml}"), |n| n.parse().unwrap())
}

/// (value, numberOfRecords, displayTerm, whereInList) of each scan term.
fn scan_terms(xml: &str) -> Vec<(String, u64, String, String)> {
    xml.split("<zs:term>")
        .skip(1)
        .map(|term| {
            let field = |name: &str| element(term, name).unwrap_or_else(|| panic!("no {name} in {term}"));
            (
                field("zs:value"),
                field("zs:numberOfRecords").parse().unwrap(),
                field("zs:displayTerm"),
                field("zs:whereInList"),
            )
        })
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"").replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

#[tokio::test]
async fn soap_requests_get_the_answers_of_get_over_a_real_socket() {
    let data = TestData::new("sru-soap");
    drop(data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]));
    let base = serve(search_api::router(data.state())).await;
    let url = format!("{base}/tosho/sru");
    let client = reqwest::Client::new();

    // searchRetrieve: hit counts and records as GET gives them, in SRW 1.2 inside SOAP 1.1.
    for query in ["dc.title=図書館", "図書館", "dc.creator=村上", "dc.title=本 sortBy dc.date/sort.descending"]
    {
        let params = [
            ("version", "1.2"),
            ("operation", "searchRetrieve"),
            ("query", query),
            ("maximumRecords", "3"),
            ("recordPacking", "xml"),
        ];
        let (status, _, plain) = get(&client, &url, &params).await;
        assert_eq!(status, 200);
        let children: Vec<(&str, &str)> = params.iter().skip(1).filter(|(n, _)| *n != "operation").copied().collect();
        let mut soap_children = vec![("version", "1.2")];
        soap_children.extend(children.into_iter().filter(|(n, _)| *n != "version"));
        let (status, content_type, soap) =
            post_soap(&client, &url, envelope("searchRetrieveRequest", &soap_children)).await;
        assert_eq!(status, 200, "{soap}");
        assert!(content_type.starts_with("text/xml"), "{content_type}");
        let inner = unwrap_soap(&soap);
        assert!(inner.contains("<zs:searchRetrieveResponse xmlns:zs=\"http://www.loc.gov/zing/srw/\""), "{inner}");
        assert_eq!(number_of_records(&inner), number_of_records(&plain), "{query}");
        assert_eq!(inner, without_declaration(&plain), "{query}: the SOAP body is the GET response");
        if query.starts_with("dc.title=図書館") {
            assert!(number_of_records(&inner) >= 3, "{inner}");
            assert_eq!(inner.matches("tag=\"245\"").count(), 3, "three MARCXML records: {inner}");
        }
    }

    // yaz-client's first request: the count only (maximumRecords 0), then `show 1`.
    let (_, _, count) = post_soap(
        &client,
        &url,
        envelope("searchRetrieveRequest", &[("version", "1.2"), ("query", "dc.title=図書館"), ("maximumRecords", "0")]),
    )
    .await;
    let hits = number_of_records(&unwrap_soap(&count));
    let (_, _, shown) = post_soap(
        &client,
        &url,
        envelope(
            "searchRetrieveRequest",
            &[
                ("version", "1.2"),
                ("query", "dc.title=図書館"),
                ("startRecord", "1"),
                ("maximumRecords", "1"),
                ("recordPacking", "xml"),
                ("recordSchema", "marcxml"),
            ],
        ),
    )
    .await;
    let shown = unwrap_soap(&shown);
    assert_eq!(number_of_records(&shown), hits);
    assert!(shown.contains("<zs:recordPacking>xml</zs:recordPacking>"), "{shown}");
    assert!(shown.contains("<record xmlns=\"http://www.loc.gov/MARC21/slim\""), "{shown}");

    // SRU 1.1 sortKeys over SOAP: the same order as CQL sortBy.
    let (_, _, sorted) = post_soap(
        &client,
        &url,
        envelope(
            "searchRetrieveRequest",
            &[("version", "1.1"), ("query", "dc.title=本"), ("sortKeys", "dc.date,,0"), ("maximumRecords", "5")],
        ),
    )
    .await;
    let (_, _, by_cql) = get(
        &client,
        &url,
        &[
            ("version", "1.1"),
            ("operation", "searchRetrieve"),
            ("query", "dc.title=本 sortBy dc.date/sort.descending"),
            ("maximumRecords", "5"),
        ],
    )
    .await;
    let records = |xml: &str| xml[xml.find("<zs:records>").unwrap()..xml.find("</zs:records>").unwrap()].to_owned();
    assert_eq!(records(&unwrap_soap(&sorted)), records(&by_cql));

    // explain, with scan marked on the title and name indexes.
    let (status, _, explain) = post_soap(&client, &url, envelope("explainRequest", &[("version", "1.2")])).await;
    assert_eq!(status, 200);
    let explain = unwrap_soap(&explain);
    assert!(explain.contains("<zs:explainResponse"), "{explain}");
    let (_, _, plain_explain) = get(&client, &url, &[("version", "1.2"), ("operation", "explain")]).await;
    assert_eq!(explain, without_declaration(&plain_explain));
    assert_eq!(explain.matches("scan=\"true\"").count(), 2, "dc.title and dc.creator: {explain}");

    // Diagnostics travel inside the envelope too.
    let (status, _, bad) =
        post_soap(&client, &url, envelope("searchRetrieveRequest", &[("version", "1.2"), ("query", "dc.title=(")]))
            .await;
    assert_eq!(status, 200);
    assert!(unwrap_soap(&bad).contains("info:srw/diagnostic/1/10"), "{bad}");
    let (_, _, two_keys) = post_soap(
        &client,
        &url,
        envelope("searchRetrieveRequest", &[("version", "1.1"), ("query", "猫"), ("sortKeys", "dc.date,,0 dc.title")]),
    )
    .await;
    assert!(unwrap_soap(&two_keys).contains("info:srw/diagnostic/1/84"), "{two_keys}");
    let (_, _, unknown) = post_soap(
        &client,
        &url,
        envelope("searchRetrieveRequest", &[("version", "1.2"), ("query", "猫"), ("bogus", "1")]),
    )
    .await;
    assert!(unwrap_soap(&unknown).contains("info:srw/diagnostic/1/8"), "{unknown}");

    // Malformed envelopes: a SOAP fault (or a diagnostic), never a 5xx.
    let malformed = [
        String::new(),
        "<".to_owned(),
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body>".to_owned(),
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY big \"aaaaaaaa\">]><x>&big;</x>".to_owned(),
        envelope("searchRetrieveRequest", &[("query", "猫")]).replace("zing/srw/", "elsewhere/"),
        envelope("deleteRequest", &[("version", "1.2")]),
        envelope("searchRetrieveRequest", &[("version", "1.2"), ("query", "cat")]).replace("cat", "&undefined;"),
        format!("<a>{}</a>", "<b>".repeat(100)),
        format!("<x>{}</x>", "猫".repeat(40_000)),
        "<html><body>not soap</body></html>".to_owned(),
    ];
    for body in malformed {
        let (status, _, answer) = post_soap(&client, &url, body.clone()).await;
        assert!(status < 500, "{status} for {body:.80}: {answer}");
        assert!(answer.contains("<faultstring>") || answer.contains("info:srw/diagnostic/1/"), "{body:.80}: {answer}");
    }
    let (status, _, binary) = {
        let response = client
            .post(&url)
            .header("content-type", "application/soap+xml")
            .body(vec![0xFF, 0xFE, 0x3C])
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), (), response.text().await.unwrap())
    };
    assert_eq!(status, 200);
    assert!(binary.contains("http://www.w3.org/2003/05/soap-envelope") || binary.contains("faultstring"), "{binary}");
}

#[tokio::test]
async fn scan_browses_titles_and_names_by_reading_over_get_and_soap() {
    let data = TestData::new("sru-scan");
    drop(data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]));
    let base = serve(search_api::router(data.state())).await;
    let url = format!("{base}/tosho/sru");
    let client = reqwest::Client::new();

    // Titles from 図書館, read as としょかん: the same list whichever way it is written, and
    // over SOAP as over GET.
    let scan = |clause: &'static str, position: &'static str, terms: &'static str| {
        [
            ("version", "1.2"),
            ("operation", "scan"),
            ("scanClause", clause),
            ("responsePosition", position),
            ("maximumTerms", terms),
        ]
    };
    let (status, _, by_kanji) = get(&client, &url, &scan("dc.title=図書館", "1", "10")).await;
    assert_eq!(status, 200);
    let (_, _, by_kana) = get(&client, &url, &scan("dc.title=としょかん", "1", "10")).await;
    let (_, _, by_katakana) = get(&client, &url, &scan("title=トショカン", "1", "10")).await;
    let terms = scan_terms(&by_kanji);
    assert_eq!(terms.len(), 10, "{by_kanji}");
    assert_eq!(scan_terms(&by_kana), terms);
    assert_eq!(scan_terms(&by_katakana), terms);
    let (_, content_type, soap) = post_soap(
        &client,
        &url,
        envelope(
            "scanRequest",
            &[("version", "1.2"), ("scanClause", "dc.title=図書館"), ("responsePosition", "1"), ("maximumTerms", "10")],
        ),
    )
    .await;
    assert!(content_type.starts_with("text/xml"));
    let soap = unwrap_soap(&soap);
    assert!(soap.starts_with("<zs:scanResponse xmlns:zs=\"http://www.loc.gov/zing/srw/\""), "{soap}");
    assert_eq!(soap, without_declaration(&by_kanji), "SOAP and GET scans agree");
    // YAZ indexes <term>s by every child node: no white space between them.
    assert!(!by_kanji.contains("</zs:term>\n") && !by_kanji.contains("</zs:term> "), "{by_kanji}");

    // Each term: records behind it, the real text of one of them, and an order by reading
    // from the start on.
    let index = TestIndex::open(&data);
    for (value, records, display, _) in &terms {
        assert!(*records > 0, "{value}");
        let display = unescape(display);
        assert!(index.titles.iter().any(|t| t.trim() == display), "{display} is not a title of the library");
        let key = index.index.scan_start(&unescape(value));
        assert!(key.as_str() >= "としょかん", "{value} ({key}) comes after 図書館");
    }
    let keys: Vec<String> = terms.iter().map(|(value, ..)| index.index.scan_start(&unescape(value))).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "in reading order: {keys:?}");
    // A term's value searches for its records: a title search for it finds at least as many.
    for (value, records, ..) in terms.iter().take(3) {
        let (_, _, found) = get(
            &client,
            &url,
            &[
                ("version", "1.2"),
                ("operation", "searchRetrieve"),
                ("query", &format!("dc.title=\"{}\"", unescape(value))),
                ("maximumRecords", "0"),
            ],
        )
        .await;
        assert!(number_of_records(&found) as u64 >= *records, "{value}: {found}");
    }

    // Paging on: from the last term, responsePosition 1 lists it first; 0 leaves it out.
    let last = unescape(&terms[9].0);
    let clause = format!("dc.title=\"{last}\"");
    let (_, _, next) = get(
        &client,
        &url,
        &[("version", "1.2"), ("operation", "scan"), ("scanClause", &clause), ("maximumTerms", "3")],
    )
    .await;
    let next = scan_terms(&next);
    assert_eq!(next[0].0, terms[9].0, "{next:?}");
    let (_, _, after) = get(
        &client,
        &url,
        &[
            ("version", "1.2"),
            ("operation", "scan"),
            ("scanClause", &clause),
            ("responsePosition", "0"),
            ("maximumTerms", "3"),
        ],
    )
    .await;
    assert_eq!(scan_terms(&after)[0].0, next[1].0);
    // And back: responsePosition maximumTerms + 1 lists the terms just before the start.
    let (_, _, before) = get(
        &client,
        &url,
        &[
            ("version", "1.2"),
            ("operation", "scan"),
            ("scanClause", &clause),
            ("responsePosition", "4"),
            ("maximumTerms", "3"),
        ],
    )
    .await;
    let before: Vec<String> = scan_terms(&before).into_iter().map(|t| t.0).collect();
    let expected: Vec<String> = terms[6..9].iter().map(|t| t.0.clone()).collect();
    assert_eq!(before, expected);

    // The whole index from the start: the first term is first in the list, an empty start
    // and responsePosition 1.
    let (_, _, start) = get(&client, &url, &scan("dc.title=\"\"", "1", "100")).await;
    let all = scan_terms(&start);
    assert_eq!(all[0].3, "first", "{start}");
    assert!(all.iter().skip(1).all(|t| t.3 == "inner" || t.3 == "last"));
    // At the end of the index: the last term says so.
    let (_, _, end) = get(&client, &url, &scan("dc.title=\"ん\"", "2", "2")).await;
    let end = scan_terms(&end);
    assert_eq!(end.last().map(|t| t.3.as_str()), Some("last"), "{end:?}");

    // Names, by reading: 佐藤 starts at さとう.
    let (_, _, names) = get(&client, &url, &scan("dc.creator=佐藤", "1", "5")).await;
    let names = scan_terms(&names);
    assert!(!names.is_empty());
    for (value, records, display, _) in &names {
        assert!(*records > 0);
        assert!(index.index.scan_start(&unescape(value)).as_str() >= "さとう", "{value} / {display}");
    }

    // SRU 2.0 scan (the OASIS scan namespace) and scan diagnostics in the scan form.
    let (_, _, two) = get(&client, &url, &[("scanClause", "dc.title=図書館"), ("maximumTerms", "10")]).await;
    assert!(two.contains("<zs:scanResponse xmlns:zs=\"http://docs.oasis-open.org/ns/search-ws/scan\""), "{two}");
    assert_eq!(scan_terms(&two), terms);
    let (_, _, refused) = get(&client, &url, &scan("dc.date=2000", "1", "10")).await;
    assert!(refused.contains("scanResponse") && refused.contains("info:srw/diagnostic/1/16"), "{refused}");
    let (_, _, soap_refused) = post_soap(
        &client,
        &url,
        envelope("scanRequest", &[("version", "1.2"), ("scanClause", "dc.title=猫"), ("maximumTerms", "0")]),
    )
    .await;
    assert!(unwrap_soap(&soap_refused).contains("info:srw/diagnostic/1/6"), "{soap_refused}");
}

/// The tenant's index opened beside the server, for what the scan should list.
struct TestIndex {
    index: indexer::Index,
    titles: Vec<String>,
}

impl TestIndex {
    fn open(data: &TestData) -> TestIndex {
        let analyzer = std::sync::Arc::new(tokenizer_dict::JapaneseAnalyzer::new().unwrap());
        let index = indexer::Index::open(&data.layout, &"tosho".parse().unwrap(), analyzer).unwrap();
        let titles = index.documents().unwrap().into_values().collect();
        TestIndex { index, titles }
    }
}
