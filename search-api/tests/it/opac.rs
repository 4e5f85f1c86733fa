//! The OPAC pages through the router, without a socket: results with facets and paging,
//! the record page, English, escaping of hostile records and queries, error pages, the
//! security headers, holds and the embedded assets.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use catalogue::{Field, Record, Subfield, Tag};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::support::{JAPAN_MARC, TestData};

/// 図書館, percent-encoded.
const TOSHOKAN: &str = "%E5%9B%B3%E6%9B%B8%E9%A4%A8";

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// What a test looks at in a response.
struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Page {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// An HTML page with the security headers.
    fn assert_html(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.header(header::CONTENT_TYPE), "text/html; charset=utf-8");
        assert_eq!(self.header(header::CONTENT_SECURITY_POLICY), CSP);
        assert_eq!(self.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert!(self.body.starts_with("<!doctype html>"), "{}", &self.body[..self.body.len().min(200)]);
        // The one script is the external one; no inline script or style anywhere.
        assert_eq!(self.body.matches("<script").count(), 1, "{}", self.body);
        assert!(self.body.contains("<script src=\"&#x2f;static&#x2f;opac.js?v="));
        assert!(!self.body.contains("<style") && !self.body.contains(" style=") && !self.body.contains(" onclick="));
    }
}

async fn send(app: &axum::Router, request: Request<Body>) -> Page {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
}

async fn get(app: &axum::Router, uri: &str) -> Page {
    get_with(app, uri, &[]).await
}

async fn get_with(app: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> Page {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

/// `/` as the templates escape it in attributes.
fn escaped(url: &str) -> String {
    url.replace('&', "&amp;").replace('/', "&#x2f;")
}

fn field(tag: &str, subfields: &[(char, &str)]) -> Field {
    Field::Data {
        tag: tag.parse::<Tag>().unwrap(),
        ind1: '1',
        ind2: '0',
        subfields: subfields.iter().map(|(code, value)| Subfield { code: *code, value: (*value).to_owned() }).collect(),
    }
}

/// A record written to attack the page it is shown on.
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
            field("245", &[('a', "<script>alert(1)</script>")]),
            field("260", &[('a', "東京"), ('b', "<b>出版社</b>"), ('c', "2020")]),
        ],
    }
}

/// A library of the JAPAN/MARC fixture plus the hostile record.
fn app(data: &TestData) -> axum::Router {
    let catalogue = data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]);
    catalogue.upsert(vec![hostile_record()], "hostile.mrc").unwrap();
    drop(catalogue);
    search_api::router(data.state())
}

/// The bib id of the first hit of a JSON search.
async fn first_id(app: &axum::Router, query: &str) -> u64 {
    let page = get(app, &format!("/api/v1/tosho/search?q={query}")).await;
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    json["hits"][0]["id"].as_u64().unwrap_or_else(|| panic!("no hit for {query}: {}", page.body))
}

#[tokio::test]
async fn results_have_hits_facets_sorts_and_paging() {
    let data = TestData::new("opac-results");
    let app = app(&data);

    let landing = get(&app, "/tosho/").await;
    landing.assert_html(StatusCode::OK);
    assert!(landing.body.contains("<html lang=\"ja\">"));
    assert!(landing.body.contains("<label class=\"search__label\" for=\"q\">蔵書検索</label>"));
    assert!(landing.body.contains("<main id=\"main\"") && landing.body.contains("<footer"));
    assert!(landing.body.contains("Library of Congress"), "data credit in the footer");

    let page = get(&app, &format!("/tosho/?q={TOSHOKAN}&per_page=5")).await;
    page.assert_html(StatusCode::OK);
    let hits = page.body.matches("<li class=\"hit\">").count();
    assert_eq!(hits, 5, "{}", page.body);
    assert!(page.body.contains("「図書館」の検索結果"));
    assert!(page.body.contains("件中 1–5 件目"));
    // Titles with readings as ruby, matched words highlighted.
    assert!(page.body.contains("<ruby>"), "no ruby");
    assert!(page.body.contains("<rt>"), "no reading");
    assert!(page.body.contains("<mark>図書館</mark>"), "no highlight");
    // Facets with NDC's Japanese labels, as links adding a filter.
    assert!(page.body.contains("分類 (NDC)"));
    assert!(page.body.contains("0 総記"), "{}", page.body);
    assert!(page.body.contains(&escaped("filter=ndc%3A0")));
    assert!(page.body.contains("出版年代") && page.body.contains("年代</a>"));
    assert!(page.body.contains("<option value=\"exact\">完全一致（書名）</option>"));
    // Sorts and paging.
    for sort in ["適合度順", "新しい順", "古い順", "五十音順"] {
        assert!(page.body.contains(sort), "{sort}");
    }
    assert!(page.body.contains(&escaped("sort=title")));
    assert!(
        page.body.contains(&format!(
            "href=\"{}\" rel=\"next\"",
            escaped(&format!("/tosho/?q={TOSHOKAN}&per_page=5&page=2"))
        ))
    );
    assert!(page.body.contains("aria-current=\"page\""));

    // Page 2 with a filter chip that can be removed.
    let filtered = get(&app, &format!("/tosho/?q={TOSHOKAN}&filter=ndc:0&per_page=5&page=2")).await;
    filtered.assert_html(StatusCode::OK);
    assert!(filtered.body.contains("rel=\"prev\""));
    assert!(filtered.body.contains("分類 (NDC): 0 総記"));
    assert!(
        filtered
            .body
            .contains(&format!("class=\"chip\" href=\"{}\"", escaped(&format!("/tosho/?q={TOSHOKAN}&per_page=5"))))
    );

    // Nothing found: said so, with a 200.
    let none = get(&app, "/tosho/?q=zzzqqqxxyy").await;
    none.assert_html(StatusCode::OK);
    assert!(none.body.contains("「zzzqqqxxyy」に一致する資料は見つかりませんでした。"));

    // A near miss offers the title it probably meant, as a search link.
    let typo = "%E3%83%88%E3%83%9D%E3%82%B9%E3%81%A8%E3%81%97%E3%81%A6%E3%81%AE%E5%9B%B3%E6%9B%B8%E9%A4%A8%E3%83%BB%E8%AA%AD%E6%9B%B8%E7%A9%BA%E9%96%93%E3%82%92%E8%80%83%E3%81%88%E3%81%86";
    let near = get(&app, &format!("/tosho/?q={typo}")).await;
    near.assert_html(StatusCode::OK);
    assert!(near.body.contains("もしかして:"), "{}", near.body);
    assert!(near.body.contains(">トポスとしての図書館・読書空間を考える</a>"));
    // No title has every character of it: the near matches are shown, and said to be near.
    assert!(near.body.contains("をすべて含む資料はありませんでした。近い資料を表示しています。"), "{}", near.body);

    // Exact-title mode is a form option that reaches the search.
    let exact = get(&app, &format!("/tosho/?q={TOSHOKAN}&mode=exact")).await;
    exact.assert_html(StatusCode::OK);
    assert!(exact.body.contains("<option value=\"exact\" selected>"));
}

/// Issue #4: the OPAC's 所蔵館 and 貸出可能 facet groups and their filter chips.
#[tokio::test]
async fn results_facet_by_holding_branch_and_availability() {
    let data = TestData::new("opac-branches");
    let catalogue = data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]);
    crate::support::copies_at_two_branches(&catalogue);
    drop(catalogue);
    let app = search_api::router(data.state());
    // これからの本の話をしよう
    let q =
        "%E3%81%93%E3%82%8C%E3%81%8B%E3%82%89%E3%81%AE%E6%9C%AC%E3%81%AE%E8%A9%B1%E3%82%92%E3%81%97%E3%82%88%E3%81%86";

    let page = get(&app, &format!("/tosho/?q={q}&mode=exact")).await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("<h3 id=\"facet-branch\">所蔵館</h3>"), "{}", page.body);
    assert!(page.body.contains("<h3 id=\"facet-available\">貸出可能</h3>"));
    assert!(page.body.contains(">中央図書館</a>") && page.body.contains(">北分館</a>"));
    assert!(page.body.contains(">すべての館</a>"));
    assert!(
        page.body.contains(&escaped("filter=available%3A%2A")) || page.body.contains(&escaped("filter=available%3A*"))
    );
    assert!(page.body.contains(&escaped("filter=branch%3Akita")));

    // Chosen: a chip with the branch's name; kita has no copy in.
    let chosen = get(&app, &format!("/tosho/?q={q}&mode=exact&filter=branch:kita")).await;
    chosen.assert_html(StatusCode::OK);
    assert!(chosen.body.contains("所蔵館: 北分館"), "{}", chosen.body);
    let none = get(&app, &format!("/tosho/?q={q}&mode=exact&filter=available:kita")).await;
    none.assert_html(StatusCode::OK);
    assert!(none.body.contains("に一致する資料は見つかりませんでした"));
    let anywhere = get(&app, &format!("/tosho/?q={q}&mode=exact&filter=available:*")).await;
    assert!(anywhere.body.contains("貸出可能: すべての館"), "{}", anywhere.body);

    // In English.
    let english = get(&app, &format!("/tosho/?q={q}&mode=exact&filter=available:chuo&lang=en")).await;
    english.assert_html(StatusCode::OK);
    assert!(english.body.contains(">Held at</h3>") && english.body.contains(">Available now</h3>"));
    assert!(english.body.contains("Available now: Central Library"), "{}", english.body);

    // A code no branch could have: the error page, 400.
    let bad = get(&app, &format!("/tosho/?q={q}&filter=branch:Chuo")).await;
    bad.assert_html(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn record_page_shows_every_field_holdings_marc_and_a_hold_button() {
    let data = TestData::new("opac-record");
    let app = app(&data);
    let id = first_id(&app, TOSHOKAN).await;
    let page = get(&app, &format!("/tosho/records/{id}")).await;
    page.assert_html(StatusCode::OK);
    let body = &page.body;
    let h1 =
        body.split("<h1 id=\"record-title\" class=\"record__title\">").nth(1).and_then(|h| h.split("</h1>").next());
    let h1 = h1.unwrap_or_else(|| panic!("no title heading: {body}"));
    // Ruby over the kanji of the title, from the catalogued reading (issue #16).
    assert!(h1.contains("<ruby>") && h1.contains("<rt>"), "{h1}");
    for label in [
        "タイトルのよみ",
        "著者",
        "出版",
        "出版年",
        "形態",
        "ISBN",
        "NDC 分類",
        "言語",
        "資料種別",
        "書誌番号 (001)",
        "最終更新",
    ] {
        assert!(body.contains(&format!("<dt>{label}</dt>")), "no {label}");
    }
    assert!(body.contains(" JST"), "dates in JST");
    assert!(body.contains("所蔵・貸出状況") && body.contains("id=\"availability\""));
    assert!(body.contains("<summary>MARC 表示</summary>"));
    assert!(body.contains("<th scope=\"row\">245</th>"));
    assert!(body.contains(&escaped(&format!("/api/v1/tosho/records/{id}.marcxml"))));
    assert!(body.contains(&escaped(&format!("/api/v1/tosho/records/{id}.mrc"))));
    assert!(body.contains(&format!("rel=\"bookmark\">{}</a>", escaped(&format!("/tosho/records/{id}")))));
    assert!(body.contains(&format!(
        "<form class=\"hold\" method=\"post\" action=\"{}\">",
        escaped(&format!("/tosho/records/{id}/hold"))
    )));
    assert!(body.contains("予約する"));

    // Placing a hold needs a patron login (issue 7): the button leads to it, nothing placed.
    let hold = send(&app, Request::post(format!("/tosho/records/{id}/hold")).body(Body::empty()).unwrap()).await;
    assert_eq!(hold.status, StatusCode::SEE_OTHER);
    assert_eq!(hold.header(header::LOCATION), format!("/tosho/my/login?bib={id}"));
    let missing = send(&app, Request::post("/tosho/records/99999999/hold").body(Body::empty()).unwrap()).await;
    missing.assert_html(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn english_on_request_and_remembered() {
    let data = TestData::new("opac-english");
    let app = app(&data);
    let page = get(&app, &format!("/tosho/?q={TOSHOKAN}&lang=en")).await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("<html lang=\"en\">"));
    assert!(page.body.contains("Results for “図書館”"));
    assert!(page.body.contains("Refine") && page.body.contains("Class (NDC)") && page.body.contains("0 General works"));
    assert!(page.body.contains("Title (kana order)"));
    assert!(page.body.contains("lang=\"ja\" hreflang=\"ja\">日本語</a>"), "a switch back to Japanese");
    let cookie = page.header(header::SET_COOKIE);
    assert!(
        cookie.starts_with("shiori_lang=en;") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );

    let remembered = get_with(&app, "/tosho/", &[("cookie", "shiori_lang=en")]).await;
    assert!(remembered.body.contains("<html lang=\"en\">"));
    assert!(remembered.headers.get(header::SET_COOKIE).is_none());
    let asked = get_with(&app, "/tosho/", &[("accept-language", "en-GB,en;q=0.9")]).await;
    assert!(asked.body.contains("<html lang=\"en\">"));
    let japanese = get(&app, "/tosho/").await;
    assert!(japanese.body.contains("<html lang=\"ja\">"));
    assert!(japanese.body.contains("lang=\"en\" hreflang=\"en\">English</a>"));

    let id = first_id(&app, TOSHOKAN).await;
    let record = get(&app, &format!("/tosho/records/{id}?lang=en")).await;
    record.assert_html(StatusCode::OK);
    for label in ["Title reading", "Publication", "Physical description", "Availability", "MARC view", "Place a hold"] {
        assert!(record.body.contains(label), "no {label}");
    }
}

#[tokio::test]
async fn record_text_and_queries_are_escaped() {
    let data = TestData::new("opac-escaping");
    let app = app(&data);
    let found = get(&app, "/tosho/?q=alert").await;
    found.assert_html(StatusCode::OK);
    assert!(found.body.contains("&lt;script&gt;<mark>alert</mark>(1)&lt;&#x2f;script&gt;"), "{}", found.body);
    assert!(!found.body.contains("<script>alert"));
    assert!(!found.body.contains("<img"));

    let id = first_id(&app, "alert").await;
    let record = get(&app, &format!("/tosho/records/{id}")).await;
    record.assert_html(StatusCode::OK);
    assert!(record.body.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    assert!(!record.body.contains("<script>alert") && !record.body.contains("<img") && !record.body.contains("<b>"));
    assert!(record.body.contains("&lt;b&gt;出版社&lt;&#x2f;b&gt;"));

    // A query that tries to close the attribute it is echoed in.
    let query = "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E";
    for uri in
        [format!("/tosho/?q={query}"), format!("/tosho/?q={query}&lang=en"), format!("/tosho/?q={query}&sort=bad")]
    {
        let page = get(&app, &uri).await;
        assert!(!page.body.contains("<img"), "{uri}: {}", page.body);
        assert!(page.body.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), "{uri}: {}", page.body);
    }
}

#[tokio::test]
async fn mistakes_are_html_pages_with_the_right_status() {
    let data = TestData::new("opac-errors");
    let app = app(&data);
    for (uri, status) in [
        ("/nowhere/", StatusCode::NOT_FOUND),
        ("/No.Such/", StatusCode::NOT_FOUND),
        ("/%FF/", StatusCode::NOT_FOUND),
        ("/tosho/records/99999999", StatusCode::NOT_FOUND),
        ("/tosho/records/abc", StatusCode::NOT_FOUND),
        ("/nowhere/records/1", StatusCode::NOT_FOUND),
        ("/tosho/?q=a&page=0", StatusCode::BAD_REQUEST),
        ("/tosho/?q=a&sort=best", StatusCode::BAD_REQUEST),
        ("/tosho/?q=a&filter=colour:red", StatusCode::BAD_REQUEST),
        ("/tosho/?q=a&filter=year:1990-20000", StatusCode::BAD_REQUEST),
        ("/tosho/?q=-%E7%8C%AB", StatusCode::BAD_REQUEST),
        ("/tosho/?q=year:abcd", StatusCode::BAD_REQUEST),
        ("/tosho/?q=a&page=100000", StatusCode::BAD_REQUEST),
    ] {
        let page = get(&app, uri).await;
        page.assert_html(status);
        let heading = if status == StatusCode::NOT_FOUND {
            "ページが見つかりません"
        } else {
            "検索条件を確認してください"
        };
        assert!(page.body.contains(heading), "{uri}: {}", page.body);
    }
    // A 400 keeps the library's search form and says what was wrong.
    let bad = get(&app, "/tosho/?q=a&sort=best").await;
    assert!(bad.body.contains("sort の値「best」は使えません"));
    assert!(bad.body.contains("id=\"q\""));
    let english = get(&app, "/tosho/records/99999999?lang=en").await;
    assert!(english.body.contains("Page not found") && english.body.contains("there is no record 99999999"));
}

#[tokio::test]
async fn libraries_redirects_and_assets() {
    let data = TestData::new("opac-home");
    let app = app(&data);
    let home = get(&app, "/").await;
    home.assert_html(StatusCode::OK);
    assert!(home.body.contains(&format!("<a href=\"{}\">栞市立図書館</a>", escaped("/tosho/"))));

    let bare = get(&app, "/tosho?q=x").await;
    assert_eq!(bare.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.header(header::LOCATION), "/tosho/?q=x");

    let css = get(&app, "/static/opac.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header(header::CONTENT_TYPE), "text/css; charset=utf-8");
    assert!(css.header(header::CACHE_CONTROL).contains("immutable"));
    let etag = css.header(header::ETAG).to_owned();
    let again = get_with(&app, "/static/opac.css", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let js = get(&app, "/static/opac.js").await;
    assert_eq!(js.header(header::CONTENT_TYPE), "text/javascript; charset=utf-8");
    assert!(js.body.contains("combobox"));
    assert_eq!(get(&app, "/static/nope.js").await.status, StatusCode::NOT_FOUND);
}

/// Issue #16 (HTML errors): a browser that follows a wrong link gets the OPAC's error page,
/// in its language and with the library's search form; the API and clients that do not ask
/// for HTML still get the problem object.
#[tokio::test]
async fn a_url_no_route_serves_is_a_page_for_browsers_and_a_problem_for_the_api() {
    let data = TestData::new("opac-not-found");
    let app = app(&data);
    let browser = [("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")];
    for uri in ["/tosho/my/account", "/tosho/nonexistent", "/no-such-library/x"] {
        let page = get_with(&app, uri, &browser).await;
        page.assert_html(StatusCode::NOT_FOUND);
        assert!(page.body.contains("ページが見つかりません"), "{uri}: {}", page.body);
    }
    let page = get_with(&app, "/tosho/nonexistent?lang=en", &browser).await;
    page.assert_html(StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page not found"), "{}", page.body);
    assert!(page.body.contains("栞市立図書館"), "the library's frame: {}", page.body);

    for (uri, headers) in [("/api/v1/tosho/nonexistent", &browser[..]), ("/tosho/nonexistent", &[][..])] {
        let page = get_with(&app, uri, headers).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert_eq!(page.header(header::CONTENT_TYPE), "application/problem+json", "{uri}");
        let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
        assert_eq!(json["code"], "not_found");
    }
}

/// Issue #16: pages, JSON and assets are compressed for clients that accept it, and only
/// for them.
#[tokio::test]
async fn answers_are_compressed_when_the_client_accepts_it() {
    let data = TestData::new("opac-compression");
    let app = app(&data);
    let page = get(&app, "/tosho/").await;
    let script = page.body.split("<script src=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_owned();
    let script = script.replace("&#x2f;", "/");
    for uri in ["/tosho/?q=%E6%9C%AC", "/api/v1/tosho/search?q=%E6%9C%AC", script.as_str()] {
        for (accept, expected) in [("br", "br"), ("gzip", "gzip"), ("identity", "")] {
            let request = Request::get(uri).header(header::ACCEPT_ENCODING, accept).body(Body::empty()).unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{uri}");
            let encoding = response.headers().get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
            assert_eq!(encoding.unwrap_or(""), expected, "{uri} with {accept}");
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert!(body.len() > 20, "{uri}: a body");
        }
    }
}

/// Every byte of `text` outside unreserved ASCII percent-encoded, for a query string.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn record_pages_link_back_to_their_results_and_on_to_the_other_volumes() {
    let data = TestData::new("opac-volumes");
    let catalogue = data.tenant("tosho", "栞市立図書館", &[JAPAN_MARC]);
    let volume = |control: &str, number: &str| Record {
        leader: "00000nam a2200000 i 4500".to_owned(),
        fields: vec![
            Field::Control { tag: "001".parse().unwrap(), value: control.to_owned() },
            Field::Control { tag: "003".parse().unwrap(), value: "SHIORI-TEST".to_owned() },
            field("100", &[('a', "永井, 荷風")]),
            field("245", &[('a', "断腸亭日乗"), ('n', number)]),
        ],
    };
    catalogue.upsert(vec![volume("v10", "第10巻"), volume("v2", "第2巻"), volume("v1", "第1巻")], "facts").unwrap();
    drop(catalogue);
    let app = search_api::router(data.state());

    // The volume typed after the title comes first.
    let second = first_id(&app, &percent("断腸亭日乗 2")).await;
    let tenth = first_id(&app, &percent("断腸亭日乗 10")).await;
    assert_ne!(second, tenth);

    // Reached from a results page of this site: 検索結果に戻る leads back to it.
    let results = format!("/tosho/?q={}", percent("断腸亭日乗"));
    let referer = format!("http://localhost{results}");
    let uri = format!("/tosho/records/{second}");
    let page = get_with(&app, &uri, &[("host", "localhost"), ("referer", &referer)]).await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains(&format!("<a href=\"{}\">検索結果に戻る</a>", escaped(&results))), "{}", page.body);
    // The other volumes, in the order of their numbers, without this one.
    let list = page.body.split("この資料の他の巻").nth(1).unwrap_or_else(|| panic!("no volumes: {}", page.body));
    let first_volume = list.find("第1巻").expect("volume 1 listed");
    let tenth_volume = list.find("第10巻").expect("volume 10 listed");
    assert!(first_volume < tenth_volume, "{list}");
    assert!(!list.split("</section>").next().unwrap_or_default().contains("第2巻"), "{list}");
    assert!(list.contains(&escaped(&format!("/tosho/records/{tenth}"))), "{list}");

    // No way back to another site, to a page that is not a search, or without a referer.
    for referer in [
        format!("https://evil.example{results}"),
        "http://localhost/tosho/records/1".to_owned(),
        "http://localhost/tosho/?q=%22%3E%3Cscript%3E".replace("%22%3E%3Cscript%3E", "\"><script>"),
    ] {
        let page = get_with(&app, &uri, &[("host", "localhost"), ("referer", &referer)]).await;
        assert!(!page.body.contains("検索結果に戻る"), "{referer}: {}", page.body);
    }
    assert!(!get(&app, &uri).await.body.contains("検索結果に戻る"));
    // A record that is not a numbered volume lists none.
    let other = first_id(&app, &percent("これからの本の話をしよう")).await;
    assert!(!get(&app, &format!("/tosho/records/{other}")).await.body.contains("この資料の他の巻"));
}

#[tokio::test]
async fn near_matches_say_so_and_name_the_words_no_record_has() {
    let data = TestData::new("opac-near");
    let app = app(&data);
    let page = get(&app, &format!("/tosho/?q={}", percent("でんししょせぎ zzzz"))).await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("読みや綴りの近い資料"), "{}", page.body);
    assert!(page.body.contains("一致する資料がない語: 「zzzz」"), "{}", page.body);
    assert!(page.body.contains("class=\"hit"), "{}", page.body);
    // Typed right, the same search says nothing of near matches.
    let exact = get(&app, &format!("/tosho/?q={}", percent("でんししょせき"))).await;
    assert!(!exact.body.contains("読みや綴りの近い資料"), "{}", exact.body);
    // And the API says it too.
    let json = get(&app, &format!("/api/v1/tosho/search?q={}", percent("でんししょせぎ zzzz"))).await;
    let json: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!((json["near"].as_bool(), json["unmatched_words"][0].as_str()), (Some(true), Some("zzzz")));
}
